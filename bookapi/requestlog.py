"""Request ids and one log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import quote

from flask import Flask, Response, g, request

logger = logging.getLogger("bookapi.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Only plain ids from clients are echoed and logged, so a header cannot
# inject text into the logs.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)


def start_request() -> None:
    g.started = time.perf_counter()
    client_id = request.headers.get(REQUEST_ID_HEADER, "")
    if CLIENT_REQUEST_ID.fullmatch(client_id):
        g.request_id = client_id
    else:
        context = request.environ.get("lambda.context")
        g.request_id = getattr(context, "aws_request_id", None) or uuid.uuid4().hex


def finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    if logger.isEnabledFor(logging.INFO):
        started = g.get("started")
        duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
        logger.info(
            "%s %s %s %.1fms request_id=%s",
            request.method,
            # Percent-encoded, so a path cannot break the line or forge another.
            quote(request.path, safe="/"),
            response.status_code,
            duration_ms,
            g.get("request_id", ""),
        )
    return response


def configure_logging(level: str) -> None:
    """Send bookapi's log lines to stderr when nothing else handles them.

    On Lambda, Zappa's handler has configured the root logger already, and
    the level it sets from ``log_level`` wins.
    """
    package_logger = logging.getLogger("bookapi")
    if logging.getLogger().handlers or package_logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    package_logger.addHandler(handler)
    package_logger.setLevel(level)


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_LEVEL"])
    app.before_request(start_request)
    app.after_request(finish_request)
