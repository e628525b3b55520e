"""Listing, finding, replacing and patching books."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.test_bad_input import assert_problem
from tests.test_books import DUNE, stored

AUTHORS = ["Ursula K. Le Guin", "Octavia E. Butler", "Ted Chiang"]
GENRES = ["Fantasy", "Science fiction"]


def add_books(client: FlaskClient, count: int) -> list[dict[str, Any]]:
    books = []
    for number in range(1, count + 1):
        book = {
            "bookId": number,
            "name": f"Book {number}",
            "author": AUTHORS[number % len(AUTHORS)],
            "genre": GENRES[number % len(GENRES)],
        }
        response = client.post("/book", json=book)
        assert response.status_code == 201
        books.append(response.get_json())
    return books


def walk_pages(client: FlaskClient, url: str) -> tuple[list[dict[str, Any]], int]:
    """Follow next links from ``url``; return every book and the page count."""
    books: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages += 1
        books += body["items"]
        next_url = body.get("next")
        if next_url is None:
            assert "Link" not in response.headers
        else:
            assert response.headers["Link"] == f'<{next_url}>; rel="next"'
        assert pages <= 100
    return books, pages


def test_list_pages_through_every_book_once(client: FlaskClient) -> None:
    created = add_books(client, 23)

    books, pages = walk_pages(client, "/book?limit=5")

    assert pages == 5
    assert sorted(book["bookId"] for book in books) == list(range(1, 24))
    assert sorted(books, key=lambda book: book["bookId"]) == created


def test_list_exact_multiple_has_no_empty_last_page(client: FlaskClient) -> None:
    add_books(client, 10)

    books, pages = walk_pages(client, "/book?limit=5")

    assert pages == 2
    assert len(books) == 10


def test_list_empty_table(client: FlaskClient) -> None:
    response = client.get("/book")

    assert response.status_code == 200
    assert response.get_json() == {"items": []}
    assert "Link" not in response.headers


def test_list_default_limit_is_20(client: FlaskClient) -> None:
    add_books(client, 21)

    body = client.get("/book").get_json()

    assert len(body["items"]) == 20
    assert "limit=20" in body["next"]


@pytest.mark.parametrize(
    ("field", "value"), [("author", AUTHORS[0]), ("genre", "Fantasy")]
)
def test_find_by_field_in_id_order(client: FlaskClient, field: str, value: str) -> None:
    created = add_books(client, 20)
    expected = [book for book in created if book[field] == value]

    books, pages = walk_pages(client, f"/book?{field}={value}&limit=3")

    assert books == expected
    assert pages == -(-len(expected) // 3)


def test_find_unknown_author_is_empty(client: FlaskClient) -> None:
    add_books(client, 3)

    response = client.get("/book", query_string={"author": "Nobody"})

    assert response.get_json() == {"items": []}


def test_find_skips_removed_author(client: FlaskClient) -> None:
    client.post("/book", json=DUNE)
    client.patch("/book/7", json={"author": None})

    response = client.get("/book", query_string={"author": DUNE["author"]})

    assert response.get_json() == {"items": []}


def next_cursor(client: FlaskClient, url: str) -> str:
    next_url: str = client.get(url).get_json()["next"]
    return parse_qs(urlsplit(next_url).query)["cursor"][0]


def flip_last_payload_byte(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize(
    ("make_url", "detail"),
    [
        (lambda c: f"/book?limit=2&cursor={c[:-6]}", "changed or truncated"),
        (
            lambda c: f"/book?limit=2&cursor={flip_last_payload_byte(c)}",
            "changed or truncated",
        ),
        (lambda c: f"/book?limit=2&cursor=x{c}", "cursor"),
        (lambda c: "/book?limit=2&cursor=!!!", "not valid base64url"),
        (lambda c: "/book?limit=2&cursor=AAAA", "changed or truncated"),
        (lambda c: f"/book?limit=2&author={AUTHORS[0]}&cursor={c}", "another query"),
        (lambda c: f"/book?limit=2&genre=Fantasy&cursor={c}", "another query"),
    ],
)
def test_bad_cursor_is_400(client: FlaskClient, make_url: Any, detail: str) -> None:
    add_books(client, 6)
    cursor = next_cursor(client, "/book?limit=2")

    response = client.get(make_url(cursor))

    problem = assert_problem(response, 400)
    assert detail in problem["detail"]


def test_cursor_with_another_limit_continues(client: FlaskClient) -> None:
    add_books(client, 6)
    first = client.get("/book?limit=2").get_json()
    cursor = next_cursor(client, "/book?limit=2")

    rest = client.get(f"/book?limit=10&cursor={cursor}").get_json()

    ids = [book["bookId"] for book in first["items"] + rest["items"]]
    assert sorted(ids) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=%D9%A7", "limit"),
        ("limit=-1", "limit"),
        ("author=", "author"),
        ("genre=%20", "genre"),
        ("author=a&genre=b", "genre"),
        ("autor=typo", "autor"),
    ],
)
def test_bad_list_parameter_is_400(
    client: FlaskClient, query: str, parameter: str
) -> None:
    response = client.get(f"/book?{query}")

    problem = assert_problem(response, 400)
    assert [error["parameter"] for error in problem["errors"]] == [parameter]


def test_put_creates_then_replaces(client: FlaskClient, app: Flask) -> None:
    created = client.put("/book/7", json={"name": "Dune"})
    replaced = client.put("/book/7", json={"bookId": 7, "name": "Dune", "genre": "SF"})

    assert created.status_code == 201
    assert created.headers["Location"] == "/book/7"
    assert replaced.status_code == 200
    body = replaced.get_json()
    assert body["genre"] == "SF"
    assert body["createdAt"] == created.get_json()["createdAt"]
    assert replaced.headers["ETag"] == f'"{body["version"]}"'
    assert stored(app, 7) == body


def test_put_with_other_body_id_is_400(client: FlaskClient, app: Flask) -> None:
    response = client.put("/book/7", json={"bookId": 8, "name": "Dune"})

    problem = assert_problem(response, 400)
    assert problem["errors"] == [
        {"pointer": "#/bookId", "detail": "Must equal the id in the path."}
    ]
    assert stored(app, 7) is None
    assert stored(app, 8) is None


def test_put_create_only_on_existing_is_412(client: FlaskClient, app: Flask) -> None:
    original = client.put("/book/7", json={"name": "Dune"}).get_json()

    response = client.put("/book/7", json={"name": "X"}, headers={"If-None-Match": "*"})

    assert_problem(response, 412)
    assert stored(app, 7) == original


def test_put_if_match_on_missing_book_is_412(client: FlaskClient, app: Flask) -> None:
    response = client.put("/book/7", json={"name": "X"}, headers={"If-Match": '"abc"'})

    assert_problem(response, 412)
    assert stored(app, 7) is None


def test_patch_changes_only_given_fields(client: FlaskClient, app: Flask) -> None:
    original = client.post("/book", json=DUNE).get_json()

    response = client.patch(
        "/book/7",
        data='{"genre": "Space opera", "author": null}',
        content_type="application/merge-patch+json",
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["genre"] == "Space opera"
    assert "author" not in body
    assert body["name"] == original["name"]
    assert body["createdAt"] == original["createdAt"]
    assert body["version"] != original["version"]
    assert body["updatedAt"] >= original["updatedAt"]
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert stored(app, 7) == body


def test_patch_accepts_plain_json(client: FlaskClient) -> None:
    client.post("/book", json=DUNE)

    response = client.patch("/book/7", json={"name": "Dune (1965)"})

    assert response.status_code == 200
    assert response.get_json()["name"] == "Dune (1965)"


@pytest.mark.parametrize(
    ("patch", "pointer"),
    [
        ({"name": None}, "#/name"),
        ({"name": ""}, "#/name"),
        ({"bookId": 8}, "#/bookId"),
        ({"isbn": "1"}, "#/isbn"),
        ({"updatedAt": "2020"}, "#/updatedAt"),
    ],
)
def test_bad_patch_is_400(
    client: FlaskClient, app: Flask, patch: dict[str, Any], pointer: str
) -> None:
    original = client.post("/book", json=DUNE).get_json()

    response = client.patch("/book/7", json=patch)

    problem = assert_problem(response, 400)
    assert [error["pointer"] for error in problem["errors"]] == [pointer]
    assert stored(app, 7) == original


def test_patch_missing_book_is_404(client: FlaskClient, app: Flask) -> None:
    response = client.patch("/book/7", json={"name": "x"})

    assert_problem(response, 404)
    assert stored(app, 7) is None


def test_patch_with_wrong_content_type_is_415(client: FlaskClient) -> None:
    client.post("/book", json=DUNE)

    response = client.patch(
        "/book/7", data="{}", content_type="application/json-patch+json"
    )

    assert_problem(response, 415)


def test_patch_if_match_stale_is_412(client: FlaskClient, app: Flask) -> None:
    first = client.post("/book", json=DUNE)
    current = client.patch("/book/7", json={"genre": "SF"}).get_json()

    response = client.patch(
        "/book/7", json={"genre": "Horror"}, headers={"If-Match": first.headers["ETag"]}
    )

    assert_problem(response, 412)
    assert stored(app, 7) == current


def test_patch_if_match_current_succeeds(client: FlaskClient) -> None:
    etag = client.post("/book", json=DUNE).headers["ETag"]

    response = client.patch("/book/7", json={"genre": "SF"}, headers={"If-Match": etag})

    assert response.status_code == 200


def test_weak_etag_never_matches_writes(client: FlaskClient, app: Flask) -> None:
    created = client.post("/book", json=DUNE)
    weak = "W/" + created.headers["ETag"]

    response = client.patch("/book/7", json={"genre": "SF"}, headers={"If-Match": weak})

    assert_problem(response, 412)
    assert stored(app, 7) == created.get_json()


def test_if_match_star_requires_existing_book(client: FlaskClient, app: Flask) -> None:
    missing = client.put("/book/7", json={"name": "Dune"}, headers={"If-Match": "*"})
    client.post("/book", json=DUNE)
    present = client.put("/book/7", json={"name": "Dune"}, headers={"If-Match": "*"})

    assert missing.status_code == 412
    assert present.status_code == 200


def test_if_none_match_etag_on_write_is_400(client: FlaskClient) -> None:
    response = client.put(
        "/book/7", json={"name": "x"}, headers={"If-None-Match": '"a"'}
    )

    problem = assert_problem(response, 400)
    assert "accepts only *" in problem["detail"]


def test_client_cannot_set_server_fields(client: FlaskClient, app: Flask) -> None:
    response = client.put("/book/7", json={"name": "x", "version": "mine"})

    assert_problem(response, 400)
    assert stored(app, 7) is None


def test_if_none_match_on_delete_is_400(client: FlaskClient, app: Flask) -> None:
    created = client.post("/book", json=DUNE).get_json()

    response = client.delete("/book/7", headers={"If-None-Match": "*"})

    problem = assert_problem(response, 400)
    assert problem["detail"] == "If-None-Match is not supported on DELETE."
    assert stored(app, 7) == created


@pytest.mark.parametrize(
    ("method", "if_match"),
    [
        ("PATCH", '"", "stale"'),
        ("DELETE", '"", "stale"'),
        ("PUT", '"stale", W/"weak", ""'),
        ("PATCH", '""'),
    ],
)
def test_empty_entity_tag_in_if_match_is_412(
    client: FlaskClient, app: Flask, method: str, if_match: str
) -> None:
    created = client.post("/book", json=DUNE).get_json()

    response = client.open(
        "/book/7", method=method, json={"name": "x"}, headers={"If-Match": if_match}
    )

    assert_problem(response, 412)
    assert stored(app, 7) == created


@pytest.mark.parametrize(
    ("method", "header", "value"),
    [
        ("PATCH", "If-Match", '"a" junk'),
        ("DELETE", "If-Match", 'junk "a"'),
        ("PUT", "If-Match", ""),
        ("POST", "If-Match", ","),
        ("PUT", "If-None-Match", "* junk"),
        ("POST", "If-None-Match", ""),
    ],
)
def test_unreadable_precondition_header_is_400(
    client: FlaskClient, app: Flask, method: str, header: str, value: str
) -> None:
    created = client.post("/book", json=DUNE).get_json()
    path = "/book" if method == "POST" else "/book/7"
    body = {"name": "x"} if method != "POST" else {**DUNE, "name": "x"}

    response = client.open(path, method=method, json=body, headers={header: value})

    problem = assert_problem(response, 400)
    assert header in problem["detail"]
    assert stored(app, 7) == created


def signed_cursor(app: Flask, payload: bytes) -> str:
    """Make a cursor with a valid tag around any payload, as a forger could."""
    import hashlib
    import hmac

    secret = (
        "bookapi-cursor:" + app.extensions["bookapi"].model.Meta.table_name
    ).encode()
    tag = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(tag + payload).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        b"hello",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"q": {}}',
        b'{"k": {"bookId": {"N": "2"}}}',
        b'{"q": {}, "k": null}',
        b'{"q": {}, "k": {"bookId": "x"}}',
        b'{"q": {}, "k": {"bookId": {"S": "x"}}}',
        b'{"q": {}, "k": {"bookId": {"N": "abc"}}}',
        b'{"q": {}, "k": {"bookId": {"N": "1e200"}}}',
        b'{"q": {}, "k": {"bookId": {"N": "0"}}}',
        b'{"q": {}, "k": {"bookId": {"N": "2"}, "extra": {"S": "x"}}}',
        b'{"q": {"author": "A"}, "k": {"bookId": {"N": "2"}, "author": {"S": "B"}}}',
    ],
)
def test_forged_cursor_is_400(client: FlaskClient, app: Flask, payload: bytes) -> None:
    add_books(client, 3)
    query = "author=A&" if b'"author": "A"' in payload else ""

    response = client.get(f"/book?{query}cursor={signed_cursor(app, payload)}")

    problem = assert_problem(response, 400)
    assert problem["errors"][0]["parameter"] == "cursor"


@pytest.mark.parametrize("query", ["limit=2&limit=abc", "author=A&author=B"])
def test_repeated_list_parameter_is_400(client: FlaskClient, query: str) -> None:
    response = client.get(f"/book?{query}")

    problem = assert_problem(response, 400)
    assert problem["errors"][0]["detail"] == "Given more than once."
