"""Create, read, replace and delete books through the API."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bookapi.config import MAX_BOOK_ID

DUNE = {
    "bookId": 7,
    "name": "Dune",
    "author": "Frank Herbert",
    "genre": "Science fiction",
}


def stored(app: Flask, book_id: int) -> dict[str, Any] | None:
    """Read a book straight from the table, bypassing the API."""
    model = app.extensions["bookapi"].model
    try:
        return dict(model.get(book_id, consistent_read=True).to_dict())
    except model.DoesNotExist:
        return None


def test_create_answers_201_with_book(client: FlaskClient, app: Flask) -> None:
    response = client.post("/book", json=DUNE)

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert {k: body[k] for k in DUNE} == DUNE
    assert body["createdAt"] == body["updatedAt"]
    assert body["createdAt"].endswith("Z")
    assert response.headers["Location"] == "/book/7"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert stored(app, 7) == body


def test_get_returns_stored_book(client: FlaskClient) -> None:
    created = client.post("/book", json=DUNE).get_json()

    response = client.get("/book/7")

    assert response.status_code == 200
    assert response.get_json() == created
    assert response.headers["ETag"] == f'"{created["version"]}"'


def test_post_same_id_replaces_book(client: FlaskClient, app: Flask) -> None:
    first = client.post("/book", json=DUNE).get_json()

    response = client.post("/book", json={"bookId": 7, "name": "Dune Messiah"})

    assert response.status_code == 200
    assert "Location" not in response.headers
    body = response.get_json()
    assert body["name"] == "Dune Messiah"
    assert "author" not in body
    assert "genre" not in body
    assert body["createdAt"] == first["createdAt"]
    assert body["version"] != first["version"]
    assert stored(app, 7) == body


def test_get_missing_book_is_404(client: FlaskClient) -> None:
    response = client.get("/book/12345")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["detail"] == "No book has the id 12345."
    assert body["instance"] == "/book/12345"


def test_delete_returns_removed_book(client: FlaskClient, app: Flask) -> None:
    created = client.post("/book", json=DUNE).get_json()

    response = client.delete("/book/7")

    assert response.status_code == 200
    assert response.get_json() == created
    assert stored(app, 7) is None
    assert client.get("/book/7").status_code == 404


def test_delete_missing_book_is_404(client: FlaskClient) -> None:
    response = client.delete("/book/8")

    assert response.status_code == 404
    assert response.get_json()["detail"] == "No book has the id 8."


def test_boundary_ids_round_trip(client: FlaskClient) -> None:
    for book_id in (1, MAX_BOOK_ID):
        created = client.post("/book", json={"bookId": book_id, "name": "Edge"})
        assert created.status_code == 201
        fetched = client.get(f"/book/{book_id}")
        assert fetched.status_code == 200
        assert fetched.get_json()["bookId"] == book_id


def test_get_with_matching_etag_is_304(client: FlaskClient) -> None:
    etag = client.post("/book", json=DUNE).headers["ETag"]

    response = client.get("/book/7", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag


def test_create_only_rejects_existing_book(client: FlaskClient, app: Flask) -> None:
    first = client.post("/book", json=DUNE).get_json()

    response = client.post(
        "/book", json={**DUNE, "name": "Other"}, headers={"If-None-Match": "*"}
    )

    assert response.status_code == 412
    assert response.mimetype == "application/problem+json"
    assert stored(app, 7) == first


def test_if_match_stale_version_is_412(client: FlaskClient, app: Flask) -> None:
    client.post("/book", json=DUNE)
    current = client.post("/book", json={**DUNE, "name": "Dune (2nd ed.)"}).get_json()

    response = client.delete("/book/7", headers={"If-Match": '"stale"'})

    assert response.status_code == 412
    assert stored(app, 7) == current


def test_if_match_current_version_deletes(client: FlaskClient, app: Flask) -> None:
    etag = client.post("/book", json=DUNE).headers["ETag"]

    response = client.delete("/book/7", headers={"If-Match": etag})

    assert response.status_code == 200
    assert stored(app, 7) is None


def test_every_response_has_security_headers(client: FlaskClient) -> None:
    for response in (client.get("/book/1"), client.post("/book", json=DUNE)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Request-ID"]


def test_client_request_id_is_echoed(client: FlaskClient) -> None:
    response = client.get("/book/1", headers={"X-Request-ID": "abc-123"})

    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.get_json()["requestId"] == "abc-123"


def test_two_apps_use_their_own_tables(backend: str | None) -> None:
    from tests.conftest import make_app

    first, second = make_app(backend), make_app(backend)
    first.test_client().post("/book", json=DUNE)

    assert first.test_client().get("/book/7").status_code == 200
    assert second.test_client().get("/book/7").status_code == 404


def test_request_log_line_cannot_be_forged(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bookapi.request"):
        client.get("/book/1%0AINFO%20bookapi.request%20FAKE")

    lines = [r.getMessage() for r in caplog.records if r.name == "bookapi.request"]
    assert len(lines) == 1
    assert "\n" not in lines[0]
    assert "/book/1%0AINFO%20bookapi.request%20FAKE" in lines[0]
