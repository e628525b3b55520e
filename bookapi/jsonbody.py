"""Strict JSON request bodies.

Python's ``json`` module accepts more than RFC 8259 JSON: ``NaN`` and
``Infinity``, numbers that overflow to infinity, duplicate keys (the last one
wins) and escapes that decode to lone surrogates, which DynamoDB then fails to
store. Bodies are parsed here with each of those rejected as a 400.
"""

from __future__ import annotations

import codecs
import json
import math
from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from bookapi.errors import Problem

# A book is one flat object; nothing valid comes close to this depth.
MAX_DEPTH = 16


class InvalidJSON(ValueError):
    """The body is not strict, standard JSON; the message gives the reason."""


def _reject_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not a JSON number.")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJSON(f"The number {text[:40]} is out of range.")
    return value


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidJSON(f"The key {key!r} appears more than once.")
        result[key] = value
    return result


def _check_values(value: Any) -> None:
    """Reject values nested deeper than MAX_DEPTH and strings that are not
    valid Unicode (lone surrogates written as \\u escapes)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidJSON(f"Values are nested deeper than {MAX_DEPTH} levels.")
        if isinstance(item, str):
            _check_unicode(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_unicode(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _check_unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidJSON("A string contains a lone surrogate escape.") from None


def parse_json(data: bytes) -> Any:
    """Parse a request body as strict JSON encoded in UTF-8 without a BOM."""
    if data.startswith(codecs.BOM_UTF8):
        raise InvalidJSON("The body starts with a byte order mark; send it without.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidJSON(
            f"The body is not valid UTF-8 (byte {error.start})."
        ) from None
    if not text.strip():
        raise InvalidJSON("The body is empty.")
    return loads_strict(text, subject="body")


def loads_strict(text: str, subject: str) -> Any:
    """Parse ``text`` as strict JSON, with the same rules as request bodies.

    ``subject`` names the text in error messages ("body", "line"), so that
    an :class:`InvalidJSON` reads "The line is not valid JSON: ...".
    """
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
        )
    except json.JSONDecodeError as error:
        raise InvalidJSON(
            f"The {subject} is not valid JSON: {error.msg} "
            f"at line {error.lineno} column {error.colno}."
        ) from None
    except RecursionError:
        raise InvalidJSON(
            f"Values are nested deeper than {MAX_DEPTH} levels."
        ) from None
    except ValueError as error:
        # Integers longer than Python's digit limit (4300 digits).
        if isinstance(error, InvalidJSON):
            raise
        raise InvalidJSON(f"A number in the {subject} is too long.") from None
    _check_values(value)
    return value


def read_json_object(request: Request, media_types: tuple[str, ...]) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise a problem.

    Raises 415 when the Content-Type is not one of ``media_types`` and 400
    when the body is not strict JSON or not an object.
    """
    if request.mimetype not in media_types:
        sent = request.mimetype or "none"
        raise Problem(
            415,
            f"Content-Type must be {' or '.join(media_types)}, not {sent}.",
        )
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        # A chunked body has no Content-Length to check up front, and
        # Werkzeug's development server cuts it at the limit without an
        # error, so a body that reaches the limit is taken as too large.
        raise RequestEntityTooLarge()
    try:
        value = parse_json(data)
    except InvalidJSON as error:
        raise Problem(400, str(error)) from None
    if not isinstance(value, dict):
        raise Problem(400, "The body must be a JSON object.")
    return value
