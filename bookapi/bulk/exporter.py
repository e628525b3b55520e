"""Export of the whole table to JSON Lines or CSV, streamed page by page.

Each scan segment runs in its own thread and hands pages of books to the
main thread through a bounded queue, so at most a few pages are in memory
at once, however large the table is. One segment is a plain Scan; more make
it a parallel scan (DynamoDB's ``Segment`` and ``TotalSegments``). Books come
in the order the scan returns them, which is not ``bookId`` order.

The file is written to ``FILE.partial`` and renamed to ``FILE`` once
complete, so an interrupted or failed export leaves no truncated file behind.

A JSON Lines export has one book per line as ``GET /book/{id}`` returns it.
A CSV export has the columns of :data:`CSV_COLUMNS`, with an empty cell for
an absent field. Both carry ``createdAt``, ``updatedAt`` and ``version``, so
importing an export into an empty table reproduces every book exactly.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from bookapi.models import Book

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("bookId", "name", "author", "genre", "createdAt", "updatedAt", "version")

#: Books per Scan call (DynamoDB's ``Limit``); a page is also at most 1 MB.
PAGE_SIZE = 1000

# Pages waiting for the writer, per segment.
QUEUED_PAGES_PER_SEGMENT = 2

# How often a thread that waits on the queue checks whether to stop, in seconds.
POLL_SECONDS = 0.1


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


EXPORT_FORMAT_BY_SUFFIX = {
    ".jsonl": ExportFormat.JSONL,
    ".ndjson": ExportFormat.JSONL,
    ".csv": ExportFormat.CSV,
}


class ExportInterrupted(Exception):
    """The export was stopped (Ctrl-C); ``count`` books had been written."""

    def __init__(self, count: int) -> None:
        super().__init__(f"Interrupted after {count} books.")
        self.count = count


@dataclass(frozen=True)
class ExportSummary:
    count: int
    seconds: float


class _End:
    """Marks the end of one segment on the queue."""


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


QueueEntry = list[dict[str, Any]] | _End | _Failure


class _Segment(threading.Thread):
    """Scans one segment and puts its books on the queue, a page at a time."""

    def __init__(
        self,
        model: type[Book],
        segment: int,
        total_segments: int,
        page_size: int,
        pages: queue.Queue[QueueEntry],
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"export-segment-{segment}", daemon=True)
        self.model = model
        self.segment = segment
        self.total_segments = total_segments
        self.page_size = page_size
        self.pages = pages
        self.stop = stop

    def run(self) -> None:
        try:
            for page in self._pages():
                if not self._put(page):
                    return
        except BaseException as error:
            self._put(_Failure(error))
            return
        self._put(_End())

    def _pages(self) -> Iterator[list[dict[str, Any]]]:
        books = self.model.scan(
            segment=self.segment if self.total_segments > 1 else None,
            total_segments=self.total_segments if self.total_segments > 1 else None,
            page_size=self.page_size,
            consistent_read=True,
        )
        page: list[dict[str, Any]] = []
        for book in books:
            page.append(book.to_dict())
            if len(page) == self.page_size:
                yield page
                page = []
            if self.stop.is_set():
                return
        if page:
            yield page

    def _put(self, entry: QueueEntry) -> bool:
        """Queue ``entry``, waiting for space; return False when stopped."""
        while not self.stop.is_set():
            try:
                self.pages.put(entry, timeout=POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False


def export_books(
    model: type[Book],
    path: Path,
    export_format: ExportFormat,
    segments: int = 1,
    page_size: int = PAGE_SIZE,
    on_page: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write every book of ``model``'s table to ``path``.

    ``on_page(count)`` is called after each page is written, with the number
    of books written so far. Raises :class:`ExportInterrupted` on Ctrl-C and
    re-raises a scan's error; in both cases ``path`` is left as it was.
    """
    if segments < 1:
        raise ValueError("segments must be at least 1.")
    started = time.monotonic()
    logger.info(
        "Exporting table %s to %s, scan segments: %d",
        model.Meta.table_name,
        path,
        segments,
    )
    partial = path.with_name(path.name + ".partial")
    stop = threading.Event()
    pages: queue.Queue[QueueEntry] = queue.Queue(
        maxsize=QUEUED_PAGES_PER_SEGMENT * segments
    )
    threads = [
        _Segment(model, number, segments, page_size, pages, stop)
        for number in range(segments)
    ]
    count = 0
    try:
        with partial.open("w", encoding="utf-8", newline="") as file:
            write = _writer(file, export_format)
            for thread in threads:
                thread.start()
            running = segments
            while running:
                try:
                    entry = pages.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if isinstance(entry, _End):
                    running -= 1
                    continue
                if isinstance(entry, _Failure):
                    raise entry.error
                for book in entry:
                    write(book)
                count += len(entry)
                if on_page is not None:
                    on_page(count)
        os.replace(partial, path)
    except KeyboardInterrupt:
        raise ExportInterrupted(count) from None
    finally:
        stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join()
        partial.unlink(missing_ok=True)
    return ExportSummary(count, time.monotonic() - started)


def _writer(
    file: TextIO, export_format: ExportFormat
) -> Callable[[dict[str, Any]], None]:
    if export_format is ExportFormat.CSV:
        # The default line ending, CRLF, makes the writer quote any value
        # with a CR or LF, so that every such value reads back unchanged.
        rows = csv.writer(file)
        rows.writerow(CSV_COLUMNS)

        def write_csv(book: dict[str, Any]) -> None:
            rows.writerow([book.get(name, "") for name in CSV_COLUMNS])

        return write_csv

    def write_json(book: dict[str, Any]) -> None:
        file.write(json.dumps(book, ensure_ascii=False, separators=(",", ":")))
        file.write("\n")

    return write_json
