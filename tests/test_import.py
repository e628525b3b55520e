"""``flask books import``: formats, mappings, validation, idempotence, resume."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from bookapi import create_app
from bookapi.bulk import importer
from tests.bulk import (
    SAMPLE,
    import_file,
    invoke,
    read_report,
    sample_contents,
    stored_contents,
    stored_items,
    write_csv,
    write_json_lines,
)

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
BOOKS = [
    {"bookId": 1, "name": "Emma", "author": "Jane Austen", "genre": "Novel"},
    {"bookId": 2, "name": "Persuasion", "author": "Jane Austen"},
    {"bookId": 3, "name": "Beowulf"},
    {"bookId": 9007199254740991, "name": "Ça, “quoted”\nand on two lines"},
]


def expected(books: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {book["bookId"]: book for book in books}


def test_goodbooks_sample_imports_every_book(app: Flask, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"

    result = invoke(
        app, "import", SAMPLE, "--mapping", "goodbooks-10k", "--report", report
    )

    assert result.exit_code == 0, result.output
    assert stored_contents(app) == sample_contents()
    assert "Read 200 rows of books.csv" in result.output
    assert "Written: 200 (200 new, 0 replaced)" in result.output
    assert read_report(report) == []


def test_imported_book_reads_through_api(app: Flask, tmp_path: Path) -> None:
    source = write_json_lines(tmp_path / "books.jsonl", BOOKS[:1])

    import_file(app, source)
    response = app.test_client().get("/book/1")

    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in BOOKS[0]} == BOOKS[0]
    assert TIMESTAMP.fullmatch(body["createdAt"])
    assert body["updatedAt"] == body["createdAt"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["version"])
    assert response.headers["ETag"] == f'"{body["version"]}"'


@pytest.mark.parametrize("suffix", [".csv", ".json", ".jsonl"])
def test_each_format_imports_same_books(
    app: Flask, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"books{suffix}"
    if suffix == ".csv":
        columns = ["bookId", "name", "author", "genre"]
        write_csv(path, columns, [[b.get(c, "") for c in columns] for b in BOOKS])
    elif suffix == ".json":
        path.write_text(json.dumps(BOOKS, indent=2), encoding="utf-8")
    else:
        write_json_lines(path, BOOKS)

    result = import_file(app, path)

    assert result.exit_code == 0, result.output
    assert stored_contents(app) == expected(BOOKS)


def test_format_option_overrides_extension(app: Flask, tmp_path: Path) -> None:
    path = write_json_lines(tmp_path / "books.txt", BOOKS)

    result = import_file(app, path, "--format", "jsonl")

    assert result.exit_code == 0, result.output
    assert stored_contents(app) == expected(BOOKS)


def test_unknown_extension_needs_format(tmp_path: Path) -> None:
    path = write_json_lines(tmp_path / "books.txt", BOOKS)
    app = create_app({"BOOKS_TABLE": "never-used"})

    result = import_file(app, path)

    assert result.exit_code == 2
    assert "give --format csv, json or jsonl" in result.output


def test_map_option_renames_columns(app: Flask, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "books.csv",
        ["id", "title", "writer", "pages"],
        [[1, "Emma", "Jane Austen", 474]],
    )

    result = import_file(
        app, path, "--map", "id=bookId", "--map", "title=name", "--map", "writer=author"
    )

    assert result.exit_code == 0, result.output
    assert stored_contents(app) == {
        1: {"bookId": 1, "name": "Emma", "author": "Jane Austen"}
    }


def test_map_option_rejects_unknown_field(app: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "books.csv", ["id", "title"], [[1, "Emma"]])

    result = import_file(app, path, "--map", "id=isbn")

    assert result.exit_code == 2
    assert "Cannot map column 'id' to 'isbn'" in result.output


def test_missing_id_column_fails_before_writing(app: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "books.csv", ["title", "authors"], [["Emma", "J"]])

    result = import_file(app, path, "--map", "title=name")

    assert result.exit_code == 1
    assert "provides bookId" in result.output
    assert stored_contents(app) == {}


def test_missing_table_fails_with_hint(backend: str | None, tmp_path: Path) -> None:
    app = create_app({"BOOKS_TABLE": "books-missing", "DYNAMODB_ENDPOINT": backend})
    path = write_json_lines(tmp_path / "books.jsonl", BOOKS)

    result = import_file(app, path)

    assert result.exit_code == 1
    assert "Table books-missing does not exist" in result.output
    assert "flask books create-table" in result.output


INVALID_CSV = """\
bookId,name,author,genre
1,Emma,Jane Austen,Novel
2,,Nobody,
3,"A title
over two lines",Someone,
x7,Bad id,,
4,Too many,a,b,c

