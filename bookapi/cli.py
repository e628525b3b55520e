"""The ``flask books`` commands: manage the app's DynamoDB table and its books."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from botocore.exceptions import BotoCoreError
from flask import Flask, current_app
from flask.cli import AppGroup
from pynamodb.exceptions import PynamoDBException

from bookapi.bulk.checkpoint import CheckpointError
from bookapi.bulk.exporter import (
    EXPORT_FORMAT_BY_SUFFIX,
    ExportFormat,
    ExportInterrupted,
    ExportSummary,
    export_books,
)
from bookapi.bulk.importer import (
    MAX_WORKERS,
    Import,
    ImportFailed,
    ImportOptions,
    summary_lines,
)
from bookapi.bulk.progress import Progress
from bookapi.bulk.rows import MAPPINGS, ColumnMapping, MappingError
from bookapi.bulk.sources import FileFormat, SourceError, format_from_suffix
from bookapi.models import Book
from bookapi.store import BookStore
from bookapi.tables import IndexNotAdded, ensure_table

# The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells use.
EXIT_INTERRUPTED = 130

log_every_option = click.option(
    "--log-every",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds between progress log lines when stderr is not a terminal.",
)

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
    except (PynamoDBException, BotoCoreError) as error:
        raise dynamodb_failed(error) from None


@books_cli.command("delete-table")
@click.option("--yes", is_flag=True, help="Delete without asking for confirmation.")
def delete_table_command(yes: bool) -> None:
    """Delete the books table and every book in it."""
    model = bound_store().model
    table = model.Meta.table_name
    try:
        if not model.exists():
            click.echo(f"Table {table} does not exist.")
            return
        if not yes:
            click.confirm(f"Delete table {table} and all its books?", abort=True)
        model.delete_table(wait=True)
    except (PynamoDBException, BotoCoreError) as error:
        raise dynamodb_failed(error) from None
    click.echo(f"Deleted table {table}.")


def dynamodb_failed(error: Exception) -> click.ClickException:
    endpoint = current_app.config["DYNAMODB_ENDPOINT"] or "AWS"
    return click.ClickException(
        f"DynamoDB call failed at {endpoint}: {error}. Check DYNAMODB_ENDPOINT, "
        "AWS_REGION and the AWS credentials."
    )


def parse_map(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        column, sep, field = value.partition("=")
        if not sep or not column or not field:
            raise click.BadParameter(f"{value!r} is not COLUMN=FIELD.")
        pairs.append((column, field))
    return pairs


@books_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice([f.value for f in FileFormat]),
    help="Format of FILE: csv, json (an array of objects) or jsonl (JSON Lines). "
    "Default: from FILE's extension (.csv, .json, .jsonl or .ndjson).",
)
@click.option(
    "--mapping",
    type=click.Choice(sorted(MAPPINGS)),
    help="A column mapping that ships with bookapi, such as goodbooks-10k.",
)
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="COLUMN=FIELD",
    callback=parse_map,
    help="Read the book field FIELD from the column COLUMN; repeat for more "
    "fields. It replaces the --mapping column for that field.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File for the invalid rows: CSV, or JSON Lines when it ends in "
    ".jsonl. Default: FILE's name without extension + .import-report.csv, in "
    "the current directory. The checkpoint goes beside it.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Skip the lines that the checkpoint of an interrupted import marks done.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_WORKERS),
    default=4,
    show_default=True,
    help="Batches written in parallel.",
)
@log_every_option
def import_command(
    file: Path,
    file_format: str | None,
    mapping: str | None,
    pairs: list[tuple[str, str]],
    report: Path | None,
    resume: bool,
    workers: int,
    log_every: float,
) -> None:
    """Import books from FILE (CSV, JSON or JSON Lines) into the table.

    Every row is validated as POST /book validates a book. Invalid rows are
    skipped and listed in the report with their line, field and reason.
    Rows are written in batches of 25; importing the same file again changes
    nothing. Ctrl-C stops cleanly; rerun with --resume to finish.
    """
    chosen = FileFormat(file_format) if file_format else format_from_suffix(file)
    if chosen is None:
        raise click.UsageError(
            f"Cannot tell the format of {file.name} from its extension; "
            "give --format csv, json or jsonl."
        )
    try:
        column_mapping = ColumnMapping.build(mapping, pairs)
    except MappingError as error:
        raise click.BadParameter(str(error), param_hint="--map") from None
    options = ImportOptions(
        path=file,
        file_format=chosen,
        mapping=column_mapping,
        report_path=report or Path(f"{file.stem}.import-report.csv"),
        resume=resume,
        workers=workers,
        terminal=sys.stderr.isatty(),
        log_every=log_every,
    )
    run = Import(bound_store().model, options)
    try:
        summary = run.run()
    except (SourceError, CheckpointError) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"{error.filename}: {error.strerror}") from None
    except ImportFailed as error:
        if run.summary.read == 0:
            raise click.ClickException(str(error)) from None
        for line in summary_lines(run.summary, options):
            click.echo(line)
        raise click.ClickException(
            f"{error} Fix the cause, then run the same command with --resume."
        ) from None
    for line in summary_lines(summary, options):
        click.echo(line)
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)


@books_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "export_format",
    type=click.Choice([f.value for f in ExportFormat]),
    help="jsonl (JSON Lines) or csv. Default: from FILE's extension "
    "(.jsonl, .ndjson or .csv).",
)
@click.option(
    "--segments",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Scan the table in this many parallel segments (a parallel scan).",
)
@log_every_option
def export_command(
    file: Path, export_format: str | None, segments: int, log_every: float
) -> None:
    """Write every book of the table to FILE, as JSON Lines or CSV.

    The books carry createdAt, updatedAt and version, so importing the file
    into an empty table reproduces them exactly. FILE appears only when the
    export is complete.
    """
    chosen = (
        ExportFormat(export_format)
        if export_format
        else EXPORT_FORMAT_BY_SUFFIX.get(file.suffix.lower())
    )
    if chosen is None:
        raise click.UsageError(
            f"Cannot tell the format of {file.name} from its extension; "
            "give --format jsonl or csv."
        )
    model = bound_store().model
    try:
        summary = export_table(model, file, chosen, segments, log_every)
    except ExportInterrupted as stopped:
        click.echo(
            f"Interrupted after {stopped.count:,} books; {file} was not written."
        )
        sys.exit(EXIT_INTERRUPTED)
    except PynamoDBException as error:
        raise click.ClickException(f"The export failed: {error}") from None
    except OSError as error:
        raise click.ClickException(f"{error.filename}: {error.strerror}") from None
    rate = summary.count / summary.seconds if summary.seconds > 0 else 0.0
    click.echo(
        f"Exported {summary.count:,} books to {file} in {summary.seconds:.1f} s "
        f"({rate:,.0f} books/s)."
    )


def export_table(
    model: type[Book],
    file: Path,
    export_format: ExportFormat,
    segments: int,
    log_every: float,
) -> ExportSummary:
    """Export with a progress bar or log lines; see :func:`export_books`."""
    if not model.exists():
        raise click.ClickException(
            f"Table {model.Meta.table_name} does not exist; nothing to export."
        )
    # NOTE: ItemCount is DynamoDB's estimate, refreshed about every six hours
    # (dynalite reports 0), so the bar's percentage and time left are
    # estimates too. With no estimate the bar shows only the count and rate.
    estimate = int(model.describe_table().get("ItemCount", 0)) or None
    progress = Progress(
        f"Exporting to {file.name}", estimate, "books", sys.stderr.isatty(), log_every
    )
    with progress:
        summary = export_books(
            model,
            file,
            export_format,
            segments=segments,
            on_page=lambda count: progress.update(count, count),
        )
        progress.update(summary.count, summary.count, final=True)
    return summary


def init_app(app: Flask) -> None:
    app.cli.add_command(books_cli)
