"""One error shape for every failure: RFC 9457 problem details.

Every error response, Flask's own 404, 405, 413 and 500 included, is an
``application/problem+json`` object with ``type``, ``title``, ``status`` and
``detail``, plus ``instance`` (the request path), ``requestId``, and for
invalid input an ``errors`` list naming each failing field or parameter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from botocore.exceptions import BotoCoreError
from flask import Flask, Response, current_app, g, request
from pynamodb.exceptions import PynamoDBException
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
)

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Field errors of a request, as webargs reports them: per location (json,
# query, headers), then per field.
ErrorMessages = Mapping[str, Any]


class Problem(HTTPException):
    """An HTTP error with a problem-details body.

    ``errors`` is a list of ``{"pointer" | "parameter", "detail"}`` objects.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.errors = errors
        self.extra_headers = dict(headers or {})


class ProblemSchema(ma.Schema):
    """Problem details (RFC 9457) of an error response."""

    type = ma.fields.String(
        metadata={"description": "A URI naming the problem type, about:blank here."}
    )
    title = ma.fields.String(metadata={"description": "The HTTP status phrase."})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code."})
    detail = ma.fields.String(metadata={"description": "What went wrong, for people."})
    instance = ma.fields.String(metadata={"description": "The request path."})
    requestId = ma.fields.String(
        metadata={"description": "The request's id, as logged."}
    )
    errors = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()),
        metadata={
            "description": "Each invalid field (a JSON pointer into the body) "
            "or parameter, with what is wrong with it."
        },
    )


def flatten_messages(messages: ErrorMessages) -> list[dict[str, str]]:
    """Turn webargs' nested messages into one entry per field and reason."""
    errors: list[dict[str, str]] = []
    for location, fields in messages.items():
        key = "pointer" if location == "json" else "parameter"
        _flatten(fields, key, location, [], errors)
    return errors


def _flatten(
    node: Any, key: str, location: str, path: list[str], out: list[dict[str, str]]
) -> None:
    if isinstance(node, Mapping):
        for name, child in node.items():
            _flatten(child, key, location, [*path, str(name)], out)
        return
    reasons = node if isinstance(node, list) else [node]
    if key == "pointer":
        where = "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
    else:
        where = ".".join(path)
    for reason in reasons:
        if isinstance(reason, Mapping):
            _flatten(reason, key, location, path, out)
        else:
            out.append({key: where, "detail": str(reason)})


def problem_response(
    status: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build a problem-details response for the current request."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "requestId": g.get("request_id", ""),
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        current_app.json.dumps(body, separators=(",", ":")),
        status=status,
        mimetype=PROBLEM_MEDIA_TYPE,
    )
    response.headers.update(headers or {})
    return response


def handle_http_exception(error: HTTPException) -> Response:
    """Render any HTTP error, Flask's and webargs' included, as a problem."""
    status = error.code or 500
    headers: dict[str, str] = {}
    if isinstance(error, Problem):
        return problem_response(
            status, error.description or "", error.errors, error.extra_headers
        )

    errors: list[dict[str, str]] | None = None
    detail = error.description or ""
    data = getattr(error, "data", None)
    if data and "messages" in data:
        errors = flatten_messages(data["messages"])
        detail = "The request is invalid: " + "; ".join(
            f"{e.get('pointer') or e.get('parameter')}: {e['detail']}" for e in errors
        )
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        detail = f"The request body is larger than the limit of {limit} bytes."
    if isinstance(error, InternalServerError):
        detail = "The server failed to handle the request; it has been logged."
    valid_methods = getattr(error, "valid_methods", None)
    if valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return problem_response(status, detail, errors, headers)


def handle_dynamodb_error(error: Exception) -> Response:
    """Respond 503 when DynamoDB fails, is unreachable or keeps throttling."""
    cause = (
        getattr(error, "cause_response_code", None)
        or type(getattr(error, "cause", None) or error).__name__
    )
    logger.error(
        "DynamoDB call failed: %s (%s) request_id=%s",
        cause,
        error,
        g.get("request_id", ""),
    )
    retry_after = str(current_app.config["RETRY_AFTER_SECONDS"])
    return problem_response(
        503,
        "The book store is unavailable or overloaded; retry after a short wait.",
        headers={"Retry-After": retry_after},
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(PynamoDBException, handle_dynamodb_error)
    app.register_error_handler(BotoCoreError, handle_dynamodb_error)
