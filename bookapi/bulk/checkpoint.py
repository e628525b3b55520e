"""The checkpoint of an import: which input lines are done, for ``--resume``.

A checkpoint is a small JSON file: what it belongs to (the input's SHA-256,
the format, the column mapping, the table and endpoint) and the done lines as
merged, sorted, inclusive ranges such as ``[[1, 5200], [5226, 5300]]``. A
line is done when its record was written, was already stored unchanged, or
was reported as invalid. Parallel batches finish out of order, so the
ranges can have gaps: at most one per batch in flight when the import
stopped.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint cannot be used for this import; the message gives the reason."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_path_for(report: Path) -> Path:
    """Return where the checkpoint of an import with this report lives."""
    return report.with_name(report.stem + ".checkpoint.json")


class Checkpoint:
    """Done line ranges of one import, saved atomically to ``path``."""

    def __init__(self, path: Path, identity: dict[str, Any]) -> None:
        self.path = path
        self.identity = identity
        self._starts: list[int] = []
        self._ends: list[int] = []

    @classmethod
    def load(cls, path: Path, identity: dict[str, Any]) -> Checkpoint:
        """Load the checkpoint at ``path``, which must match ``identity``."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data["formatVersion"] != FORMAT_VERSION:
                raise ValueError(f"format version {data['formatVersion']}")
            ranges = [(int(first), int(last)) for first, last in data["done"]]
            saved = data["identity"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CheckpointError(
                f"Cannot read the checkpoint {path} ({error}); delete it to "
                "import from the start."
            ) from None
        different = [name for name in identity if saved.get(name) != identity[name]]
        if different:
            raise CheckpointError(
                f"The checkpoint {path} belongs to another import (different "
                + ", ".join(different)
                + "); run without --resume to import from the start."
            )
        checkpoint = cls(path, identity)
        for first, last in ranges:
            checkpoint.mark_done(first, last)
        return checkpoint

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return list(zip(self._starts, self._ends, strict=True))

    def is_done(self, line: int) -> bool:
        index = bisect.bisect_right(self._starts, line) - 1
        return index >= 0 and line <= self._ends[index]

    def done_through(self) -> int:
        """Return the last line L such that every line up to L is done, or 0."""
        if self._starts and self._starts[0] == 1:
            return self._ends[0]
        return 0

    def mark_done(self, first: int, last: int) -> None:
        """Add lines ``first`` to ``last`` (inclusive), merging touching ranges."""
        if last < first:
            return
        index = bisect.bisect_left(self._starts, first)
        # Merge with the range before when it touches or overlaps.
        if index > 0 and self._ends[index - 1] >= first - 1:
            index -= 1
            first = self._starts[index]
            last = max(last, self._ends[index])
            del self._starts[index], self._ends[index]
        # Swallow the ranges after that start inside the new one or touch it.
        while index < len(self._starts) and self._starts[index] <= last + 1:
            last = max(last, self._ends[index])
            del self._starts[index], self._ends[index]
        self._starts.insert(index, first)
        self._ends.insert(index, last)

    def save(self) -> None:
        """Write the checkpoint to a temporary file, then rename it into place."""
        data = {
            "formatVersion": FORMAT_VERSION,
            "identity": self.identity,
            "done": [list(pair) for pair in self.ranges],
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(data) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)
