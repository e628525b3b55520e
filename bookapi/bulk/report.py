"""The problem report of an import: one entry per skipped row and field.

The report is CSV with the columns ``line``, ``field`` and ``reason``, or
JSON Lines with those keys when its name ends in ``.jsonl``. ``field`` is
the book field after column mapping, or empty when the problem concerns the
whole row (invalid CSV, not a JSON object). Each run writes its report anew,
a resumed run included, since every row is validated again.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import TracebackType
from typing import TextIO

from bookapi.bulk.rows import RowProblem

COLUMNS = ("line", "field", "reason")


class ProblemReport:
    """A report file open for writing; use it as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.json_lines = path.suffix.lower() in (".jsonl", ".ndjson")
        self.count = 0
        self._file: TextIO | None = None

    def __enter__(self) -> ProblemReport:
        self._file = self.path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file)
        if not self.json_lines:
            self._csv.writerow(COLUMNS)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def add(self, problem: RowProblem) -> None:
        if self._file is None:
            raise RuntimeError("Open the report with `with` first.")
        self.count += 1
        if self.json_lines:
            entry = {
                "line": problem.line,
                "field": problem.field,
                "reason": problem.reason,
            }
            self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        else:
            self._csv.writerow((problem.line, problem.field, problem.reason))

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
