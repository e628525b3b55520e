"""Concurrent writers on one book, through the API under waitress on dynalite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.races import CounterRun, counter_race, create_race
from tests.servers import ApiServer, Dynalite, create_table

IDS = 10
CONTENDERS = 8
WRITERS = 6
INCREMENTS = 5


@pytest.fixture(scope="module")
def api_url(
    dynalite_server: Dynalite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("races")
    create_table(dynalite_server.endpoint, "books-races")
    with ApiServer(
        dynalite_server.endpoint, "books-races", log_path=folder / "api.log"
    ) as api:
        yield api.url


@pytest.mark.parametrize("book_id", range(1, IDS + 1))
def test_concurrent_create_only_has_one_winner(api_url: str, book_id: int) -> None:
    statuses = create_race(api_url, book_id, CONTENDERS)

    assert statuses == {201: 1, 412: CONTENDERS - 1}


@pytest.fixture(scope="module")
def counter(api_url: str) -> CounterRun:
    return counter_race(api_url, IDS + 1, WRITERS, INCREMENTS)


def test_counter_loses_no_update(counter: CounterRun) -> None:
    assert counter.final == WRITERS * INCREMENTS


def test_counter_writers_conflicted(counter: CounterRun) -> None:
    # Without a 412 the writers never overlapped, and the race tested nothing.
    assert counter.conflicts > 0


def test_counter_gets_no_unexpected_status(counter: CounterRun) -> None:
    assert counter.unexpected == {}


def test_counter_writers_never_gave_up(counter: CounterRun) -> None:
    assert counter.gave_up == 0
