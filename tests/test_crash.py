"""dynalite killed with SIGKILL during a write load loses no acknowledged write.

The scenario of ``make crash``, shortened: a few seconds of load, a kill,
a restart on the same data folder, and a read-back of every write.
"""

from __future__ import annotations

import pytest

from benchmarks.crash import CrashRun, run_crash


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> CrashRun:
    return run_crash(
        tmp_path_factory.mktemp("crash"),
        writers=4,
        before_kill=1.5,
        while_down=0.5,
        after_restart=1.5,
    )


def test_load_was_acknowledged_before_kill(run: CrashRun) -> None:
    assert len(run.acknowledged) > 0


def test_writes_failed_while_server_down(run: CrashRun) -> None:
    assert len(run.failed) > 0


def test_writes_failed_only_with_503(run: CrashRun) -> None:
    assert set(run.failure_statuses) == {"503"}


def test_acknowledged_writes_are_all_found(run: CrashRun) -> None:
    assert run.missing == []


def test_acknowledged_writes_are_unchanged(run: CrashRun) -> None:
    assert run.changed == []


def test_writes_succeed_after_restart(run: CrashRun) -> None:
    assert run.first_write_after_restart is not None
