"""Input files read record by record, with the line where each record starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookapi.bulk.sources import FileFormat, Record, SourceError, open_source


def read(path: Path, file_format: FileFormat) -> list[Record]:
    with open_source(path, file_format) as source:
        return list(source.records())


def test_json_array_elements_keep_lines(tmp_path: Path) -> None:
    path = tmp_path / "books.json"
    path.write_text('[\n  {"bookId": 1,\n   "name": "A"},\n\n  {"bookId": 2}\n]\n')

    records = read(path, FileFormat.JSON)

    assert [record.line for record in records] == [2, 5]
    assert records[1].data == {"bookId": 2}


def test_json_array_element_breaks_strict_rule(tmp_path: Path) -> None:
    path = tmp_path / "books.json"
    path.write_text('[{"bookId": 1}, {"bookId": 2, "bookId": 3}, 7]')

    records = read(path, FileFormat.JSON)

    assert [record.problems for record in records] == [
        (),
        (("", "The key 'bookId' appears more than once."),),
        (("", "The element is not a JSON object."),),
    ]


def test_json_array_with_trailing_text_fails(tmp_path: Path) -> None:
    path = tmp_path / "books.json"
    path.write_text('[{"bookId": 1}]\n{"bookId": 2}\n')

    with pytest.raises(SourceError, match="expected the end of the file after"):
        read(path, FileFormat.JSON)


def test_csv_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_bytes(b"\xef\xbb\xbfbookId,name\r\n1,Emma\r\n")

    with open_source(path, FileFormat.CSV) as source:
        columns = source.columns
        records = list(source.records())

    assert columns == ["bookId", "name"]
    assert records == [Record(2, {"bookId": "1", "name": "Emma"})]


def test_csv_invalid_utf8_value_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_bytes(b"bookId,name\n1,Caf\xe9\n")

    records = read(path, FileFormat.CSV)

    assert records[0].problems == (("name", "The value is not valid UTF-8."),)


def test_csv_unterminated_quote_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_text('bookId,name\n1,Emma\n2,"Open\n3,Lost\n')

    records = read(path, FileFormat.CSV)

    assert records[-1] == Record(3, {}, (("", "Invalid CSV: unexpected end of data."),))


def test_csv_repeated_column_fails(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_text("bookId,name,name\n1,A,B\n")

    with pytest.raises(SourceError, match="more than once: name"):
        read(path, FileFormat.CSV)


def test_empty_csv_fails(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    path.write_text("")

    with pytest.raises(SourceError, match="needs a header line"):
        read(path, FileFormat.CSV)
