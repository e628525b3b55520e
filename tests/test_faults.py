"""DynamoDB stopped, slow, silent, dropping connections or throttling.

Every request during a fault gets a 503 with Retry-After, well within API
Gateway's 29 s limit, and the app serves again by itself once the fault is
lifted. The scenarios are those of ``make faults``, with one sample each.
"""

from __future__ import annotations

import pytest

from benchmarks.faults import FAULTS, FaultRun, run_all

# With the default timeouts and retries a request waits at most about 12 s
# for DynamoDB (see docs/reliability.md); the margin absorbs a busy machine.
BOUND_SECONDS = 15.0
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def runs() -> dict[str, FaultRun]:
    return {run.fault: run for run in run_all(samples=1, faults=list(FAULTS))}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_returns_only_503(runs: dict[str, FaultRun], fault: str) -> None:
    assert set(runs[fault].statuses) == {503}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_returns_problem_json(runs: dict[str, FaultRun], fault: str) -> None:
    assert runs[fault].media_types == {PROBLEM}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_sets_retry_after(runs: dict[str, FaultRun], fault: str) -> None:
    assert runs[fault].retry_after == {"1"}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_responds_within_bound(runs: dict[str, FaultRun], fault: str) -> None:
    assert max(runs[fault].seconds) < BOUND_SECONDS


@pytest.mark.parametrize("fault", list(FAULTS))
def test_app_recovers_after_fault(runs: dict[str, FaultRun], fault: str) -> None:
    assert runs[fault].recovery_seconds is not None


def test_throttled_call_is_retried_twice(runs: dict[str, FaultRun]) -> None:
    run = runs["throttled"]
    requests = sum(run.statuses.values())

    # One first attempt and DYNAMODB_MAX_RETRIES (2) retries per request.
    assert run.sdk_calls == 3 * requests
