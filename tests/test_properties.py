"""Property tests: valid books round-trip exactly, hostile input never breaks.

Example counts come from the Hypothesis profile: bounded for ``make test``,
larger for ``make fuzz`` (see tests/conftest.py).
"""

from __future__ import annotations

import codecs
import json
import sys
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from bookapi.config import MAX_BOOK_ID
from bookapi.schemas import (
    MAX_AUTHOR_LENGTH,
    MAX_GENRE_LENGTH,
    MAX_INDEX_KEY_BYTES,
    MAX_NAME_LENGTH,
)
from tests.conftest import make_app
from tests.servers import Dynalite

PROBLEM = "application/problem+json"
ALL_ND_DIGITS = [
    chr(code)
    for code in range(sys.maxunicode + 1)
    if unicodedata.category(chr(code)) == "Nd"
]
NON_ASCII_DIGITS = [digit for digit in ALL_ND_DIGITS if not digit.isascii()]

# Texts of up to 2048 characters and DynamoDB round trips make examples slow,
# which Hypothesis's too_slow health check would report as an error.
SHARED_APP = settings(suppress_health_check=[HealthCheck.too_slow])
# Most hostile bodies fail in the parser without a DynamoDB call, so those
# tests afford five times the profile's examples.
CHEAP_EXAMPLES = settings(
    max_examples=5 * settings().max_examples,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module", params=["moto", "dynalite"])
def shared_app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """One app and table per backend for all examples of the module."""
    if request.param == "moto":
        with mock_aws():
            yield make_app(None)
    else:
        server: Dynalite = request.getfixturevalue("dynalite_server")
        yield make_app(server.endpoint)


@pytest.fixture(scope="module")
def moto_client() -> Iterator[FlaskClient]:
    """A client on moto, for tests where the backend makes no difference."""
    with mock_aws():
        yield make_app(None).test_client()


# --- Valid books ---------------------------------------------------------


def text_field(max_length: int) -> st.SearchStrategy[str]:
    """Any Unicode text a field accepts, with its length limits drawn often."""
    characters = st.characters(codec="utf-8")
    return st.one_of(
        st.text(characters, min_size=1, max_size=max_length),
        st.text(characters, min_size=max_length, max_size=max_length),
        st.text(characters, min_size=1, max_size=1),
    ).filter(lambda text: text.strip() != "")


def truncate_to_bytes(text: str, max_bytes: int) -> str:
    """Cut ``text`` at a character boundary to at most ``max_bytes`` of UTF-8."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def index_key_field(max_length: int) -> st.SearchStrategy[str]:
    """Text for author or genre, which DynamoDB indexes limit to 2048 bytes."""
    return (
        text_field(max_length)
        .map(lambda text: truncate_to_bytes(text, MAX_INDEX_KEY_BYTES))
        .filter(lambda text: text.strip() != "")
    )


book_ids = st.one_of(
    st.sampled_from([1, 2, MAX_BOOK_ID - 1, MAX_BOOK_ID]),
    st.integers(min_value=1, max_value=MAX_BOOK_ID),
)
valid_books = st.fixed_dictionaries(
    {"bookId": book_ids, "name": text_field(MAX_NAME_LENGTH)},
    optional={
        "author": index_key_field(MAX_AUTHOR_LENGTH),
        "genre": index_key_field(MAX_GENRE_LENGTH),
    },
)


@SHARED_APP
@given(book=valid_books)
def test_valid_book_round_trips_exactly(
    shared_app: Flask, book: dict[str, Any]
) -> None:
    client = shared_app.test_client()

    written = client.post("/book", json=book)
    read = client.get(f"/book/{book['bookId']}")

    assert written.status_code in (200, 201)
    assert read.status_code == 200
    stored = read.get_json()
    assert {key: stored[key] for key in book} == book
    assert set(stored) - set(book) == {"createdAt", "updatedAt", "version"}
    assert stored == written.get_json()


# --- Hostile bodies ------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
book_like_values = st.fixed_dictionaries(
    {},
    optional={
        "bookId": json_values | book_ids,
        "name": json_values,
        "author": json_values,
        "genre": json_values,
        "version": json_values,
    },
)

Mutation = Callable[[st.DrawFn, str], str]


def _keep(draw: st.DrawFn, text: str) -> str:
    return text


def _truncate(draw: st.DrawFn, text: str) -> str:
    return text[: draw(st.integers(0, len(text)))]


def _insert(draw: st.DrawFn, text: str) -> str:
    where = draw(st.integers(0, len(text)))
    piece = draw(
        st.sampled_from(
            ["\ufeff", "\\ud800", "\\udfff", '"', "{", "]", ",", "\x00", "\\"]
        )
        | st.text(max_size=3)
    )
    return text[:where] + piece + text[where:]


def _prefix_object(draw: st.DrawFn, text: str) -> str:
    """Put members before the body's own, duplicating keys it may have."""
    member = draw(
        st.sampled_from(
            [
                '"bookId": 1e400',
                '"bookId": NaN',
                '"bookId": -Infinity',
                '"bookId": 1',
                '"name": "\\ud800"',
                '"bookId": 1' + "0" * 5000,
            ]
        )
    )
    if text.startswith("{") and text != "{}":
        return "{" + member + ", " + text[1:]
    return "{" + member + "}"


def _nest(draw: st.DrawFn, text: str) -> str:
    depth = draw(st.sampled_from([16, 17, 1000, 5000]) | st.integers(1, 5000))
    return "[" * depth + text + "]" * depth


def _bom(draw: st.DrawFn, text: str) -> str:
    return "\ufeff" + text


MUTATIONS: list[Mutation] = [_keep, _truncate, _insert, _prefix_object, _nest, _bom]


@st.composite
def json_ish_bodies(draw: st.DrawFn) -> bytes:
    """Serialized JSON-like values, mutated, in one of several encodings."""
    value = draw(book_like_values | json_values)
    text = json.dumps(value, allow_nan=True, ensure_ascii=draw(st.booleans()))
    text = draw(st.sampled_from(MUTATIONS))(draw, text)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    errors = "surrogatepass" if encoding.startswith("utf") else "replace"
    return text.encode(encoding, errors=errors)


hostile_bodies = st.binary(max_size=512) | json_ish_bodies()
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain"]
)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys in {keys}")
    return dict(pairs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def parse_strict_json(data: bytes) -> Any:
    """Parse RFC 8259 JSON in UTF-8 without BOM, or raise ValueError."""
    if data.startswith(codecs.BOM_UTF8):
        raise ValueError("starts with a byte order mark")
    value = json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_reject_duplicates,
        parse_constant=_reject_constant,
    )
    # A lone surrogate escape decodes to a str that cannot be encoded.
    json.dumps(value, ensure_ascii=False).encode("utf-8")
    return value