5,"   ",,
1,Emma again,,
0,Zero,,
6,Persuasion,Jane Austen,Novel
"""


def test_invalid_rows_are_reported_by_line(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_text(INVALID_CSV, encoding="utf-8")

    result = import_file(app, path)

    assert result.exit_code == 0, result.output
    assert read_report(tmp_path / "books.report.csv") == [
        (3, "name", "Missing data for required field."),
        (6, "bookId", "Not a valid integer."),
        (7, "", "The row has 5 fields but the header has 4."),
        (9, "name", "Must not be empty or only whitespace."),
        (10, "bookId", "Book 1 already came at line 2; the first wins."),
        (
            11,
            "bookId",
            "Must be greater than or equal to 1 and less than or equal to "
            "9007199254740991.",
        ),
    ]


def test_invalid_rows_are_skipped(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_text(INVALID_CSV, encoding="utf-8")

    result = import_file(app, path)

    assert stored_contents(app) == {
        1: {"bookId": 1, "name": "Emma", "author": "Jane Austen", "genre": "Novel"},
        3: {"bookId": 3, "name": "A title\nover two lines", "author": "Someone"},
        6: {
            "bookId": 6,
            "name": "Persuasion",
            "author": "Jane Austen",
            "genre": "Novel",
        },
    }
    assert "Read 9 rows" in result.output
    assert "skipped: 6" in result.output


def test_report_as_json_lines(app: Flask, tmp_path: Path) -> None:
    path = write_json_lines(tmp_path / "books.jsonl", [{"bookId": 1, "title": "E"}])
    report = tmp_path / "problems.jsonl"

    invoke(app, "import", path, "--report", report)

    entries = [json.loads(line) for line in report.read_text().splitlines()]
    assert entries == [
        {"line": 1, "field": "name", "reason": "Missing data for required field."},
        {"line": 1, "field": "title", "reason": "Unknown field."},
    ]


def test_strict_json_rules_apply_per_line(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "books.jsonl"
    path.write_bytes(
        b'{"bookId": 1, "name": "Emma"}\n'
        b'{"bookId": 2, "name": "A", "name": "B"}\n'
        b'{"bookId": 3, "name": NaN}\n'
        b"[1, 2]\n"
        b'{"bookId": 4, "name": "\xff"}\n'
        b'{"bookId": "5", "name": "Quoted id"}\n'
    )

    import_file(app, path)

    assert read_report(tmp_path / "books.report.csv") == [
        (2, "", "The key 'name' appears more than once."),
        (3, "", "NaN is not a JSON number."),
        (4, "", "The line is not a JSON object."),
        (5, "", "The line is not valid UTF-8 (byte 24)."),
        (6, "bookId", "Not a valid integer."),
    ]
    assert list(stored_contents(app)) == [1]


def test_invalid_json_array_imports_nothing(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "books.json"
    path.write_text('[\n{"bookId": 1, "name": "Emma"},\n{"bookId": 2,\n]\n')

    result = import_file(app, path)

    assert result.exit_code == 1
    assert "is not valid JSON" in result.output
    assert "line 4 column 1" in result.output
    assert stored_contents(app) == {}


def test_reimport_leaves_table_identical(app: Flask, tmp_path: Path) -> None:
    source = copy_sample(tmp_path)
    import_file(app, source, "--mapping", "goodbooks-10k")
    before = stored_items(app)

    result = import_file(app, source, "--mapping", "goodbooks-10k")

    assert result.exit_code == 0, result.output
    assert stored_items(app) == before
    assert "Written: 0 (0 new, 0 replaced); unchanged: 200" in result.output


def test_reimport_of_changed_row_replaces_it(app: Flask, tmp_path: Path) -> None:
    path = write_json_lines(tmp_path / "books.jsonl", BOOKS)
    import_file(app, path)
    before = stored_items(app)
    changed = [{**BOOKS[0], "name": "Emma (annotated)"}, *BOOKS[1:]]

    result = import_file(app, write_json_lines(path, changed))

    after = stored_items(app)
    assert "Written: 1 (0 new, 1 replaced); unchanged: 3" in result.output
    assert after[1]["name"] == "Emma (annotated)"
    assert after[1]["createdAt"] == before[1]["createdAt"]
    assert after[1]["updatedAt"] >= before[1]["updatedAt"]
    assert after[1]["version"] != before[1]["version"]
    assert {k: after[k] for k in (2, 3)} == {k: before[k] for k in (2, 3)}


def test_server_fields_are_stored_as_given(app: Flask, tmp_path: Path) -> None:
    book = {
        **BOOKS[0],
        "createdAt": "2020-01-02T03:04:05.006Z",
        "updatedAt": "2021-01-02T03:04:05.006Z",
        "version": "0123456789abcdef0123456789abcdef",
    }
    path = write_json_lines(tmp_path / "books.jsonl", [book])

    result = import_file(app, path)

    assert result.exit_code == 0, result.output
    assert stored_items(app) == {1: book}


def test_server_fields_come_together(app: Flask, tmp_path: Path) -> None:
    rows = [
        {**BOOKS[0], "createdAt": "2020-01-02T03:04:05.006Z"},
        {
            **BOOKS[1],
            "createdAt": "2020-01-02T03:04:05Z",
            "updatedAt": "2019-01-02T03:04:05.006Z",
            "version": "not-hex",
        },
    ]
    path = write_json_lines(tmp_path / "books.jsonl", rows)

    import_file(app, path)

    timestamp = (
        "Must be a UTC time with milliseconds, such as 2026-12-04T15:43:23.315Z."
    )
    together = "Missing: createdAt, updatedAt and version come together."
    assert read_report(tmp_path / "books.report.csv") == [
        (1, "updatedAt", together),
        (1, "version", together),
        (2, "createdAt", timestamp),
        (2, "version", "Must be 32 lowercase hexadecimal digits."),
    ]
    assert stored_contents(app) == {}


def interrupt_after_batches(monkeypatch: pytest.MonkeyPatch, batches: int) -> None:
    """Raise KeyboardInterrupt in the main thread, as Ctrl-C would, once
    ``batches`` batches are written."""
    finish = importer.Import._finish
    interrupted = False

    def finish_then_interrupt(
        self: importer.Import, batch: importer.Batch, outcome: Any
    ) -> None:
        nonlocal interrupted
        finish(self, batch, outcome)
        if not interrupted and self.summary.written >= batches * 25:
            interrupted = True
            raise KeyboardInterrupt

    monkeypatch.setattr(importer.Import, "_finish", finish_then_interrupt)


def copy_sample(tmp_path: Path) -> Path:
    source = tmp_path / "books.csv"
    source.write_bytes(SAMPLE.read_bytes())
    return source


def test_interrupted_import_says_how_far(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_after_batches(monkeypatch, 2)

    result = import_file(
        app, copy_sample(tmp_path), "--mapping", "goodbooks-10k", "--workers", "1"
    )

    assert result.exit_code == 130
    match = re.search(r"Interrupted: every row up to line (\d+) is done", result.output)
    assert match is not None, result.output
    done_rows = int(match.group(1)) - 1
    assert done_rows >= 50
    assert len(stored_contents(app)) == done_rows
    assert (tmp_path / "books.report.checkpoint.json").exists()


def test_resume_finishes_interrupted_import(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = copy_sample(tmp_path)
    with monkeypatch.context() as patch:
        interrupt_after_batches(patch, 2)
        import_file(app, source, "--mapping", "goodbooks-10k", "--workers", "1")
    done_rows = len(stored_contents(app))

    result = import_file(app, source, "--mapping", "goodbooks-10k", "--resume")

    assert result.exit_code == 0, result.output
    assert f"Already done by the interrupted import: {done_rows} rows." in (
        result.output
    )
    left = 200 - done_rows
    assert f"Written: {left} ({left} new, 0 replaced)" in result.output
    assert stored_contents(app) == sample_contents()
    assert not (tmp_path / "books.report.checkpoint.json").exists()


def test_resume_rejects_changed_file(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = copy_sample(tmp_path)
    with monkeypatch.context() as patch:
        interrupt_after_batches(patch, 1)
        import_file(app, source, "--mapping", "goodbooks-10k", "--workers", "1")
    with source.open("a", encoding="utf-8") as file:
        file.write("99999,,,,,,,Someone,,,A new book,,,,,,,,,,,,\n")

    result = import_file(app, source, "--mapping", "goodbooks-10k", "--resume")

    assert result.exit_code == 1
    assert "belongs to another import (different sha256)" in result.output


def test_report_in_missing_folder_fails(app: Flask, tmp_path: Path) -> None:
    path = write_json_lines(tmp_path / "books.jsonl", BOOKS)

    result = invoke(app, "import", path, "--report", tmp_path / "no" / "r.csv")

    assert result.exit_code == 1
    assert "No such file or directory" in result.output
    assert stored_contents(app) == {}
