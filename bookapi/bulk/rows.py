"""Column mappings and the validation of each input record as a book.

A record is checked with :class:`~bookapi.schemas.BookInSchema`, the schema
that validates ``POST /book``, so an import accepts exactly the books the
API accepts. The API rejects the server's own fields (``createdAt``,
``updatedAt``, ``version``) from clients, but an import accepts them as a
group, as an export writes them, and stores them unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import marshmallow as ma

from bookapi.bulk.sources import Record
from bookapi.schemas import READ_ONLY_FIELDS, BookInSchema

BOOK_FIELDS = tuple(BookInSchema().fields)
SERVER_FIELDS = READ_ONLY_FIELDS
ALL_FIELDS = BOOK_FIELDS + SERVER_FIELDS
CONTENT_FIELDS = tuple(name for name in BOOK_FIELDS if name != "bookId")

#: Column mappings that ship with bookapi, by name: input column to book field.
MAPPINGS: dict[str, dict[str, str]] = {
    # goodbooks-10k's books.csv (github.com/zygmuntz/goodbooks-10k) has no
    # genre column; its other columns (ISBNs, ratings, ...) are ignored.
    "goodbooks-10k": {"book_id": "bookId", "title": "name", "authors": "author"},
}

# The form of utc_now() in bookapi.store, the only form the server writes.
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", re.ASCII)
# The form of new_version() in bookapi.store: a UUID4 as 32 hex digits.
VERSION = re.compile(r"[0-9a-f]{32}", re.ASCII)
ASCII_DIGITS = re.compile(r"[0-9]{1,16}", re.ASCII)


class MappingError(ValueError):
    """A column mapping is invalid; the message names the column or field."""


@dataclass(frozen=True)
class ColumnMapping:
    """Renames input columns (or JSON keys) to book fields.

    With no renames, every column must already be named as a book field, and
    any other column is invalid, as an unknown field is in the API. With
    renames, columns that are neither renamed nor named as a book field are
    ignored, so a wide file such as goodbooks-10k can be imported as it is.
    """

    renames: Mapping[str, str]

    @classmethod
    def build(
        cls, preset: str | None, pairs: Iterable[tuple[str, str]]
    ) -> ColumnMapping:
        """Start from a shipped mapping (or none) and apply ``pairs`` on top."""
        renames: dict[str, str] = {}
        if preset is not None:
            if preset not in MAPPINGS:
                known = ", ".join(sorted(MAPPINGS))
                raise MappingError(f"Unknown mapping {preset!r}; known: {known}.")
            renames.update(MAPPINGS[preset])
        for column, field in pairs:
            if field not in ALL_FIELDS:
                raise MappingError(
                    f"Cannot map column {column!r} to {field!r}: a book has only "
                    + ", ".join(ALL_FIELDS)
                    + "."
                )
            # A later --map for a field replaces the preset's column for it.
            renames = {c: f for c, f in renames.items() if f != field}
            renames[column] = field
        return cls(renames)

    def apply(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Return the record under book field names, and the ignored keys."""
        if not self.renames:
            return dict(data), []
        targets = set(self.renames.values())
        fields: dict[str, Any] = {}
        ignored: list[str] = []
        for key, value in data.items():
            if key in self.renames:
                fields[self.renames[key]] = value
            elif key in ALL_FIELDS and key not in targets:
                fields[key] = value
            else:
                ignored.append(key)
        return fields, ignored

    def missing_fields(self, columns: Iterable[str]) -> list[str]:
        """Return the required book fields that none of ``columns`` provides."""
        provided, _ = self.apply(dict.fromkeys(columns, ""))
        return [name for name in ("bookId", "name") if name not in provided]

    def describe(self) -> list[list[str]]:
        """Return the renames as sorted pairs, as a checkpoint records them."""
        return sorted([column, field] for column, field in self.renames.items())


@dataclass(frozen=True)
class RowProblem:
    """A reason the import skipped one record: its line, field and reason."""

    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class StoredFields:
    """The server's fields of a book, as an export wrote them."""

    created_at: str
    updated_at: str
    version: str