@CHEAP_EXAMPLES
@given(body=hostile_bodies, content_type=content_types)
def test_hostile_body_never_gets_5xx(
    moto_client: FlaskClient, body: bytes, content_type: str
) -> None:
    response = moto_client.post("/book", data=body, content_type=content_type)

    assert response.status_code < 500


@CHEAP_EXAMPLES
@given(body=hostile_bodies, content_type=content_types)
def test_hostile_body_error_is_strict_problem_json(
    moto_client: FlaskClient, body: bytes, content_type: str
) -> None:
    response = moto_client.post("/book", data=body, content_type=content_type)

    problem = parse_strict_json(response.get_data())
    if response.status_code >= 400:
        assert response.mimetype == PROBLEM
        assert problem["status"] == response.status_code


# --- Path ids in other scripts' digits ------------------------------------


def test_python_int_reads_every_nd_digit() -> None:
    # The premise of the tests below: int() accepts digits of every script.
    assert all(int(digit) == unicodedata.digit(digit) for digit in ALL_ND_DIGITS)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_every_non_ascii_digit_is_400(moto_client: FlaskClient, method: str) -> None:
    for book_id in range(1, 10):
        moto_client.post("/book", json={"bookId": book_id, "name": "Decoy"})

    statuses = {
        digit: moto_client.open(f"/book/{quote(digit)}", method=method).status_code
        for digit in NON_ASCII_DIGITS
    }

    assert {digit for digit, status in statuses.items() if status != 400} == set()
    assert moto_client.get("/book/7").status_code == 200


non_ascii_ids = st.text(
    st.characters(categories=["Nd"]), min_size=1, max_size=16
).filter(lambda text: not text.isascii())


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(text=non_ascii_ids)
def test_id_with_non_ascii_digits_is_400(moto_client: FlaskClient, text: str) -> None:
    book_id = int(text)
    if 1 <= book_id <= MAX_BOOK_ID:
        moto_client.post("/book", json={"bookId": book_id, "name": "Decoy"})

    response = moto_client.get(f"/book/{quote(text)}")

    assert response.status_code == 400
