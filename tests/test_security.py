"""Security headers, the CORS policy and the body size limit."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from moto import mock_aws
from werkzeug.test import TestResponse

from bookapi import create_app
from bookapi.config import MAX_CONTENT_LENGTH, parse_origins, settings_from_env
from tests.conftest import make_app
from tests.servers import ApiServer, free_port

ALLOWED = "https://app.example.com"
EXPOSED = {"etag", "location", "link", "retry-after", "x-request-id"}


@pytest.fixture
def moto_app() -> Iterator[Flask]:
    with mock_aws():
        yield make_app(None)


def sample_responses(client: FlaskClient) -> dict[str, TestResponse]:
    """One response of each kind: success, client errors and method errors."""
    return {
        "201": client.post("/book", json={"bookId": 1, "name": "Emma"}),
        "200": client.get("/book/1"),
        "304": client.get("/book/1", headers={"If-None-Match": "*"}),
        "400": client.get("/book/abc"),
        "404": client.get("/book/2"),
        "405": client.put("/book"),
        "413": client.post(
            "/book",
            data=b"x" * (MAX_CONTENT_LENGTH + 1),
            content_type="application/json",
        ),
        "415": client.post("/book", data="{}", content_type="text/plain"),
    }


def test_every_response_forbids_sniffing(moto_app: Flask) -> None:
    for kind, response in sample_responses(moto_app.test_client()).items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", kind


def test_every_response_sends_no_referrer(moto_app: Flask) -> None:
    for kind, response in sample_responses(moto_app.test_client()).items():
        assert response.headers["Referrer-Policy"] == "no-referrer", kind


def test_json_response_forbids_loading_and_framing(moto_app: Flask) -> None:
    for kind, response in sample_responses(moto_app.test_client()).items():
        if (response.mimetype or "").endswith("json"):
            policy = response.headers["Content-Security-Policy"]
            assert policy == "default-src 'none'; frame-ancestors 'none'", kind


def test_error_response_is_not_stored(moto_app: Flask) -> None:
    for kind, response in sample_responses(moto_app.test_client()).items():
        if response.status_code >= 400:
            assert response.headers["Cache-Control"] == "no-store", kind


def test_unavailable_response_is_not_stored() -> None:
    response = cors_app([]).test_client().get("/book/1")

    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"


# --- API keys --------------------------------------------------------------
# API Gateway checks keys on deployed stages. The app serves every request it
# is given, so `make run` and the tests need no key.


def test_app_serves_writes_without_api_key(moto_app: Flask) -> None:
    response = moto_app.test_client().post("/book", json={"bookId": 1, "name": "Emma"})

    assert response.status_code == 201


def test_app_ignores_api_key_header(moto_app: Flask) -> None:
    response = moto_app.test_client().delete(
        "/book/1", headers={"x-api-key": "not-a-key-of-any-stage"}
    )

    assert response.status_code == 404


# --- CORS ------------------------------------------------------------------


def cors_app(origins: list[str]) -> Flask:
    """An app on a closed port: DynamoDB calls fail at once with 503."""
    closed = f"http://127.0.0.1:{free_port()}"
    return create_app(
        {
            "BOOKS_TABLE": "books",
            "DYNAMODB_ENDPOINT": closed,
            "CORS_ALLOWED_ORIGINS": origins,
            "DYNAMODB_MAX_RETRIES": 0,
        }
    )


def preflight(client: FlaskClient, origin: str) -> TestResponse:
    return client.options(
        "/book",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, if-match",
        },
    )


def test_cors_is_off_by_default() -> None:
    client = cors_app([]).test_client()

    response = client.get("/book/abc", headers={"Origin": ALLOWED})

    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_is_not_answered_by_default() -> None:
    response = preflight(cors_app([]).test_client(), ALLOWED)

    assert "Access-Control-Allow-Origin" not in response.headers


def test_allowed_origin_gets_its_origin_back() -> None:
    client = cors_app([ALLOWED]).test_client()

    response = client.get("/book/abc", headers={"Origin": ALLOWED})

    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_response_varies_by_origin() -> None:
    client = cors_app([ALLOWED]).test_client()

    response = client.get("/book/abc")

    assert "Origin" in response.vary


def test_allowed_origin_may_read_api_headers() -> None:
    client = cors_app([ALLOWED]).test_client()

    response = client.get("/book/abc", headers={"Origin": ALLOWED})

    exposed = response.headers["Access-Control-Expose-Headers"]
    assert {name.strip().lower() for name in exposed.split(",")} == EXPOSED


def test_other_origin_gets_no_cors_headers() -> None:
    client = cors_app([ALLOWED]).test_client()

    response = client.get("/book/abc", headers={"Origin": "https://evil.example"})

    assert "Access-Control-Allow-Origin" not in response.headers


def test_origin_with_allowed_prefix_is_rejected() -> None:
    client = cors_app([ALLOWED]).test_client()

    response = client.get("/book/abc", headers={"Origin": ALLOWED + ".evil.example"})

    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_allows_method_and_headers() -> None:
    response = preflight(cors_app([ALLOWED]).test_client(), ALLOWED)

    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert {"content-type", "if-match"} <= {h.strip() for h in allowed.split(",")}
    assert response.headers["Access-Control-Max-Age"] == "600"


def test_preflight_allows_api_key_header() -> None:
    response = (
        cors_app([ALLOWED])
        .test_client()
        .options(
            "/book/1",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "DELETE",
                "Access-Control-Request-Headers": "x-api-key",
            },
        )
    )

    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "x-api-key" in {h.strip() for h in allowed.split(",")}


def test_preflight_never_allows_credentials() -> None:
    response = preflight(cors_app([ALLOWED]).test_client(), ALLOWED)

    assert "Access-Control-Allow-Credentials" not in response.headers


def test_unavailable_response_carries_cors_headers() -> None:
    client = cors_app([ALLOWED]).test_client()

    response = client.get("/book/1", headers={"Origin": ALLOWED})

    assert response.status_code == 503
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_wildcard_allows_any_origin() -> None:
    client = cors_app(["*"]).test_client()

    response = client.get("/book/abc", headers={"Origin": "https://any.example"})

    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_origins_are_read_from_environment() -> None:
    environ = {"CORS_ALLOWED_ORIGINS": f" {ALLOWED}, http://localhost:3000 "}

    settings = settings_from_env(environ)

    assert settings["CORS_ALLOWED_ORIGINS"] == [ALLOWED, "http://localhost:3000"]


def test_origins_default_to_none() -> None:
    assert settings_from_env({})["CORS_ALLOWED_ORIGINS"] == []


@pytest.mark.parametrize(
    "value",
    [
        "app.example.com",
        "https://app.example.com/",
        "https://*.example.com",
        "https://app.example.com, *",
        "ftp://app.example.com",
        "https://app.example.com.*",
    ],
)
def test_invalid_origin_is_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="CORS_ALLOWED_ORIGINS"):
        parse_origins(value)


# --- Body size limit under waitress -----------------------------------------


@pytest.fixture(scope="module")
def waitress_url() -> Iterator[str]:
    closed = f"http://127.0.0.1:{free_port()}"
    with ApiServer(closed, "books", threads=2) as api:
        yield api.url


def test_chunked_body_over_limit_is_413(waitress_url: str) -> None:
    chunk = b" " * 8192
    chunks = [b'{"bookId": 1, "name": "x"'] + [chunk] * 9 + [b"}"]
    port = int(waitress_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    connection.request(
        "POST",
        "/book",
        body=iter(chunks),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()

    assert response.status == 413
    assert body["status"] == 413