@dataclass(frozen=True)
class BookRow:
    """A valid record: a whole book, as ``POST /book`` would take it."""

    line: int
    book_id: int
    fields: dict[str, str]
    stored: StoredFields | None = None


def _check_timestamp(value: str) -> None:
    valid = TIMESTAMP.fullmatch(value) is not None
    if valid:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            valid = False
    if not valid:
        raise ma.ValidationError(
            "Must be a UTC time with milliseconds, such as 2026-12-04T15:43:23.315Z."
        )


class StoredFieldsSchema(ma.Schema):
    """The server's fields of a stored book, when an import restores them."""

    createdAt = ma.fields.String(required=True, validate=_check_timestamp)
    updatedAt = ma.fields.String(required=True, validate=_check_timestamp)
    version = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            VERSION, error="Must be 32 lowercase hexadecimal digits."
        ),
    )

    @ma.validates_schema(skip_on_field_errors=True)
    def check_order(self, data: dict[str, str], **kwargs: Any) -> None:
        if data["updatedAt"] < data["createdAt"]:
            raise ma.ValidationError(
                "Must not be earlier than createdAt.", field_name="updatedAt"
            )


class RowValidator:
    """Turns records into :class:`BookRow` objects or lists of problems.

    It remembers every book id it accepted, and rejects a later record with
    the same id, so that the first record of a book wins whatever the order
    in which parallel batches are written.
    NOTE: that memory grows with the number of rows (about 100 bytes each).
    """

    def __init__(self, mapping: ColumnMapping, text_values: bool) -> None:
        self.mapping = mapping
        self.text_values = text_values
        self.ignored: set[str] = set()
        self._book_schema = BookInSchema()
        self._stored_schema = StoredFieldsSchema()
        self._first_lines: dict[int, int] = {}

    def validate(self, record: Record) -> BookRow | list[RowProblem]:
        line = record.line
        if record.problems:
            return [
                RowProblem(line, field, reason) for field, reason in record.problems
            ]
        data, ignored = self.mapping.apply(record.data)
        self.ignored.update(ignored)
        if self.text_values:
            data = self._convert_text(data)

        book = {k: v for k, v in data.items() if k not in SERVER_FIELDS}
        server = {k: v for k, v in data.items() if k in SERVER_FIELDS}
        problems: list[RowProblem] = []
        try:
            fields: dict[str, Any] = self._book_schema.load(book)
        except ma.ValidationError as error:
            problems += _problems(line, error)
        stored = None
        if server:
            missing = [name for name in SERVER_FIELDS if name not in server]
            for name in missing:
                problems.append(
                    RowProblem(
                        line,
                        name,
                        "Missing: createdAt, updatedAt and version come together.",
                    )
                )
            if not missing:
                try:
                    loaded = self._stored_schema.load(server)
                except ma.ValidationError as error:
                    problems += _problems(line, error)
                else:
                    stored = StoredFields(
                        loaded["createdAt"], loaded["updatedAt"], loaded["version"]
                    )
        if problems:
            return problems

        book_id = fields.pop("bookId")
        first = self._first_lines.setdefault(book_id, line)
        if first != line:
            reason = f"Book {book_id} already came at line {first}; the first wins."
            return [RowProblem(line, "bookId", reason)]
        return BookRow(line, book_id, fields, stored)

    def _convert_text(self, data: dict[str, Any]) -> dict[str, Any]:
        """Read a CSV book id written in ASCII digits as an integer.

        Anything else stays text, which the schema then rejects as the API
        does (``7.0``, ``1e3`` and `` 7`` are not integers).
        """
        book_id = data.get("bookId")
        if isinstance(book_id, str) and ASCII_DIGITS.fullmatch(book_id):
            return {**data, "bookId": int(book_id)}
        return data


def _problems(line: int, error: ma.ValidationError) -> list[RowProblem]:
    messages = error.messages
    if not isinstance(messages, dict):
        return [RowProblem(line, "", str(reason)) for reason in _as_list(messages)]
    problems = []
    for field, reasons in messages.items():
        name = "" if field == ma.exceptions.SCHEMA else str(field)
        problems += [
            RowProblem(line, name, str(reason)) for reason in _as_list(reasons)
        ]
    return problems


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
