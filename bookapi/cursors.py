"""Opaque page cursors that detect tampering, truncation and reuse.

A cursor is ``base64url(tag + payload)``: the payload is the DynamoDB key to
start after and the query it belongs to, and the tag is the first 16 bytes of
an HMAC-SHA256 of the payload. The HMAC key is ``CURSOR_SECRET`` when set.
By default it is derived from the table name: that catches accidental edits
and truncation, but a determined client can forge a cursor. A forged cursor can
only start a page at another key of the same table and query, because the
decoded key is checked against the query before any DynamoDB call. So no
cursor can make DynamoDB reject the request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, TypeGuard

from bookapi.config import MAX_BOOK_ID

TAG_BYTES = 16


class InvalidCursor(ValueError):
    """The cursor was not made by this API for this query."""


def _tag(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()[:TAG_BYTES]


def encode_cursor(
    secret: bytes, query: Mapping[str, str], key: Mapping[str, Any]
) -> str:
    """Make a cursor that resumes ``query`` after the DynamoDB ``key``."""
    payload = json.dumps(
        {"q": query, "k": key}, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")
    token = base64.urlsafe_b64encode(_tag(secret, payload) + payload)
    return token.decode("ascii").rstrip("=")


def decode_cursor(
    secret: bytes, query: Mapping[str, str], cursor: str
) -> dict[str, Any]:
    """Return the DynamoDB key stored in ``cursor``, made for ``query``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCursor("The cursor is not valid base64url.") from None
    tag, payload = raw[:TAG_BYTES], raw[TAG_BYTES:]
    if len(tag) < TAG_BYTES or not hmac.compare_digest(tag, _tag(secret, payload)):
        raise InvalidCursor("The cursor was changed or truncated.")
    try:
        data = json.loads(payload)
    except ValueError:
        raise InvalidCursor("The cursor's content is not valid.") from None
    if not isinstance(data, dict) or data.get("q") != dict(query):
        raise InvalidCursor("The cursor belongs to another query.")
    key = data.get("k")
    if not is_start_key(key, query):
        raise InvalidCursor("The cursor's key does not fit this query.")
    return key


def is_start_key(key: Any, query: Mapping[str, str]) -> TypeGuard[dict[str, Any]]:
    """Tell whether ``key`` is a DynamoDB key that can start a page of ``query``.

    The key of a Scan is the book's id. The key of an index Query also has the
    indexed attribute, which must hold the value searched for.
    """
    if not isinstance(key, dict) or set(key) != {"bookId", *query}:
        return False
    book_id = key["bookId"]
    if not (isinstance(book_id, dict) and set(book_id) == {"N"}):
        return False
    digits = book_id["N"]
    if not (isinstance(digits, str) and digits.isascii() and digits.isdigit()):
        return False
    if not 1 <= int(digits) <= MAX_BOOK_ID:
        return False
    return all(key[name] == {"S": value} for name, value in query.items())
