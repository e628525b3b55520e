"""Marshmallow schemas: they validate requests and describe the API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from bookapi.config import MAX_BOOK_ID

# Sized for real catalogue data: in the goodbooks-10k catalogue the longest
# title has 186 characters and the longest author list 742.
MAX_NAME_LENGTH = 512
MAX_AUTHOR_LENGTH = 2048
MAX_GENRE_LENGTH = 128

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


def _text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=[_not_blank, validate.Length(max=max_length)], **kwargs
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
    author = _text(MAX_AUTHOR_LENGTH, metadata={"description": "Author or authors."})
    genre = _text(MAX_GENRE_LENGTH, metadata={"description": "Genre."})


class BookSchema(ma.Schema):
    """A stored book, with the fields the server keeps."""

    bookId = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    author = ma.fields.String()
    genre = ma.fields.String()
    createdAt = ma.fields.String(
        required=True, metadata={"description": "When the book was created (UTC)."}
    )
    updatedAt = ma.fields.String(
        required=True, metadata={"description": "When the book last changed (UTC)."}
    )
    version = ma.fields.String(
        required=True,
        metadata={"description": "Changes on every write; the ETag, unquoted."},
    )
