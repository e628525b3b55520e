"""Batch writes: retries of unprocessed items and throttled calls, with backoff.

Neither moto nor dynalite leaves items unprocessed or throttles, so these
tests give the writer a fake connection that does, on a bound model.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import GetError, PutError

from bookapi.bulk.rows import BookRow
from bookapi.bulk.writer import Backoff, BookBatchWriter, Stopped, WriteFailed
from bookapi.models import bind_book_model

TABLE = "books-fake"

# What the fake does on one call: leave the first N items unprocessed, or fail
# with the given DynamoDB error code.
Step = int | str


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class FakeConnection:
    """BatchGetItem and BatchWriteItem that follow a plan, call by call."""

    def __init__(self, writes: list[Step], reads: list[Step] | None = None) -> None:
        self.writes = list(writes)
        self.reads = list(reads or [])
        self.stored: dict[str, dict[str, Any]] = {}
        self.write_sizes: list[int] = []
        self.read_sizes: list[int] = []

    def batch_get_item(self, keys: list[Any], consistent_read: bool) -> Any:
        self.read_sizes.append(len(keys))
        step = self.reads.pop(0) if self.reads else 0
        if isinstance(step, str):
            raise GetError("failed", client_error(step, "BatchGetItem"))
        found = [
            self.stored[k["bookId"]["N"]]
            for k in keys[step:]
            if k["bookId"]["N"] in self.stored
        ]
        return {
            "Responses": {TABLE: found},
            "UnprocessedKeys": {TABLE: {"Keys": keys[:step]}} if step else {},
        }

    def batch_write_item(self, put_items: list[dict[str, Any]]) -> Any:
        self.write_sizes.append(len(put_items))
        step = self.writes.pop(0) if self.writes else 0
        if isinstance(step, str):
            raise PutError("failed", client_error(step, "BatchWriteItem"))
        for item in put_items[step:]:
            self.stored[item["bookId"]["N"]] = item
        left = [{"PutRequest": {"Item": item}} for item in put_items[:step]]
        return {"UnprocessedItems": {TABLE: left} if left else {}}


class UpperBound(random.Random):
    """Returns the upper bound of every uniform draw, and records the bounds."""

    def __init__(self) -> None:
        super().__init__(0)
        self.bounds: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.bounds.append((a, b))
        return b


def make_writer(
    connection: FakeConnection,
    monkeypatch: pytest.MonkeyPatch,
    backoff: Backoff | None = None,
    stopped: bool = False,
) -> tuple[BookBatchWriter, list[float], UpperBound]:
    model = bind_book_model(TABLE, "us-east-1", None, 1, 1, 0)
    monkeypatch.setattr(model, "_get_connection", lambda: connection)
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return stopped

    rng = UpperBound()
    writer = BookBatchWriter(model, backoff or Backoff(), wait=wait, rng=rng)
    return writer, waits, rng


def rows(count: int) -> list[BookRow]:
    return [BookRow(n, n, {"name": f"Book {n}"}) for n in range(1, count + 1)]


def test_unprocessed_items_are_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = FakeConnection(writes=[10, 3, 0])
    writer, _, _ = make_writer(connection, monkeypatch)

    outcome = writer.write(rows(25))

    assert connection.write_sizes == [25, 10, 3]
    assert sorted(connection.stored, key=int) == [str(n) for n in range(1, 26)]
    assert outcome.created == 25
    assert outcome.retried == 13


def test_backoff_doubles_with_full_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = FakeConnection(writes=[5, 5, 5, 0])
    writer, waits, rng = make_writer(
        connection, monkeypatch, Backoff(base_delay=0.05, max_delay=5.0)
    )

    writer.write(rows(25))

    assert rng.bounds == [(0.0, 0.1), (0.0, 0.2), (0.0, 0.4)]
    assert waits == [0.1, 0.2, 0.4]


def test_backoff_delay_is_capped() -> None:
    backoff = Backoff(base_delay=1.0, max_delay=5.0)

    assert backoff.delay(10, UpperBound()) == 5.0


def test_throttled_call_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    throttled = "ProvisionedThroughputExceededException"
    connection = FakeConnection(writes=[throttled, 0])
    writer, waits, _ = make_writer(connection, monkeypatch)

    outcome = writer.write(rows(25))

    assert connection.write_sizes == [25, 25]
    assert len(connection.stored) == 25
    assert outcome.retried == 25
    assert len(waits) == 1


def test_unprocessed_keys_are_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = FakeConnection(writes=[], reads=[7, 0])
    writer, _, _ = make_writer(connection, monkeypatch)

    outcome = writer.write(rows(25))

    assert connection.read_sizes == [25, 7]
    assert outcome.retried == 7


def test_write_fails_after_max_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = FakeConnection(writes=[1] * 10)
    writer, _, _ = make_writer(connection, monkeypatch, Backoff(max_attempts=3))

    with pytest.raises(WriteFailed, match="1 items unprocessed after 3 attempts"):
        writer.write(rows(25))
    assert connection.write_sizes == [25, 1, 1]


def test_other_errors_fail_without_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = FakeConnection(writes=["ValidationException"])
    writer, waits, _ = make_writer(connection, monkeypatch)

    with pytest.raises(WriteFailed, match="BatchWriteItem failed"):
        writer.write(rows(25))
    assert connection.write_sizes == [25]
    assert waits == []


def test_stop_ends_backoff_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = FakeConnection(writes=[5, 0])
    writer, _, _ = make_writer(connection, monkeypatch, stopped=True)

    with pytest.raises(Stopped):
        writer.write(rows(25))
    assert connection.write_sizes == [25]


def test_batch_over_limit_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    writer, _, _ = make_writer(FakeConnection(writes=[]), monkeypatch)

    with pytest.raises(ValueError, match="at most 25 rows"):
        writer.write(rows(26))
