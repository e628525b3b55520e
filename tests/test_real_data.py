"""Real catalogue rows (a goodbooks-10k sample) go through the API unchanged."""

from __future__ import annotations

import csv
from pathlib import Path

from flask.testing import FlaskClient

SAMPLE = Path(__file__).parent / "data" / "goodbooks" / "books.csv"


def sample_books() -> list[dict[str, object]]:
    with SAMPLE.open(encoding="utf-8", newline="") as file:
        return [
            {
                "bookId": int(row["book_id"]),
                "name": row["title"],
                "author": row["authors"],
            }
            for row in csv.DictReader(file)
        ]


def test_sample_covers_hard_cases() -> None:
    books = sample_books()

    assert len(books) == 200
    assert max(len(str(book["author"])) for book in books) == 742
    assert any(not str(book["name"]).isascii() for book in books)


def test_sample_round_trips_unchanged(client: FlaskClient) -> None:
    books = sample_books()

    for book in books:
        response = client.post("/book", json=book)
        assert response.status_code == 201, response.get_json()

    for book in books:
        fetched = client.get(f"/book/{book['bookId']}").get_json()
        assert {key: fetched[key] for key in book} == book
