"""The book endpoints: ``/book`` and ``/book/<id>``."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request, url_for
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import ETags
from werkzeug.http import parse_etags
from werkzeug.routing import BaseConverter

from bookapi.config import MAX_BOOK_ID
from bookapi.cursors import InvalidCursor, decode_cursor, encode_cursor
from bookapi.errors import PROBLEM_MEDIA_TYPE, Problem, ProblemSchema
from bookapi.jsonbody import read_json_object
from bookapi.models import Book
from bookapi.schemas import (
    BookInSchema,
    BookListQuerySchema,
    BookPageSchema,
    BookPatchSchema,
    BookPutSchema,
    BookSchema,
)
from bookapi.store import (
    BookNotFound,
    BookStore,
    Precondition,
    PreconditionFailed,
    WriteResult,
)

JSON = ("application/json",)
MERGE_PATCH = ("application/merge-patch+json", "application/json")
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
    # An unknown query parameter, often a typo such as ?autor=, is an error
    # rather than silently ignored.
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def load_querystring(self, req: Any, schema: ma.Schema) -> Any:
        repeated = sorted(
            {name for name in req.args if len(req.args.getlist(name)) > 1}
        )
        if repeated:
            raise Problem(
                400,
                f"Query parameters may appear only once: {', '.join(repeated)}.",
                [
                    {"parameter": name, "detail": "Given more than once."}
                    for name in repeated
                ],
            )
        return super().load_querystring(req, schema)

    def _raw_load_json(self, req: Any) -> Any:
        return read_json_object(req, MERGE_PATCH if req.method == "PATCH" else JSON)


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
LINK_HEADER = {
    "Link": {
        "description": 'The next page (RFC 8288, rel="next"); absent on the last page.',
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
    "schema": {"type": "string", "minLength": 1},
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


def precondition_header(name: str) -> ETags | None:
    """Parse a write's ``If-Match`` or ``If-None-Match``, or None when absent.

    A header that is present but contains no entity tag (empty, or not ``*``
    or a list of quoted tags) is a 400, because ignoring it would turn the
    conditional write that the client sent into an unconditional one.
    """
    value = request.headers.get(name)
    if value is None:
        return None
    etags = parse_etags(value)
    if not etags:
        raise Problem(
            400,
            f"Invalid {name} {value[:40]!r}: send * or a list of quoted "
            'entity tags such as "abc", "def".',
        )
    return etags


def write_precondition(allow_create_only: bool) -> Precondition:
    """Read ``If-Match`` and ``If-None-Match`` of a write request."""
    if_match = precondition_header("If-Match")
    if_none_match = precondition_header("If-None-Match")
    exists: bool | None = None
    if if_none_match is not None:
        if not allow_create_only:
            raise Problem(400, f"If-None-Match is not supported on {request.method}.")
        if not if_none_match.star_tag:
            raise Problem(400, "If-None-Match on a write accepts only *.")
        exists = False
    if if_match is not None:
        if exists is False:
            raise Problem(400, "Send either If-Match or If-None-Match, not both.")
        if if_match.star_tag:
            exists = True
        else:
            # Werkzeug parses the empty entity tag "" as None. No version is empty.
            versions = frozenset(
                tag for tag in if_match.as_set(include_weak=False) if tag
            )
            if not versions:
                # Weak tags never match in If-Match (RFC 9110, strong comparison).
                raise Problem(
                    412, "If-Match needs a strong, non-empty ETag: none matches."
                )
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
    if request.if_none_match:
        detail = f"Book {book_id} already exists, and If-None-Match: * only creates."
    else:
        detail = (
            f"Book {book_id} does not match If-Match: it is missing or has "
            "changed since that ETag was read. GET it again and retry."
        )
    return Problem(412, detail)


ERROR_DESCRIPTIONS = {
    400: "Invalid request: body, parameter, header or cursor.",
    404: "No such book.",
    412: "A precondition (If-Match or If-None-Match) failed.",
    413: "The body is larger than 64 KiB.",
    415: "Unsupported Content-Type.",
    503: "DynamoDB is unavailable or throttling; retry after Retry-After.",
}


def errors(*statuses: int) -> Any:
    """Document problem-details responses for ``statuses``."""

    def apply(func: Any) -> Any:
        for status in statuses:
            func = blp.alt_response(
                status,
                schema=ProblemSchema,
                description=ERROR_DESCRIPTIONS[status],
                content_type=PROBLEM_MEDIA_TYPE,
                headers=RETRY_AFTER_HEADER if status == 503 else None,
            )(func)
        return func

    return apply


def cursor_secret() -> bytes:
    secret = current_app.config.get("CURSOR_SECRET") or (
        "bookapi-cursor:" + store().model.Meta.table_name
    )
    return str(secret).encode("utf-8")


def read_cursor(cursor: str, query: dict[str, str]) -> dict[str, Any]:
    """Decode a cursor made for ``query``, or raise a 400 problem."""
    try:
        start_key = decode_cursor(cursor_secret(), query, cursor)
    except InvalidCursor as error:
        raise Problem(
            400,
            f"Invalid cursor: {error} Start again without a cursor.",
            [{"parameter": "cursor", "detail": str(error)}],
        ) from None
    return start_key


@blp.get("")
@blp.arguments(BookListQuerySchema, location="query", as_kwargs=True)
@blp.response(200, BookPageSchema, headers=LINK_HEADER)
@errors(400, 503)
def list_books(limit: int, cursor: str | None = None, **filters: str) -> Any:
    """List books a page at a time, optionally by exact author or genre"""
    query = dict(filters)
    start_key = read_cursor(cursor, query) if cursor else None
    page = store().page(limit, start_key, **filters)

    body: dict[str, Any] = {"items": [book.to_dict() for book in page.books]}
    headers: dict[str, str] = {}
    if page.next_key is not None:
        token = encode_cursor(cursor_secret(), query, page.next_key)
        params: dict[str, Any] = {"limit": limit, "cursor": token, **filters}
        next_url = url_for("books.list_books", **params)
        body["next"] = next_url
        headers["Link"] = f'<{next_url}>; rel="next"'
    return body, 200, headers


@blp.post("")
@blp.arguments(BookInSchema, description="The whole book; an existing id is replaced.")
@blp.doc(parameters=[IF_MATCH, IF_NONE_MATCH_WRITE])
@blp.response(
    201,
    BookSchema,
    description="Created.",
    headers={**ETAG_HEADER, **LOCATION_HEADER},
)
@blp.alt_response(200, schema=BookSchema, description="Replaced.", headers=ETAG_HEADER)
@errors(400, 412, 413, 415, 503)
def create_book(fields: dict[str, Any]) -> Any:
    """Store a book, replacing any book with the same id"""
    book_id = fields.pop("bookId")
    return put_book(book_id, fields)


@blp.get("/<bookid:book_id>")
@blp.doc(parameters=[IF_NONE_MATCH_READ])
@blp.response(200, BookSchema, headers=ETAG_HEADER)
@blp.alt_response(304, description="Not modified.", headers=ETAG_HEADER)
@errors(400, 404, 503)
def get_book(book_id: int) -> Any:
    """Get a book"""
    try:
        book = store().get(book_id)
    except BookNotFound:
        raise not_found(book_id) from None
    if request.if_none_match.contains_weak(book.version):
        return Response(status=304, headers={"ETag": f'"{book.version}"'})
    return with_etag(book)


@blp.put("/<bookid:book_id>")
@blp.arguments(BookPutSchema, description="The whole book.")
@blp.doc(parameters=[IF_MATCH, IF_NONE_MATCH_WRITE])
@blp.response(
    201,
    BookSchema,
    description="Created.",
    headers={**ETAG_HEADER, **LOCATION_HEADER},
)
@blp.alt_response(200, schema=BookSchema, description="Replaced.", headers=ETAG_HEADER)
@errors(400, 412, 413, 415, 503)
def replace_book(fields: dict[str, Any], book_id: int) -> Any:
    """Create or replace a book at its own URL"""
    check_body_id(fields, book_id)
    return put_book(book_id, fields)


@blp.patch("/<bookid:book_id>")
@blp.arguments(
    BookPatchSchema,
    description="A JSON Merge Patch: null removes author or genre.",
    content_type="application/merge-patch+json",
)
@blp.doc(parameters=[IF_MATCH])
@blp.response(200, BookSchema, headers=ETAG_HEADER)
@errors(400, 404, 412, 413, 415, 503)
def patch_book(changes: dict[str, Any], book_id: int) -> Any:
    """Change some fields of a book"""
    check_body_id(changes, book_id)
    try:
        book = store().patch(book_id, changes, write_precondition(False))
    except BookNotFound:
        raise not_found(book_id) from None
    except PreconditionFailed:
        raise precondition_failed(book_id) from None
    return with_etag(book)


@blp.delete("/<bookid:book_id>")
@blp.doc(parameters=[IF_MATCH])
@blp.response(200, BookSchema, description="The removed book.")
@errors(400, 404, 412, 503)
def delete_book(book_id: int) -> Any:
    """Delete a book and return it"""
    try:
        book = store().delete(book_id, write_precondition(allow_create_only=False))
    except BookNotFound:
        raise not_found(book_id) from None
    except PreconditionFailed:
        raise precondition_failed(book_id) from None
    return book.to_dict()


def put_book(book_id: int, fields: dict[str, Any]) -> BookResponse:
    try:
        result = store().put(
            book_id, fields, write_precondition(allow_create_only=True)
        )
    except PreconditionFailed:
        raise precondition_failed(book_id) from None
    return write_response(result)


def check_body_id(fields: dict[str, Any], book_id: int) -> None:
    """Reject a ``bookId`` in the body that differs from the path's."""
    body_id = fields.pop("bookId", book_id)
    if body_id != book_id:
        raise Problem(
            400,
            f"The body's bookId {body_id} differs from the path's {book_id}.",
            [{"pointer": "#/bookId", "detail": "Must equal the id in the path."}],
        )
