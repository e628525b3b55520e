"""Batch writes of books: BatchGetItem, then BatchWriteItem of what changed.

PynamoDB's ``Model.batch_write()`` re-sends unprocessed items at once, with
no backoff, a retry limit shared with botocore's own retries and no count of
what it retried (PynamoDB 6.1). This module calls BatchGetItem and
BatchWriteItem on the model's connection itself and retries unprocessed items
and throttled calls with exponential backoff and full jitter.

What a write stores, for a book id already in the table or not:

- A row with the server's fields (from an export) is stored exactly as given.
- A row without them whose name, author and genre equal the stored book's is
  not written at all, so the book keeps its ``updatedAt`` and ``version``.
- Otherwise the book is replaced as ``POST /book`` replaces it: ``createdAt``
  stays, ``updatedAt`` is now and ``version`` is new. A new book gets
  ``createdAt`` = ``updatedAt`` = now.

BatchWriteItem has no condition expressions, so a book that an API client
changes between the read and the write of its batch is overwritten: the
last writer wins, and ``If-Match`` on such a concurrent request is not
honoured.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import ReadTimeoutError
from pynamodb.exceptions import PynamoDBException

from bookapi.bulk.rows import CONTENT_FIELDS, BookRow
from bookapi.models import Book
from bookapi.store import key, new_version, utc_now

logger = logging.getLogger(__name__)

#: DynamoDB's limit of items in one BatchWriteItem call.
BATCH_SIZE = 25

# Error codes after which the same request may succeed later.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)

RawItem = dict[str, dict[str, Any]]


class WriteFailed(Exception):
    """A batch could not be written, after retries where they could help."""


class Stopped(Exception):
    """The import was stopped (Ctrl-C) while a batch waited to retry."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter.

    Before retry ``n`` (from 1) the writer waits a random time between 0 and
    ``min(max_delay, base_delay * 2**n)`` seconds. A request is sent at most
    ``max_attempts`` times; each attempt may itself include botocore's own
    retries of a failed HTTP call.
    """

    base_delay: float = 0.05
    max_delay: float = 5.0
    max_attempts: int = 10

    def delay(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**retry))


@dataclass
class BatchOutcome:
    """Counts of the rows of one batch, by what the write did with them."""

    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    retried: int = 0


def is_retryable(error: PynamoDBException) -> bool:
    if error.cause_response_code in RETRYABLE_CODES:
        return True
    return isinstance(error.cause, BotocoreConnectionError | ReadTimeoutError)


class BookBatchWriter:
    """Writes batches of up to :data:`BATCH_SIZE` rows to one bound model.

    One writer serves every worker thread: botocore clients are thread-safe,
    and the writer keeps no state between calls except its random source.
    ``wait(seconds)`` sleeps before a retry and returns True when the import
    is being stopped; by default it waits on ``stop``.
    """

    def __init__(
        self,
        model: type[Book],
        backoff: Backoff | None = None,
        stop: threading.Event | None = None,
        wait: Callable[[float], bool] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.model = model
        self.table = model.Meta.table_name
        self.backoff = backoff or Backoff()
        self.stop = stop or threading.Event()
        self.wait = wait or self.stop.wait
        self.rng = rng or random.Random()
        self._rng_lock = threading.Lock()

    def write(self, rows: Sequence[BookRow]) -> BatchOutcome:
        """Write the rows that differ from the stored books; count what happened."""
        if len(rows) > BATCH_SIZE:
            raise ValueError(f"A batch has at most {BATCH_SIZE} rows, not {len(rows)}.")
        outcome = BatchOutcome()
        if not rows:
            return outcome
        stored = self._read_stored(rows, outcome)
        now = utc_now()
        items: list[RawItem] = []
        for row in rows:
            old = stored.get(row.book_id)
            item = self._item(row, old, now)
            if old is not None and _same_book(row, old, item):
                outcome.unchanged += 1
                continue
            items.append(item)
            if old is None:
                outcome.created += 1
            else:
                outcome.replaced += 1
        if items:
            self._put(items, outcome)
        return outcome

    def _item(self, row: BookRow, old: RawItem | None, now: str) -> RawItem:
        if row.stored is not None:
            created_at = row.stored.created_at
            updated_at = row.stored.updated_at
            version = row.stored.version
        else:
            created_at = old["createdAt"]["S"] if old and "createdAt" in old else now
            updated_at = now
            version = new_version()
        book = self.model(
            row.book_id,
            name=row.fields["name"],
            author=row.fields.get("author"),
            genre=row.fields.get("genre"),
            created_at=created_at,
            updated_at=updated_at,
            version=version,
        )
        return book.serialize()

    def _read_stored(
        self, rows: Sequence[BookRow], outcome: BatchOutcome
    ) -> dict[int, RawItem]:
        """Read the stored books of ``rows`` with one strongly consistent call."""
        connection = self.model._get_connection()
        keys = [{"bookId": {"N": key(row.book_id)}} for row in rows]
        found: dict[int, RawItem] = {}
        attempt = 1
        while True:
            try:
                # PynamoDB 6.1 types keys as strings but builds the request
                # from attribute maps such as {"bookId": {"N": "7"}}.
                data = connection.batch_get_item(cast(Any, keys), consistent_read=True)
            except PynamoDBException as error:
                if not is_retryable(error):
                    raise WriteFailed(f"BatchGetItem failed: {error}") from error
                left = keys
            else:
                for item in data.get("Responses", {}).get(self.table, []):
                    found[int(item["bookId"]["N"])] = item
                unprocessed = data.get("UnprocessedKeys", {}).get(self.table, {})
                left = unprocessed.get("Keys", [])
            if not left:
                return found
            keys = left
            attempt = self._before_retry("BatchGetItem", attempt, len(keys), outcome)

    def _put(self, items: list[RawItem], outcome: BatchOutcome) -> None:
        connection = self.model._get_connection()
        attempt = 1
        while True:
            try:
                data = connection.batch_write_item(put_items=items)
            except PynamoDBException as error:
                if not is_retryable(error):
                    raise WriteFailed(f"BatchWriteItem failed: {error}") from error
                left = items
            else:
                unprocessed = data.get("UnprocessedItems", {}).get(self.table, [])
                left = [request["PutRequest"]["Item"] for request in unprocessed]
            if not left:
                return
            items = left
            attempt = self._before_retry("BatchWriteItem", attempt, len(items), outcome)

    def _before_retry(
        self, operation: str, attempt: int, count: int, outcome: BatchOutcome
    ) -> int:
        """Wait before sending ``count`` items again; return the next attempt."""
        if attempt >= self.backoff.max_attempts:
            raise WriteFailed(
                f"{operation} left {count} items unprocessed after "
                f"{attempt} attempts; DynamoDB is throttling or unavailable."
            )
        with self._rng_lock:
            delay = self.backoff.delay(attempt, self.rng)
        logger.debug(
            "%s: retrying %d items in %.3f s (attempt %d of %d)",
            operation,
            count,
            delay,
            attempt + 1,
            self.backoff.max_attempts,
        )
        outcome.retried += count
        if self.wait(delay):
            raise Stopped()
        return attempt + 1


def _same_book(row: BookRow, old: RawItem, item: RawItem) -> bool:
    """Return whether writing ``item`` would leave the stored book ``old`` unchanged.

    A row without server fields compares by content only, so that importing
    an unchanged row keeps the book's ``updatedAt`` and ``version``.
    """
    if row.stored is not None:
        return old == item
    return all(old.get(name) == item.get(name) for name in CONTENT_FIELDS)
