"""Settings read from the environment in one place."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

# Largest integer that every JSON client (JavaScript included) reads exactly.
MAX_BOOK_ID = 2**53 - 1

# Request bodies above this size are rejected with 413. A book at its maximum
# field lengths, every character written as a JSON \u escape pair, fits well
# inside it.
MAX_CONTENT_LENGTH = 64 * 1024


# An origin as browsers send it: scheme, host and optional port, nothing else.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", re.ASCII)


def parse_origins(value: str) -> list[str]:
    """Parse ``CORS_ALLOWED_ORIGINS``: origins separated by commas, or ``*``.

    Raises ValueError on anything else, so that a typo cannot silently allow
    more origins than intended (flask-cors reads some strings as regexes).
    """
    origins = [origin.strip() for origin in value.split(",") if origin.strip()]
    if origins == ["*"]:
        return origins
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise ValueError(
                f"CORS_ALLOWED_ORIGINS: {origin!r} is not an origin such as "
                "https://app.example.com or http://localhost:3000, nor a lone *."
            )
    return origins


# DynamoDB's rule for table names.
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}", re.ASCII)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def table_name(value: str) -> str:
    if not TABLE_NAME.fullmatch(value):
        raise ValueError(
            f"BOOKS_TABLE: {value!r} is not a DynamoDB table name "
            "(3 to 255 letters, digits, '_', '-' or '.')."
        )
    return value


def seconds(env: Mapping[str, str], name: str, default: str) -> float:
    text = env.get(name) or default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 60:
        raise ValueError(f"{name}: {text!r} is not a number of seconds from 0 to 60.")
    return value


def count(env: Mapping[str, str], name: str, default: str) -> int:
    text = env.get(name) or default
    if not (text.isascii() and text.isdigit() and int(text) <= 10):
        raise ValueError(f"{name}: {text!r} is not a whole number from 0 to 10.")
    return int(text)


def log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"LOG_LEVEL: {value!r} is not one of {', '.join(LOG_LEVELS)}.")
    return level


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the app's configuration from environment variables.

    ``BOOKS_TABLE`` names the DynamoDB table, ``AWS_REGION`` (or
    ``AWS_DEFAULT_REGION``) its region, and ``DYNAMODB_ENDPOINT`` an optional
    DynamoDB-compatible endpoint; unset means AWS itself. Raises ValueError,
    naming the variable, on a value that is not valid.
    """
    env = os.environ if environ is None else environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return {
        "BOOKS_TABLE": table_name(env.get("BOOKS_TABLE") or "books-local"),
        "AWS_REGION": region,
        "DYNAMODB_ENDPOINT": env.get("DYNAMODB_ENDPOINT") or None,
        # Each DynamoDB call may take at most connect + read timeout, and is
        # tried at most 1 + retries times. botocore 1.44's backoff between
        # tries is at most 1 s, then 2 s, for throttling (25 ms, then 50 ms,
        # otherwise). So one call waits at most 3 * (1 + 2) + 3 = 12 s: well
        # under API Gateway's 29 s (measured in docs/reliability.md).
        # NOTE: the read timeout bounds each socket read, not a whole
        # response, so a server that trickles bytes could exceed this bound.
        "DYNAMODB_CONNECT_TIMEOUT": seconds(env, "DYNAMODB_CONNECT_TIMEOUT", "1"),
        "DYNAMODB_READ_TIMEOUT": seconds(env, "DYNAMODB_READ_TIMEOUT", "2"),
        "DYNAMODB_MAX_RETRIES": count(env, "DYNAMODB_MAX_RETRIES", "2"),
        "CURSOR_SECRET": env.get("CURSOR_SECRET") or None,
        "LOG_LEVEL": log_level(env.get("LOG_LEVEL") or "INFO"),
        # Browser origins allowed to call the API; none by default.
        "CORS_ALLOWED_ORIGINS": parse_origins(env.get("CORS_ALLOWED_ORIGINS", "")),
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "RETRY_AFTER_SECONDS": 1,
    }
