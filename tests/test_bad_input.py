"""Bad input: every rule returns its status with a problem body and stores nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bookapi.config import MAX_BOOK_ID, MAX_CONTENT_LENGTH
from bookapi.schemas import MAX_AUTHOR_LENGTH, MAX_GENRE_LENGTH, MAX_NAME_LENGTH

PROBLEM = "application/problem+json"
OUT_OF_RANGE = (
    f"Must be greater than or equal to 1 and less than or equal to {MAX_BOOK_ID}."
)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def table_is_empty(app: Flask) -> bool:
    model = app.extensions["bookapi"].model
    count: int = model.count()
    return count == 0


@pytest.mark.parametrize(
    ("body", "pointer", "message"),
    [
        ({"name": "x"}, "#/bookId", "Missing data for required field."),
        ({"bookId": True, "name": "x"}, "#/bookId", "Not a valid integer."),
        ({"bookId": 1.5, "name": "x"}, "#/bookId", "Not a valid integer."),
        ({"bookId": 7.0, "name": "x"}, "#/bookId", "Not a valid integer."),
        ({"bookId": "7", "name": "x"}, "#/bookId", "Not a valid integer."),
        ({"bookId": None, "name": "x"}, "#/bookId", "Field may not be null."),
        (
            {"bookId": 0, "name": "x"},
            "#/bookId",
            OUT_OF_RANGE,
        ),
        (
            {"bookId": -3, "name": "x"},
            "#/bookId",
            OUT_OF_RANGE,
        ),
        (
            {"bookId": MAX_BOOK_ID + 1, "name": "x"},
            "#/bookId",
            OUT_OF_RANGE,
        ),
        ({"bookId": 1}, "#/name", "Missing data for required field."),
        ({"bookId": 1, "name": ""}, "#/name", "Must not be empty or only whitespace."),
        (
            {"bookId": 1, "name": "   "},
            "#/name",
            "Must not be empty or only whitespace.",
        ),
        ({"bookId": 1, "name": 5}, "#/name", "Not a valid string."),
        (
            {"bookId": 1, "name": "x" * (MAX_NAME_LENGTH + 1)},
            "#/name",
            f"Longer than maximum length {MAX_NAME_LENGTH}.",
        ),
        (
            {"bookId": 1, "name": "x", "author": ""},
            "#/author",
            "Must not be empty or only whitespace.",
        ),
        (
            {"bookId": 1, "name": "x", "author": "a" * (MAX_AUTHOR_LENGTH + 1)},
            "#/author",
            f"Longer than maximum length {MAX_AUTHOR_LENGTH}.",
        ),
        (
            {"bookId": 1, "name": "x", "genre": "g" * (MAX_GENRE_LENGTH + 1)},
            "#/genre",
            f"Longer than maximum length {MAX_GENRE_LENGTH}.",
        ),
        (
            {"bookId": 1, "name": "x", "author": "é" * MAX_AUTHOR_LENGTH + "ab"},
            "#/author",
            f"Longer than maximum length {MAX_AUTHOR_LENGTH}.",
        ),
        (
            {"bookId": 1, "name": "x", "author": "📚" * 513},
            "#/author",
            "Longer than 2048 bytes in UTF-8, the maximum for a DynamoDB index key.",
        ),
        (
            {"bookId": 1, "name": "x", "genre": None},
            "#/genre",
            "Field may not be null.",
        ),
        ({"bookId": 1, "name": "x", "isbn": "123"}, "#/isbn", "Unknown field."),
        (
            {"bookId": 1, "name": "x", "version": "1"},
            "#/version",
            "Read-only field: the server sets it.",
        ),
        (
            {"bookId": 1, "name": "x", "createdAt": "2020"},
            "#/createdAt",
            "Read-only field: the server sets it.",
        ),
    ],
)
def test_invalid_field_is_400(
    client: FlaskClient, app: Flask, body: dict[str, Any], pointer: str, message: str
) -> None:
    response = client.post("/book", json=body)

    problem = assert_problem(response, 400)
    assert {"pointer": pointer, "detail": message} in problem["errors"]
    assert table_is_empty(app)


def test_every_failing_field_is_listed(client: FlaskClient) -> None:
    response = client.post("/book", json={"bookId": "x", "name": "", "extra": 1})

    problem = assert_problem(response, 400)
    pointers = sorted(error["pointer"] for error in problem["errors"])
    assert pointers == ["#/bookId", "#/extra", "#/name"]


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"{not json", "The body is not valid JSON"),
        (b"", "The body is empty."),
        (b"[1, 2]", "The body must be a JSON object."),
        (b'"text"', "The body must be a JSON object."),
        (b"null", "The body must be a JSON object."),
        (b'{"bookId": 1e400, "name": "x"}', "The number 1e400 is out of range."),
        (b'{"bookId": NaN, "name": "x"}', "NaN is not a JSON number."),
        (b'{"bookId": Infinity, "name": "x"}', "Infinity is not a JSON number."),
        (
            b'{"bookId": 1, "bookId": 2, "name": "x"}',
            "The key 'bookId' appears more than once.",
        ),
        (
            b'{"bookId": 1, "name": "\\ud800"}',
            "A string contains a lone surrogate escape.",
        ),
        (
            b'\xef\xbb\xbf{"bookId": 1, "name": "x"}',
            "The body starts with a byte order mark",
        ),
        (b'{"bookId": 1, "name": "\xff"}', "The body is not valid UTF-8"),
        (
            b'{"bookId": 1, "name": "x", "n": ' + b"[" * 50 + b"]" * 50 + b"}",
            "nested deeper",
        ),
        (
            b'{"bookId": 1, "name": "x", "n": ' + b"[" * 100000 + b"]" * 100000 + b"}",
            None,
        ),
        (
            b'{"bookId": 1' + b"0" * 5000 + b', "name": "x"}',
            "A number in the body is too long.",
        ),
    ],
)
def test_malformed_json_is_400(
    client: FlaskClient, app: Flask, data: bytes, detail: str | None
) -> None:
    response = client.post("/book", data=data, content_type="application/json")

    status = 413 if len(data) > MAX_CONTENT_LENGTH else 400
    problem = assert_problem(response, status)
    if detail is not None:
        assert detail in problem["detail"]
    assert table_is_empty(app)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"],
)
def test_wrong_content_type_is_415(
    client: FlaskClient, app: Flask, content_type: str | None
) -> None:
    data = json.dumps({"bookId": 1, "name": "x"})
    headers = {"Content-Type": content_type} if content_type else {}

    response = client.post("/book", data=data, headers=headers)

    problem = assert_problem(response, 415)
    assert "Content-Type must be application/json" in problem["detail"]
    assert table_is_empty(app)


def test_body_over_limit_is_413(client: FlaskClient, app: Flask) -> None:
    padding = "x" * MAX_CONTENT_LENGTH
    data = json.dumps({"bookId": 1, "name": padding})

    response = client.post("/book", data=data, content_type="application/json")

    problem = assert_problem(response, 413)
    assert str(MAX_CONTENT_LENGTH) in problem["detail"]
    assert table_is_empty(app)


@pytest.mark.parametrize(
    "path_id",
    [
        "abc",
        "0",
        "-1",
        "1.5",
        "1e3",
        "9007199254740992",
        "99999999999999999999",
        "%D9%A7",
        "%EF%BC%97",
        "%E0%A5%AD",
        "+7",
        "%207",
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_invalid_path_id_is_400(client: FlaskClient, method: str, path_id: str) -> None:
    response = client.open(f"/book/{path_id}", method=method)

    problem = assert_problem(response, 400)
    assert problem["errors"] == [
        {"parameter": "bookId", "detail": "Not an integer in range."}
    ]


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/nowhere")

    assert_problem(response, 404)


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    response = client.patch("/book", json={})

    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_unexpected_error_is_json_500(client: FlaskClient, app: Flask) -> None:
    def explode() -> None:
        raise RuntimeError("secret detail")

    app.view_functions["books.get_book"] = lambda book_id: explode()  # type: ignore[assignment]

    response = client.get("/book/1")

    problem = assert_problem(response, 500)
    assert "secret detail" not in response.get_data(as_text=True)
    assert problem["title"] == "Internal Server Error"


def test_chunked_body_over_limit_is_413(client: FlaskClient, app: Flask) -> None:
    body = b'{"bookId": 1, "name": "chunked"}' + b" " * MAX_CONTENT_LENGTH + b"x"

    response = client.post(
        "/book",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert_problem(response, 413)
    assert table_is_empty(app)
