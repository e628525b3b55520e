"""The ``flask books`` commands: manage the app's DynamoDB table."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from bookapi.store import BookStore
from bookapi.tables import IndexNotAdded, ensure_table

books_cli = AppGroup("books", help="Manage the books table.")


def bound_store() -> BookStore:
    store: BookStore = current_app.extensions["bookapi"]
    return store


@books_cli.command("create-table")
def create_table_command() -> None:
    """Create the books table and its indexes, or add the missing indexes.

    Waits until the table and its indexes are active.
    """
    try:
        ensure_table(bound_store().model, click.echo)
    except IndexNotAdded as error:
        raise click.ClickException(str(error)) from None


@books_cli.command("delete-table")
@click.option("--yes", is_flag=True, help="Delete without asking for confirmation.")
def delete_table_command(yes: bool) -> None:
    """Delete the books table and every book in it."""
    model = bound_store().model
    table = model.Meta.table_name
    if not model.exists():
        click.echo(f"Table {table} does not exist.")
        return
    if not yes:
        click.confirm(f"Delete table {table} and all its books?", abort=True)
    model.delete_table(wait=True)
    click.echo(f"Deleted table {table}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(books_cli)
