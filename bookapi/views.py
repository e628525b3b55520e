"""The book endpoints: ``/book`` and ``/book/<id>``."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, request, url_for
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from bookapi.config import MAX_BOOK_ID
from bookapi.errors import Problem, ProblemSchema
from bookapi.jsonbody import read_json_object
from bookapi.models import Book
from bookapi.schemas import BookInSchema, BookSchema
from bookapi.store import (
    BookNotFound,
    BookStore,
    Precondition,
    PreconditionFailed,
    WriteResult,
)

JSON = ("application/json",)
ASCII_DIGITS = re.compile(r"[0-9]{1,16}", re.ASCII)


class BookIdConverter(BaseConverter):
    """A book id in a path: ASCII digits from 1 to 2^53 - 1.

    Anything else in that path segment is a 400, not a 404, so a client
    learns that the id is malformed rather than missing. Digits of other
    scripts, which Python's ``int`` accepts, are rejected.
    """

    regex = "[^/]+"

    def to_python(self, value: str) -> int:
        if ASCII_DIGITS.fullmatch(value):
            book_id = int(value)
            if 1 <= book_id <= MAX_BOOK_ID:
                return book_id
        raise Problem(
            400,
            f"Invalid book id {value[:40]!r}: "
            f"it must be an integer from 1 to {MAX_BOOK_ID}.",
            [{"parameter": "bookId", "detail": "Not an integer in range."}],
        )

    def to_url(self, value: Any) -> str:
        return str(int(value))


class StrictJSONParser(FlaskParser):
    """webargs parser that reads bodies as strict JSON and fails with 400."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Any) -> Any:
        return read_json_object(req, JSON)


class BooksBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictJSONParser()


blp = BooksBlueprint(
    "books", __name__, url_prefix="/book", description="Books in the catalogue."
)

ETAG_HEADER = {
    "ETag": {"description": "The book's version, quoted.", "schema": {"type": "string"}}
}
LOCATION_HEADER = {
    "Location": {
        "description": "URL of the created book.",
        "schema": {"type": "string"},
    }
}
RETRY_AFTER_HEADER = {
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "Write only if the book's ETag is one of these (or * for any).",
}
IF_NONE_MATCH_WRITE = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string", "enum": ["*"]},
    "description": "* creates only: 412 when the book exists.",
}
IF_NONE_MATCH_READ = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "304 when the book's ETag is one of these.",
}


def store() -> BookStore:
    store: BookStore = current_app.extensions["bookapi"]
    return store


def write_precondition(allow_create_only: bool) -> Precondition:
    """Read ``If-Match`` and ``If-None-Match`` of a write request."""
    if_match = request.if_match
    if_none_match = request.if_none_match
    exists: bool | None = None
    if if_none_match:
        if not (allow_create_only and if_none_match.star_tag):
            raise Problem(400, "If-None-Match on this write accepts only *.")
        exists = False
    if if_match:
        if exists is False:
            raise Problem(400, "Send either If-Match or If-None-Match, not both.")
        if if_match.star_tag:
            exists = True
        else:
            versions = frozenset(if_match.as_set(include_weak=False))
            if not versions:
                # Weak tags never match in If-Match (RFC 9110, strong comparison).
                raise Problem(412, "If-Match needs a strong ETag, not a weak one.")
            return Precondition(versions=versions, exists=exists)
    return Precondition(exists=exists)


BookResponse = tuple[dict[str, Any], int, dict[str, str]]


def with_etag(book: Book, status: int = 200, **headers: str) -> BookResponse:
    return book.to_dict(), status, {"ETag": f'"{book.version}"', **headers}


def write_response(result: WriteResult) -> BookResponse:
    if not result.created:
        return with_etag(result.book)
    location = url_for("books.get_book", book_id=result.book.book_id)
    return with_etag(result.book, 201, Location=location)


def not_found(book_id: int) -> Problem:
    return Problem(404, f"No book has the id {book_id}.")


def precondition_failed(book_id: int) -> Problem:
    return Problem(
        412,
        f"Book {book_id} does not match the request's precondition: it exists, "
        "or changed since you read it. GET it again and retry.",
    )


def common_errors(*statuses: int) -> Any:
    decorators = [blp.alt_response(status, schema=ProblemSchema) for status in statuses]

    def apply(func: Any) -> Any:
        for decorator in decorators:
            func = decorator(func)
        return func

    return apply


@blp.post("")
@blp.arguments(BookInSchema, description="The whole book; an existing id is replaced.")
@blp.doc(parameters=[IF_MATCH, IF_NONE_MATCH_WRITE])
@blp.response(
    201, BookSchema, description="Created.", headers={**ETAG_HEADER, **LOCATION_HEADER}
)
@blp.alt_response(200, schema=BookSchema, description="Replaced.", headers=ETAG_HEADER)
@common_errors(400, 412, 413, 415, 503)
def create_book(fields: dict[str, Any]) -> Any:
    """Store a book, replacing any book with the same id"""
    book_id = fields.pop("bookId")
    try:
        result = store().put(
            book_id, fields, write_precondition(allow_create_only=True)
        )
    except PreconditionFailed:
        raise precondition_failed(book_id) from None
    return write_response(result)


@blp.get("/<bookid:book_id>")
@blp.doc(parameters=[IF_NONE_MATCH_READ])
@blp.response(200, BookSchema, headers=ETAG_HEADER)
@blp.alt_response(304, description="Not modified.")
@common_errors(400, 404, 503)
def get_book(book_id: int) -> Any:
    """Get a book"""
    try:
        book = store().get(book_id)
    except BookNotFound:
        raise not_found(book_id) from None
    if request.if_none_match.contains_weak(book.version):
        return Response(status=304, headers={"ETag": f'"{book.version}"'})
    return with_etag(book)


@blp.delete("/<bookid:book_id>")
@blp.doc(parameters=[IF_MATCH])
@blp.response(200, BookSchema, description="The removed book.")
@common_errors(400, 404, 412, 503)
def delete_book(book_id: int) -> Any:
    """Delete a book and return it"""
    try:
        book = store().delete(book_id, write_precondition(allow_create_only=False))
    except BookNotFound:
        raise not_found(book_id) from None
    except PreconditionFailed:
        raise precondition_failed(book_id) from None
    return book.to_dict()
