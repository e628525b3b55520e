"""DynamoDB failures return 503 with Retry-After, quickly, and never 500."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from bookapi import create_app
from tests.conftest import make_app
from tests.servers import Dynalite, FaultProxy, ProxyMode, free_port


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/book/1", None),
        ("POST", "/book", {"bookId": 1, "name": "x"}),
        ("DELETE", "/book/1", None),
    ],
)
def test_unreachable_dynamodb_is_503(
    method: str,
    path: str,
    body: dict[str, object] | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed_port = free_port()
    app = create_app(
        {"BOOKS_TABLE": "books", "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{closed_port}"}
    )
    started = time.monotonic()

    with caplog.at_level(logging.ERROR, logger="bookapi.errors"):
        response = app.test_client().open(path, method=method, json=body)

    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["status"] == 503
    assert time.monotonic() - started < 20
    request_id = response.headers["X-Request-ID"]
    assert any(request_id in record.getMessage() for record in caplog.records)


def test_missing_table_is_503(backend: str | None) -> None:
    app = create_app({"BOOKS_TABLE": "no-such-table", "DYNAMODB_ENDPOINT": backend})

    response = app.test_client().get("/book/1")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


@pytest.fixture
def proxy(dynalite_server: Dynalite) -> Iterator[FaultProxy]:
    with FaultProxy(dynalite_server.port) as proxy:
        yield proxy


@pytest.mark.parametrize(
    ("mode", "method", "path", "body"),
    [
        (mode, method, path, body)
        for mode in (ProxyMode.BLACKHOLE, ProxyMode.RESET)
        for method, path, body in [
            ("POST", "/book", {"bookId": 1, "name": "x"}),
            ("DELETE", "/book/1", None),
        ]
    ],
)
def test_write_losing_connection_is_503(
    proxy: FaultProxy,
    mode: ProxyMode,
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    table = make_app(proxy.endpoint).config["BOOKS_TABLE"]
    app = create_app(
        {
            "BOOKS_TABLE": table,
            "DYNAMODB_ENDPOINT": proxy.endpoint,
            "DYNAMODB_READ_TIMEOUT": 0.3,
            "DYNAMODB_MAX_RETRIES": 0,
        }
    )
    proxy.set_mode(mode)

    response = app.test_client().open(path, method=method, json=body)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
