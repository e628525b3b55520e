"""One import run: read, validate, batch, write in parallel, report, checkpoint.

The main thread reads and validates records in file order and groups valid
rows into batches of 25; a pool of worker threads writes the batches. At
most two batches per worker are in flight, so memory stays flat however
large the file is (apart from the book ids remembered to find duplicates).

Each batch covers a range of input lines, invalid rows included, and the
range goes into the checkpoint once the batch is written. On Ctrl-C the
import stops reading, cancels batches not yet started, lets running ones
finish and saves the checkpoint; ``--resume`` then skips the done lines.
Rerunning without ``--resume`` also finishes the job, because rows already
stored unchanged are not written again.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pynamodb.exceptions import PynamoDBException

from bookapi.bulk.checkpoint import (
    Checkpoint,
    checkpoint_path_for,
    file_sha256,
)
from bookapi.bulk.progress import Progress
from bookapi.bulk.report import ProblemReport
from bookapi.bulk.rows import BookRow, ColumnMapping, RowValidator
from bookapi.bulk.sources import FileFormat, open_source
from bookapi.bulk.writer import (
    BATCH_SIZE,
    Backoff,
    BatchOutcome,
    BookBatchWriter,
    WriteFailed,
)
from bookapi.models import Book

logger = logging.getLogger(__name__)

#: Upper bound of ``workers``: PynamoDB's default HTTP connection pool size,
#: so that no worker waits for a connection.
MAX_WORKERS = 10

# Save the checkpoint at most this often while the import runs, in seconds.
CHECKPOINT_EVERY = 1.0


class ImportFailed(Exception):
    """The import cannot start or cannot go on; the message gives the reason."""


@dataclass(frozen=True)
class ImportOptions:
    path: Path
    file_format: FileFormat
    mapping: ColumnMapping
    report_path: Path
    resume: bool = False
    workers: int = 4
    terminal: bool = False
    log_every: float = 10.0
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def checkpoint_path(self) -> Path:
        return checkpoint_path_for(self.report_path)


@dataclass
class ImportSummary:
    """Counts of an import run, in records (rows) of the input."""

    read: int = 0
    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped: int = 0
    already_done: int = 0
    retried: int = 0
    done_through: int = 0
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def written(self) -> int:
        return self.created + self.replaced

    @property
    def finished(self) -> int:
        return self.written + self.unchanged + self.skipped + self.already_done

    def add(self, outcome: BatchOutcome) -> None:
        self.created += outcome.created
        self.replaced += outcome.replaced
        self.unchanged += outcome.unchanged
        self.retried += outcome.retried


@dataclass
class Batch:
    """Valid rows to write, and the input lines they settle once written."""

    first_line: int
    last_line: int = 0
    rows: list[BookRow] = field(default_factory=list)


class Import:
    """An import of one file into the table of ``model``; call :meth:`run`."""

    def __init__(self, model: type[Book], options: ImportOptions) -> None:
        if not 1 <= options.workers <= MAX_WORKERS:
            raise ValueError(f"workers must be from 1 to {MAX_WORKERS}.")
        self.model = model
        self.options = options
        self.summary = ImportSummary()
        self.stop = threading.Event()
        self.writer = BookBatchWriter(model, options.backoff, self.stop)
        self.pending: dict[Future[BatchOutcome], Batch] = {}
        self._last_save = 0.0

    def run(self) -> ImportSummary:
        """Import the file; return the counts, also when interrupted (Ctrl-C).

        Raises :class:`ImportFailed` when the table is missing, a required
        column is missing, or DynamoDB fails in a way retries cannot fix,
        and :class:`~bookapi.bulk.sources.SourceError` or
        :class:`~bookapi.bulk.checkpoint.CheckpointError` when the file or
        the checkpoint cannot be used.
        """
        options = self.options
        started = time.monotonic()
        self._check_table()
        self.checkpoint = self._open_checkpoint()
        with (
            open_source(options.path, options.file_format) as self.source,
            ProblemReport(options.report_path) as self.report,
        ):
            logger.info(
                "Importing %s as %s into table %s with %d workers",
                options.path,
                options.file_format.value,
                self.model.Meta.table_name,
                options.workers,
            )
            validator = self._validator()
            self.progress = Progress(
                f"Importing {options.path.name}",
                self.source.size,
                "rows",
                options.terminal,
                options.log_every,
            )
            pool = ThreadPoolExecutor(options.workers, thread_name_prefix="import")
            completed = False
            try:
                with self.progress, self._deferred_interrupt():
                    self._import(validator, pool)
                completed = True
            except KeyboardInterrupt:
                self.summary.interrupted = True
                self._stop_batches()
            except BaseException:
                self._stop_batches()
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
                self.summary.done_through = self.checkpoint.done_through()
                self.summary.seconds = time.monotonic() - started
                if validator.ignored and self.source.columns is None:
                    logger.info(
                        "Ignored fields that have no mapping: %s",
                        ", ".join(sorted(validator.ignored)),
                    )
                if completed:
                    self.checkpoint.delete()
                else:
                    self.checkpoint.save()
        return self.summary

    @contextlib.contextmanager
    def _deferred_interrupt(self) -> Iterator[None]:
        """Turn the first Ctrl-C into a stop at the next safe point.

        A KeyboardInterrupt raised between any two bytecodes can leave a lock
        of concurrent.futures held, and the pool's shutdown then waits
        forever. So the signal only sets ``stop``, which the import loop
        checks in :meth:`_collect`. A second Ctrl-C raises at once.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum: int, frame: FrameType | None) -> None:
            if self.stop.is_set():
                raise KeyboardInterrupt
            self.stop.set()

        previous = signal.signal(signal.SIGINT, request_stop)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _check_table(self) -> None:
        table = self.model.Meta.table_name
        try:
            exists = self.model.exists()
        except PynamoDBException as error:
            raise ImportFailed(f"Cannot reach DynamoDB: {error}") from None
        if not exists:
            raise ImportFailed(
                f"Table {table} does not exist; create it with "
                "`flask books create-table` first."
            )

    def _open_checkpoint(self) -> Checkpoint:
        options = self.options
        path = options.checkpoint_path
        identity = {
            "sha256": file_sha256(options.path),
            "format": options.file_format.value,
            "mapping": options.mapping.describe(),
            "table": self.model.Meta.table_name,
            "endpoint": getattr(self.model.Meta, "host", None) or "aws",
        }
        if options.resume and path.exists():
            checkpoint = Checkpoint.load(path, identity)
            logger.info(
                "Resuming from %s: every row up to line %d is done",
                path,
                checkpoint.done_through(),
            )
            return checkpoint
        if options.resume:
            logger.info("No checkpoint at %s; importing from the start", path)
        elif path.exists():
            logger.info("Replacing the checkpoint %s of an earlier import", path)
        return Checkpoint(path, identity)

    def _validator(self) -> RowValidator:
        mapping = self.options.mapping
        columns = self.source.columns
        if columns is not None:
            missing = mapping.missing_fields(columns)
            if missing:
                raise ImportFailed(
                    f"No column of {self.options.path.name} provides "
                    + " or ".join(missing)
                    + f" (columns: {', '.join(columns)}). Map one with "
                    + "--map COLUMN=FIELD or choose a --mapping."
                )
            _, ignored = mapping.apply(dict.fromkeys(columns, ""))
            if ignored:
                logger.info(
                    "Ignoring %d columns that have no mapping: %s",
                    len(ignored),
                    ", ".join(ignored),
                )
        return RowValidator(mapping, self.source.text_values)

    def _import(self, validator: RowValidator, pool: ThreadPoolExecutor) -> None:
        batch = Batch(first_line=1)
        for line, row in self._rows(validator):
            batch.last_line = line
            if row is not None:
                batch.rows.append(row)
            if len(batch.rows) == BATCH_SIZE:
                self._submit(batch, pool)
                batch = Batch(first_line=line + 1)
            self._collect(block=False)
            self._show_progress()
        if batch.last_line:
            self._submit(batch, pool)
        while self.pending:
            self._collect(block=True)
            self._show_progress()
        self._show_progress(finished=True)

    def _rows(self, validator: RowValidator) -> Iterator[tuple[int, BookRow | None]]:
        """Yield each record's line with its row, or None when none is to write."""
        summary = self.summary
        for record in self.source.records():
            summary.read += 1
            result = validator.validate(record)
            if isinstance(result, list):
                for problem in result:
                    self.report.add(problem)
                summary.skipped += 1
                yield record.line, None
            elif self.checkpoint.is_done(record.line):
                summary.already_done += 1
                yield record.line, None
            else:
                yield record.line, result

    def _submit(self, batch: Batch, pool: ThreadPoolExecutor) -> None:
        if not batch.rows:
            self._finish(batch, BatchOutcome())
            return
        while len(self.pending) >= 2 * self.options.workers:
            self._collect(block=True)
            self._show_progress()
        self.pending[pool.submit(self.writer.write, batch.rows)] = batch

    def _collect(self, block: bool) -> None:
        """Take the results of finished batches; raise the first failure.

        Raises KeyboardInterrupt, at this safe point, once Ctrl-C has set
        ``stop``.
        """
        if self.stop.is_set():
            raise KeyboardInterrupt
        if not self.pending:
            return
        done, _ = wait(
            self.pending, timeout=0.2 if block else 0, return_when=FIRST_COMPLETED
        )
        failure: BaseException | None = None
        for future in done:
            batch = self.pending.pop(future)
            error = future.exception()
            if error is None:
                self._finish(batch, future.result())
            elif failure is None:
                failure = error
        if isinstance(failure, WriteFailed | PynamoDBException):
            raise ImportFailed(str(failure)) from failure
        if failure is not None:
            raise failure

    def _finish(self, batch: Batch, outcome: BatchOutcome) -> None:
        self.summary.add(outcome)
        self.checkpoint.mark_done(batch.first_line, batch.last_line)
        now = time.monotonic()
        if now - self._last_save >= CHECKPOINT_EVERY:
            self.checkpoint.save()
            self._last_save = now

    def _stop_batches(self) -> None:
        """Cancel batches not started and wait for running ones to end.

        Batches that still finish are counted and marked done. A second
        Ctrl-C ends the wait, and the batches still running are then
        neither counted nor marked done.
        """
        self.stop.set()
        for future in self.pending:
            future.cancel()
        try:
            while self.pending:
                done, _ = wait(self.pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = self.pending.pop(future)
                    if not future.cancelled() and future.exception() is None:
                        self._finish(batch, future.result())
        except KeyboardInterrupt:
            logger.warning("Stopped waiting for running batches")

    def _show_progress(self, finished: bool = False) -> None:
        summary = self.summary
        detail = (
            f"{summary.written:,} written, {summary.unchanged:,} unchanged, "
            f"{summary.skipped:,} skipped, {summary.retried:,} retried"
        )
        position = self.source.size if finished else self.source.position
        self.progress.update(position, summary.finished, detail, final=finished)


def import_books(model: type[Book], options: ImportOptions) -> ImportSummary:
    """Import ``options.path`` into the table of ``model``; see :class:`Import`."""
    return Import(model, options).run()


def summary_lines(summary: ImportSummary, options: ImportOptions) -> list[str]:
    """Describe the outcome of an import for people, one sentence a line."""
    rate = summary.finished / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        f"Read {summary.read:,} rows of {options.path.name} in "
        f"{summary.seconds:.1f} s ({rate:,.0f} rows/s).",
        f"Written: {summary.written:,} ({summary.created:,} new, "
        f"{summary.replaced:,} replaced); unchanged: {summary.unchanged:,}; "
        f"skipped: {summary.skipped:,}; retried: {summary.retried:,}.",
    ]
    if summary.already_done:
        lines.append(
            f"Already done by the interrupted import: {summary.already_done:,} rows."
        )
    if summary.skipped:
        lines.append(
            f"{summary.skipped:,} invalid rows were skipped; see {options.report_path}."
        )
    else:
        lines.append(f"No invalid rows; the report {options.report_path} is empty.")
    if summary.interrupted:
        lines.append(
            f"Interrupted: every row up to line {summary.done_through} is done. "
            "Run the same command with --resume to finish; the checkpoint is "
            f"{options.checkpoint_path}."
        )
    return lines
