"""The ``flask books`` commands: manage the app's DynamoDB table."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from bookapi.store import BookStore

books_cli = AppGroup("books", help="Manage the books table.")


def bound_store() -> BookStore:
    store: BookStore = current_app.extensions["bookapi"]
    return store


@books_cli.command("create-table")
def create_table_command() -> None:
    """Create the books table if it is missing and wait until it is active."""
    model = bound_store().model
    table = model.Meta.table_name
    if model.exists():
        click.echo(f"Table {table} already exists.")
        return
    model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    click.echo(f"Created table {table}.")


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
