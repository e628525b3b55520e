"""``flask books export``: complete, exact, streamed and parallel."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask

from bookapi import create_app
from bookapi.bulk.exporter import (
    CSV_COLUMNS,
    ExportFormat,
    ExportInterrupted,
    export_books,
)
from tests.bulk import SAMPLE, import_file, invoke, stored_items
from tests.conftest import make_app

HARD_BOOKS = [
    {"bookId": 100001, "name": "Emma", "author": "Jane Austen", "genre": "Novel"},
    {"bookId": 100002, "name": "  Leading and trailing spaces  ", "genre": "Poetry"},
    {
        "bookId": 100003,
        "name": "Line one\r\nline two\rthree",
        "author": 'Quote " comma ,',
    },
    {"bookId": 9007199254740991, "name": "أحببتك أكثر مما ينبغي"},
]


def fill_table(app: Flask, tmp_path: Path) -> None:
    """Store the sample through an import and the hard cases through the API."""
    source = tmp_path / "sample.csv"
    source.write_bytes(SAMPLE.read_bytes())
    result = import_file(app, source, "--mapping", "goodbooks-10k")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    for book in HARD_BOOKS:
        assert client.post("/book", json=book).status_code in (200, 201)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_export_then_import_reproduces_table(
    app: Flask, backend: str | None, tmp_path: Path, suffix: str
) -> None:
    fill_table(app, tmp_path)
    export = tmp_path / f"export{suffix}"
    exported = invoke(app, "export", export)
    assert exported.exit_code == 0, exported.output
    empty = make_app(backend)

    result = import_file(empty, export)

    assert result.exit_code == 0, result.output
    assert stored_items(empty) == stored_items(app)


def test_export_lines_are_api_books(app: Flask, tmp_path: Path) -> None:
    fill_table(app, tmp_path)
    export = tmp_path / "export.jsonl"

    invoke(app, "export", export)

    lines = export.read_text(encoding="utf-8").splitlines()
    books = {json.loads(line)["bookId"]: json.loads(line) for line in lines}
    assert len(lines) == 204
    assert books == stored_items(app)


def test_csv_export_has_header_row(app: Flask, tmp_path: Path) -> None:
    fill_table(app, tmp_path)
    export = tmp_path / "export.csv"

    invoke(app, "export", export)

    with export.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 205


def test_parallel_export_writes_every_book(app: Flask, tmp_path: Path) -> None:
    fill_table(app, tmp_path)
    export = tmp_path / "export.jsonl"

    result = invoke(app, "export", export, "--segments", "4")

    assert result.exit_code == 0, result.output
    assert "Exported 204 books" in result.output
    ids = [json.loads(line)["bookId"] for line in export.read_text().splitlines()]
    assert sorted(ids) == sorted(stored_items(app))


def test_export_needs_known_extension(tmp_path: Path) -> None:
    app = create_app({"BOOKS_TABLE": "never-used"})

    result = invoke(app, "export", tmp_path / "books.json")

    assert result.exit_code == 2
    assert "give --format jsonl or csv" in result.output
    assert not (tmp_path / "books.json").exists()


class FakeBook:
    def __init__(self, book_id: int) -> None:
        self.book_id = book_id

    def to_dict(self) -> dict[str, Any]:
        return {"bookId": self.book_id, "name": f"Book {self.book_id}"}


class CountingModel:
    """A model whose scan makes books on demand and counts how many it made."""

    class Meta:
        table_name = "books-counting"

    books_per_segment = 2500
    lock = threading.Lock()
    made_count = 0

    @classmethod
    def scan(
        cls,
        segment: int | None,
        total_segments: int | None,
        page_size: int,
        consistent_read: bool,
    ) -> Iterator[FakeBook]:
        first = (segment or 0) * cls.books_per_segment
        for book_id in range(first + 1, first + cls.books_per_segment + 1):
            with cls.lock:
                cls.made_count += 1
            yield FakeBook(book_id)


def test_export_keeps_few_pages_in_memory(tmp_path: Path) -> None:
    segments, page_size = 4, 100
    in_memory: list[int] = []

    summary = export_books(
        cast(Any, CountingModel),
        tmp_path / "books.jsonl",
        ExportFormat.JSONL,
        segments=segments,
        page_size=page_size,
        on_page=lambda written: in_memory.append(CountingModel.made_count - written),
    )

    assert summary.count == 10_000
    # Each segment keeps at most a page it is filling and a page waiting for
    # queue space, and the queue keeps two pages per segment.
    assert max(in_memory) <= 4 * segments * page_size


def test_interrupted_export_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "books.jsonl"

    def interrupt(written: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(ExportInterrupted):
        export_books(
            cast(Any, CountingModel),
            path,
            ExportFormat.JSONL,
            page_size=100,
            on_page=interrupt,
        )
    assert list(tmp_path.iterdir()) == []


def test_export_of_missing_table_fails(backend: str | None, tmp_path: Path) -> None:
    app = create_app({"BOOKS_TABLE": "books-missing", "DYNAMODB_ENDPOINT": backend})

    result = invoke(app, "export", tmp_path / "books.jsonl")

    assert result.exit_code == 1
    assert "Table books-missing does not exist" in result.output
    assert list(tmp_path.iterdir()) == []
