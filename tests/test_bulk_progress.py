"""Progress reports as log lines, for output that is not a terminal."""

from __future__ import annotations

import logging

import pytest

from bookapi.bulk.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_line_has_rate_and_time_left(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress = Progress("Importing books.csv", 1000, "rows", False, 10.0, clock)
    clock.now += 10

    with caplog.at_level(logging.INFO, logger="bookapi.bulk.progress"):
        progress.update(250, 500, "500 written")

    assert caplog.messages == [
        "Importing books.csv: 500 rows done (500 written), 50 rows/s, "
        "25% of the input, 0:00:30 left"
    ]


def test_log_lines_wait_for_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress = Progress("Importing books.csv", 1000, "rows", False, 10.0, clock)

    with caplog.at_level(logging.INFO, logger="bookapi.bulk.progress"):
        for _ in range(5):
            clock.now += 3
            progress.update(100, 100)

    assert len(caplog.messages) == 1


def test_unknown_total_logs_count_only(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress = Progress("Exporting", None, "books", False, 1.0, clock)
    clock.now += 2

    with caplog.at_level(logging.INFO, logger="bookapi.bulk.progress"):
        progress.update(300, 300)

    assert caplog.messages == ["Exporting: 300 books done, 150 books/s"]
