"""Writes whose DynamoDB response is lost, then retried by botocore.

The proxy forwards the first write to dynalite and resets the connection
instead of returning its response, so botocore sends the same write again.
The API must report the write that happened, not a conflict with itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bookapi.store import BookStore, Precondition
from tests.conftest import make_app
from tests.servers import Dynalite, FaultProxy, ProxyMode


@pytest.fixture
def proxy(dynalite_server: Dynalite) -> Iterator[FaultProxy]:
    with FaultProxy(dynalite_server.port) as proxy:
        yield proxy


@pytest.fixture
def app(proxy: FaultProxy) -> Flask:
    return make_app(proxy.endpoint)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_create_only_after_lost_response_is_201(
    client: FlaskClient, proxy: FaultProxy
) -> None:
    proxy.set_mode(ProxyMode.LOSE_RESPONSE, count=1)

    response = client.post(
        "/book", json={"bookId": 1, "name": "Emma"}, headers={"If-None-Match": "*"}
    )

    assert response.status_code == 201
    assert client.get("/book/1").get_json() == response.get_json()


def test_create_after_lost_response_is_201(
    client: FlaskClient, proxy: FaultProxy
) -> None:
    proxy.set_mode(ProxyMode.LOSE_RESPONSE, count=1)

    response = client.post("/book", json={"bookId": 2, "name": "Emma"})

    assert response.status_code == 201
    assert response.headers["Location"] == "/book/2"


def test_if_match_after_lost_response_is_200(
    client: FlaskClient, proxy: FaultProxy
) -> None:
    etag = client.post("/book", json={"bookId": 3, "name": "Emma"}).headers["ETag"]
    proxy.set_mode(ProxyMode.LOSE_RESPONSE, count=1)

    response = client.post(
        "/book", json={"bookId": 3, "name": "Persuasion"}, headers={"If-Match": etag}
    )

    assert response.status_code == 200
    assert response.get_json()["name"] == "Persuasion"
    assert client.get("/book/3").get_json() == response.get_json()


def test_patch_after_lost_response_returns_book(app: Flask, proxy: FaultProxy) -> None:
    store: BookStore = app.extensions["bookapi"]
    created = app.test_client().post("/book", json={"bookId": 4, "name": "Emma"})
    version = created.get_json()["version"]
    proxy.set_mode(ProxyMode.LOSE_RESPONSE, count=1)

    book = store.patch(
        4, {"genre": "Novel"}, Precondition(versions=frozenset({version}))
    )

    assert book.genre == "Novel"
    assert book.version != version


def test_stale_if_match_is_still_412(client: FlaskClient, proxy: FaultProxy) -> None:
    client.post("/book", json={"bookId": 5, "name": "Emma"})
    proxy.set_mode(ProxyMode.LOSE_RESPONSE, count=1)

    response = client.post(
        "/book", json={"bookId": 5, "name": "Persuasion"}, headers={"If-Match": '"x"'}
    )

    assert response.status_code == 412
    assert client.get("/book/5").get_json()["name"] == "Emma"
