"""A short sustained load on the API under waitress: no errors, flat memory.

The run of ``make load``, bounded to a few seconds; its figures are in
docs/benchmarks.md.
"""

from __future__ import annotations

import pytest

from benchmarks.load import MIB, LoadResult, run_load

# A generous bound: RSS grew by less than 1 MiB in the runs of docs/benchmarks.md.
MAX_RSS_GROWTH = 16 * MIB


@pytest.fixture(scope="module")
def result() -> LoadResult:
    return run_load(seconds=5.0, clients=4, warmup_seconds=1.0, books=100)


def test_load_sends_requests(result: LoadResult) -> None:
    assert result.requests > 100


def test_load_has_no_errors(result: LoadResult) -> None:
    assert dict(result.errors) == {}


def test_load_keeps_memory_flat(result: LoadResult) -> None:
    assert result.rss_growth() < MAX_RSS_GROWTH
