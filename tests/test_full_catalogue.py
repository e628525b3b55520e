"""The real 10,000-book goodbooks-10k catalogue, paged and searched on dynalite.

The full file lives outside the repository (only a 200-row sample ships, see
tests/data/goodbooks); the test is skipped when the file is not there.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from bookapi.store import new_version, utc_now
from tests.conftest import make_app
from tests.servers import Dynalite
from tests.test_catalogue import walk_pages

CATALOGUE = Path(
    os.environ.get(
        "GOODBOOKS_CSV",
        Path(__file__).resolve().parents[2] / "shared/data/goodbooks-10k/books.csv",
    )
)
# The catalogue has no genre column; these stand-ins, given by id, let the
# genre index be walked over the real rows.
GENRES = ["Fiction", "Fantasy", "History", "Poetry", "Science"]


def load_rows() -> list[dict[str, Any]]:
    with CATALOGUE.open(encoding="utf-8", newline="") as file:
        return [
            {
                "bookId": int(row["book_id"]),
                "name": row["title"],
                "author": row["authors"],
                "genre": GENRES[int(row["book_id"]) % len(GENRES)],
            }
            for row in csv.DictReader(file)
        ]


@pytest.fixture(scope="module")
def catalogue_client(
    dynalite_server: Dynalite,
) -> tuple[FlaskClient, list[dict[str, Any]]]:
    if not CATALOGUE.exists():
        pytest.skip(f"{CATALOGUE} is not here")
    rows = load_rows()
    app = make_app(dynalite_server.endpoint)
    model = app.extensions["bookapi"].model
    now = utc_now()
    with model.batch_write() as batch:
        for row in rows:
            batch.save(
                model(
                    row["bookId"],
                    name=row["name"],
                    author=row["author"],
                    genre=row["genre"],
                    created_at=now,
                    updated_at=now,
                    version=new_version(),
                )
            )
    return app.test_client(), rows


def test_paging_sees_every_book_once(
    catalogue_client: tuple[FlaskClient, list[dict[str, Any]]],
) -> None:
    client, rows = catalogue_client

    books, pages = walk_pages(client, "/book?limit=100")

    ids = Counter(book["bookId"] for book in books)
    assert len(rows) == 10_000
    assert pages == 100
    assert sorted(ids) == sorted(row["bookId"] for row in rows)
    assert max(ids.values()) == 1


def test_find_by_real_author(
    catalogue_client: tuple[FlaskClient, list[dict[str, Any]]],
) -> None:
    client, rows = catalogue_client
    author, count = Counter(row["author"] for row in rows).most_common(1)[0]

    books, _ = walk_pages(client, f"/book?limit=7&author={author}")

    assert len(books) == count
    assert {book["author"] for book in books} == {author}
    assert [book["bookId"] for book in books] == sorted(
        book["bookId"] for book in books
    )


def test_find_by_genre_sees_all_its_books(
    catalogue_client: tuple[FlaskClient, list[dict[str, Any]]],
) -> None:
    client, rows = catalogue_client
    expected = sorted(row["bookId"] for row in rows if row["genre"] == "Poetry")

    books, _ = walk_pages(client, "/book?limit=100&genre=Poetry")

    assert [book["bookId"] for book in books] == expected
