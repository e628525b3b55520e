"""The ``flask books`` table commands."""

from __future__ import annotations

from flask import Flask

from tests.conftest import make_app


def test_create_table_is_idempotent(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["books", "create-table"])

    assert result.exit_code == 0
    assert "already exists" in result.output
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
