"""The ``flask books`` table commands."""

from __future__ import annotations

from flask import Flask
from moto import mock_aws

from bookapi import create_app
from bookapi.models import Book
from tests.conftest import make_app
from tests.servers import Dynalite


def test_create_table_is_idempotent(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["books", "create-table"])

    assert result.exit_code == 0
    assert "already exists with all its indexes" in result.output
    assert app.extensions["bookapi"].model.exists()


def test_delete_table_asks_for_confirmation(app: Flask) -> None:
    runner = app.test_cli_runner()

    refused = runner.invoke(args=["books", "delete-table"], input="n\n")

    assert refused.exit_code == 1
    assert "Aborted" in refused.output
    assert app.extensions["bookapi"].model.exists()


def test_delete_table_with_yes(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["books", "delete-table", "--yes"])

    assert result.exit_code == 0
    assert "Deleted table" in result.output
    assert not app.extensions["bookapi"].model.exists()


def test_create_table_creates_missing_table(backend: str | None) -> None:
    app = make_app(backend)
    model = app.extensions["bookapi"].model
    description = model.describe_table()

    assert description["TableStatus"] == "ACTIVE"
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def create_old_version_table(model: type[Book]) -> None:
    """Create the table as a version without indexes did, with one book."""
    client = model._get_connection().connection.client
    table = model.Meta.table_name
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "bookId", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "bookId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(
        TableName=table,
        Item={
            "bookId": {"N": "1"},
            "name": {"S": "Emma"},
            "author": {"S": "Jane Austen"},
            "createdAt": {"S": "2020-01-01T00:00:00.000Z"},
            "updatedAt": {"S": "2020-01-01T00:00:00.000Z"},
            "version": {"S": "v1"},
        },
    )


def test_create_table_adds_missing_indexes() -> None:
    with mock_aws():
        app = create_app({"BOOKS_TABLE": "books-old-version"})
        model = app.extensions["bookapi"].model
        create_old_version_table(model)

        first = app.test_cli_runner().invoke(args=["books", "create-table"])
        second = app.test_cli_runner().invoke(args=["books", "create-table"])

        assert first.exit_code == 0, first.output
        assert "Adding index author-index" in first.output
        assert "Adding index genre-index" in first.output
        assert "already exists with all its indexes" in second.output
        indexes = model.describe_table()["GlobalSecondaryIndexes"]
        names = sorted(index["IndexName"] for index in indexes)
        assert names == ["author-index", "genre-index"]
        found = app.test_client().get("/book", query_string={"author": "Jane Austen"})
        assert [book["bookId"] for book in found.get_json()["items"]] == [1]


def test_create_table_reports_ignored_index(dynalite_server: Dynalite) -> None:
    app = create_app(
        {
            "BOOKS_TABLE": "books-old-version",
            "DYNAMODB_ENDPOINT": dynalite_server.endpoint,
        }
    )
    create_old_version_table(app.extensions["bookapi"].model)

    result = app.test_cli_runner().invoke(args=["books", "create-table"])

    assert result.exit_code == 1
    assert "did not add it" in result.output
