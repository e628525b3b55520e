"""Helpers for the import and export tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from click.testing import Result
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "goodbooks" / "books.csv"


def invoke(app: Flask, *args: str | Path) -> Result:
    """Run ``flask books ARGS`` on ``app``, as the CLI would."""
    return app.test_cli_runner().invoke(args=["books", *map(str, args)])


def import_file(app: Flask, path: Path, *options: str | Path) -> Result:
    """Import ``path``, with the report and checkpoint beside it."""
    report = path.with_name(path.stem + ".report.csv")
    return invoke(app, "import", path, "--report", report, *options)


def stored_items(app: Flask) -> dict[int, dict[str, Any]]:
    """Every stored book by id, with every attribute, read by a full scan."""
    model = app.extensions["bookapi"].model
    books = model.scan(consistent_read=True)
    return {int(book.book_id): book.to_dict() for book in books}


def stored_contents(app: Flask) -> dict[int, dict[str, Any]]:
    """Every stored book by id, without the server's fields."""
    server_fields = ("createdAt", "updatedAt", "version")
    return {
        book_id: {k: v for k, v in item.items() if k not in server_fields}
        for book_id, item in stored_items(app).items()
    }


def sample_contents() -> dict[int, dict[str, Any]]:
    """The shipped goodbooks-10k sample as books, as the import maps it."""
    with SAMPLE.open(encoding="utf-8", newline="") as file:
        return {
            int(row["book_id"]): {
                "bookId": int(row["book_id"]),
                "name": row["title"],
                "author": row["authors"],
            }
            for row in csv.DictReader(file)
        }


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_json_lines(path: Path, books: Iterable[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as file:
        for book in books:
            file.write(json.dumps(book, ensure_ascii=False) + "\n")
    return path


def read_report(path: Path) -> list[tuple[int, str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return [
            (int(row["line"]), row["field"], row["reason"])
            for row in csv.DictReader(file)
        ]
