"""Input files read record by record, each with the line where it starts.

Line numbers are physical lines of the file, counted from 1, so a CSV record
whose quoted value spans three lines starts on the first of them. A UTF-8
byte order mark at the start of a file is skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from bookapi.jsonbody import InvalidJSON, loads_strict


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"


FORMAT_BY_SUFFIX = {
    ".csv": FileFormat.CSV,
    ".json": FileFormat.JSON,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
}


class SourceError(Exception):
    """The file cannot be read as its format at all, so no row is imported."""


def format_from_suffix(path: Path) -> FileFormat | None:
    return FORMAT_BY_SUFFIX.get(path.suffix.lower())


@dataclass(frozen=True)
class Record:
    """One record of the input: its fields, or why it could not be parsed.

    ``problems`` contains ``(field, reason)`` pairs; the field is empty when the
    problem concerns the whole record.
    """

    line: int
    data: dict[str, Any]
    problems: tuple[tuple[str, str], ...] = ()


class Source:
    """An open input file. Use it as a context manager, then iterate ``records()``.

    ``position`` is how many bytes of the file have been read so far and
    ``size`` the file's size, for progress reports.
    """

    #: Whether every value is text, as in CSV, where a book id comes as digits.
    text_values = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._file: io.BufferedReader | None = None

    def __enter__(self) -> Source:
        self._file = self.path.open("rb")
        self.open()
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

    @property
    def file(self) -> io.BufferedReader:
        if self._file is None:
            raise RuntimeError("Open the source with `with` first.")
        return self._file

    @property
    def position(self) -> int:
        # The operating system's offset: ahead of the parser by at most the
        # read buffers (a few KiB), which is close enough for a progress bar.
        return self.file.raw.tell()

    @property
    def columns(self) -> list[str] | None:
        """The CSV header's column names; None for JSON, which has no header."""
        return None

    def open(self) -> None:
        """Read what comes before the first record, such as a CSV header."""

    def records(self) -> Iterator[Record]:
        raise NotImplementedError


class CsvSource(Source):
    """A CSV file (RFC 4180, comma-separated) with a header line.

    An empty cell means the field is absent. Blank lines are skipped. Bytes
    that are not UTF-8 make the value they are in invalid, not the file.
    """

    text_values = True

    def open(self) -> None:
        text = io.TextIOWrapper(
            self.file, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        self._reader = csv.reader(text, strict=True)
        self._header: list[str] = []
        for row in self._reader:
            if row:
                self._header = row
                break
        else:
            raise SourceError(
                f"{self.path} is empty: a CSV file needs a header line first."
            )
        repeated = sorted(
            {name for name in self._header if self._header.count(name) > 1}
        )
        if repeated:
            raise SourceError(
                f"The CSV header of {self.path} names a column more than once: "
                + ", ".join(repeated)
            )

    @property
    def columns(self) -> list[str]:
        return list(self._header)

    def records(self) -> Iterator[Record]:
        header = self._header
        while True:
            line = self._reader.line_num + 1
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Record(line, {}, (("", f"Invalid CSV: {error}."),))
                continue
            if not row:
                continue
            if len(row) != len(header):
                reason = (
                    f"The row has {len(row)} fields but the header has {len(header)}."
                )
                yield Record(line, {}, (("", reason),))
                continue
            data = {
                name: value for name, value in zip(header, row, strict=True) if value
            }
            problems = tuple(
                (name, "The value is not valid UTF-8.")
                for name, value in data.items()
                if not _is_unicode(value)
            )
            yield Record(line, data, problems)


class JsonLinesSource(Source):
    """JSON Lines: one JSON object per line, parsed as strictly as API bodies."""

    def records(self) -> Iterator[Record]:
        for number, raw in enumerate(self.file, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                reason = f"The line is not valid UTF-8 (byte {error.start + 1})."
                yield Record(number, {}, (("", reason),))
                continue
            if not text.strip():
                continue
            try:
                value = loads_strict(text, subject="line")
            except InvalidJSON as error:
                yield Record(number, {}, (("", str(error)),))
                continue
            if not isinstance(value, dict):
                yield Record(number, {}, (("", "The line is not a JSON object."),))
                continue
            yield Record(number, value)


class JsonArraySource(Source):
    """A JSON array of objects, each parsed as strictly as an API body.

    The whole file is read and its syntax checked before the first record is
    returned, so a file that is not a JSON array imports nothing.
    NOTE: memory grows with the file; JSON Lines is the format for large files.
    """

    def open(self) -> None:
        data = self.file.read()
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            self._text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise SourceError(
                f"{self.path} is not valid UTF-8 (line {line}, byte {error.start + 1})."
            ) from None
        self._spans = list(_array_element_spans(self._text, self.path))
        self._done = 0

    @property
    def position(self) -> int:
        if not self._spans:
            return self.size
        return self.size * self._done // len(self._spans)

    def records(self) -> Iterator[Record]:
        for index, (line, start, end) in enumerate(self._spans):
            self._done = index + 1
            try:
                value = loads_strict(self._text[start:end], subject="element")
            except InvalidJSON as error:
                yield Record(line, {}, (("", str(error)),))
                continue
            if not isinstance(value, dict):
                yield Record(line, {}, (("", "The element is not a JSON object."),))
                continue
            yield Record(line, value)


def _array_element_spans(text: str, path: Path) -> Iterator[tuple[int, int, int]]:
    """Yield ``(line, start, end)`` of each element of the JSON array in ``text``.

    A lenient decoder only finds where each element ends. The strict rules
    (no NaN, no duplicate keys) are applied to each element afterwards, so
    that such an element is one invalid row instead of an invalid file.
    """
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        raise SourceError(f"{path} is not a JSON array: it must start with '['.")
    position = _skip_space(text, position + 1)
    line, counted = 1, 0
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            line += text.count("\n", counted, position)
            counted = position
            end = _element_end(decoder, text, position, line, path)
            yield line, position, end
            position = _skip_space(text, end)
            if text.startswith(",", position):
                position = _skip_space(text, position + 1)
            elif text.startswith("]", position):
                position += 1
                break
            else:
                raise _unexpected(text, position, "',' or ']'", path)
    if _skip_space(text, position) < len(text):
        raise _unexpected(text, position, "the end of the file after ']'", path)


def _element_end(
    decoder: json.JSONDecoder, text: str, position: int, line: int, path: Path
) -> int:
    try:
        _, end = decoder.raw_decode(text, position)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}. No row was imported."
        ) from None
    except (ValueError, RecursionError) as error:
        # Integers past Python's digit limit, or absurdly deep nesting.
        raise SourceError(
            f"{path}: the element at line {line} cannot be parsed ({error}). "
            "No row was imported."
        ) from None
    return end


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _unexpected(text: str, position: int, expected: str, path: Path) -> SourceError:
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return SourceError(
        f"{path} is not valid JSON: expected {expected} at line {line} "
        f"column {column}. No row was imported."
    )


def _is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


SOURCE_CLASSES: dict[FileFormat, type[Source]] = {
    FileFormat.CSV: CsvSource,
    FileFormat.JSON: JsonArraySource,
    FileFormat.JSONL: JsonLinesSource,
}


def open_source(path: Path, file_format: FileFormat) -> Source:
    """Return the source for ``path``; enter it with ``with`` to read it."""
    return SOURCE_CLASSES[file_format](path)
