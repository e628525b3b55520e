"""Marshmallow schemas: they validate requests and describe the API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from bookapi.config import MAX_BOOK_ID

# Sized for real catalogue data: in the goodbooks-10k catalogue the longest
# title has 186 characters and the longest author list 742.
MAX_NAME_LENGTH = 512
MAX_AUTHOR_LENGTH = 1024
MAX_GENRE_LENGTH = 128
# author and genre are partition keys of global secondary indexes, which
# DynamoDB limits to 2048 bytes (UTF-8). Neither moto nor dynalite checks it.
MAX_INDEX_KEY_BYTES = 2048

READ_ONLY_FIELDS = ("createdAt", "updatedAt", "version")


class StrictInteger(ma.fields.Integer):
    """A JSON integer: rejects booleans, floats such as 1.5 or 7.0, and strings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be empty or only whitespace.")


def _within_index_key_limit(value: str) -> None:
    if len(value.encode("utf-8")) > MAX_INDEX_KEY_BYTES:
        raise ma.ValidationError(
            f"Longer than {MAX_INDEX_KEY_BYTES} bytes in UTF-8, "
            "the maximum for a DynamoDB index key."
        )


# The OpenAPI form of _not_blank: at least one character that is not
# whitespace.
NOT_BLANK = {"minLength": 1, "pattern": r"\S"}


def _text(
    max_length: int, metadata: dict[str, Any] | None = None, **kwargs: Any
) -> ma.fields.String:
    return ma.fields.String(
        validate=[_not_blank, validate.Length(max=max_length)],
        metadata={**NOT_BLANK, **(metadata or {})},
        **kwargs,
    )


def _index_key_text(
    max_length: int, metadata: dict[str, Any] | None = None, **kwargs: Any
) -> ma.fields.String:
    return ma.fields.String(
        validate=[
            _not_blank,
            validate.Length(max=max_length),
            _within_index_key_limit,
        ],
        metadata={**NOT_BLANK, **(metadata or {})},
        **kwargs,
    )


BOOK_ID_RANGE = validate.Range(min=1, max=MAX_BOOK_ID)


class _RejectReadOnly(ma.Schema):
    @ma.pre_load
    def reject_read_only(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            sent = [name for name in READ_ONLY_FIELDS if name in data]
            if sent:
                raise ma.ValidationError(
                    {name: ["Read-only field: the server sets it."] for name in sent}
                )
        return data


class BookInSchema(_RejectReadOnly):
    """A whole book as a client sends it."""

    bookId = StrictInteger(
        required=True,
        validate=BOOK_ID_RANGE,
        metadata={"description": f"The book's id, from 1 to {MAX_BOOK_ID}."},
    )
    name = _text(MAX_NAME_LENGTH, required=True, metadata={"description": "Title."})
    author = _index_key_text(
        MAX_AUTHOR_LENGTH, metadata={"description": "Author or authors."}
    )
    genre = _index_key_text(MAX_GENRE_LENGTH, metadata={"description": "Genre."})


class BookSchema(ma.Schema):
    """A stored book, with the fields the server keeps."""

    bookId = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    author = ma.fields.String()
    genre = ma.fields.String()
    createdAt = ma.fields.String(
        required=True,
        metadata={
            "description": "When the book was created (UTC).",
            "format": "date-time",
        },
    )
    updatedAt = ma.fields.String(
        required=True,
        metadata={
            "description": "When the book last changed (UTC).",
            "format": "date-time",
        },
    )
    version = ma.fields.String(
        required=True,
        metadata={"description": "Changes on every write; the ETag, unquoted."},
    )


class BookPutSchema(BookInSchema):
    """A whole book sent to its own URL; ``bookId`` may be left out."""

    bookId = StrictInteger(
        validate=BOOK_ID_RANGE,
        metadata={"description": "Optional; when sent, it must equal the path id."},
    )


class BookPatchSchema(_RejectReadOnly):
    """A JSON Merge Patch (RFC 7396) of a book: only the given fields change.

    ``null`` removes an optional field; ``name`` cannot be removed.
    """

    bookId = StrictInteger(
        validate=BOOK_ID_RANGE,
        metadata={"description": "Optional; when sent, it must equal the path id."},
    )
    name = _text(MAX_NAME_LENGTH, metadata={"description": "Title."})
    author = _index_key_text(
        MAX_AUTHOR_LENGTH,
        allow_none=True,
        metadata={"description": "Author or authors; null removes it."},
    )
    genre = _index_key_text(
        MAX_GENRE_LENGTH,
        allow_none=True,
        metadata={"description": "Genre; null removes it."},
    )


DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class QueryInteger(StrictInteger):
    """An integer query parameter written in ASCII digits only.

    Python's ``int`` also reads digits of other scripts (Arabic-Indic seven
    is 7), which would let two different URLs mean the same page.
    """

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> int:
        if not (isinstance(value, str) and value.isascii() and value.isdigit()):
            raise self.make_error("invalid")
        return super()._deserialize(int(value), attr, data, **kwargs)


class BookListQuerySchema(ma.Schema):
    """Query parameters of the book list."""

    class Meta:
        unknown = ma.RAISE

    limit = QueryInteger(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={
            "description": f"Books per page, 1 to {MAX_PAGE_SIZE}; "
            f"{DEFAULT_PAGE_SIZE} by default."
        },
    )
    cursor = ma.fields.String(
        validate=validate.Length(min=1, max=4096),
        metadata={"description": "The opaque cursor of the previous page's next link."},
    )
    author = _index_key_text(
        MAX_AUTHOR_LENGTH, metadata={"description": "Exact author; not with genre."}
    )
    genre = _index_key_text(
        MAX_GENRE_LENGTH, metadata={"description": "Exact genre; not with author."}
    )

    @ma.validates_schema
    def one_filter(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "author" in data and "genre" in data:
            raise ma.ValidationError("Filter by author or by genre, not both.", "genre")


class BookPageSchema(ma.Schema):
    """One page of books."""

    items = ma.fields.List(ma.fields.Nested(BookSchema), required=True)
    next = ma.fields.String(
        metadata={"description": "URL of the next page; absent on the last page."}
    )
