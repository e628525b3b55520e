"""DynamoDB faults: how long the API takes to return 503, and its recovery.

Each fault is injected between the API and a local dynalite, the API serves
GET, POST and DELETE requests during the fault, then the fault is lifted and
the time until the API serves again is measured. The app runs in this process
with its default timeouts and retries (see bookapi/config.py).

Run with ``make faults``; the tests run the same scenarios with one sample.
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from flask import Flask

from bookapi import create_app
from tests.servers import (
    Dynalite,
    FaultProxy,
    ProxyMode,
    create_table,
    use_dummy_aws_environment,
)

TABLE = "books-faults"
BOOK = {"bookId": 1, "name": "Emma", "author": "Jane Austen"}
REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/book/1", None),
    ("POST", "/book", BOOK),
    ("DELETE", "/book/1", None),
]
# How long the proxy delays each chunk of a response in the "slow" fault: longer
# than the default read timeout of 2 s, so every attempt times out.
SLOW_DELAY_SECONDS = 3.0
RECOVERY_LIMIT_SECONDS = 30.0

FAULTS = {
    "stopped": "dynalite process stopped (connection refused)",
    "slow": f"proxy delays each response chunk {SLOW_DELAY_SECONDS:g} s",
    "silent": "proxy accepts and reads requests, never responds",
    "reset": "proxy resets every connection (TCP RST)",
    "lost-response": "proxy forwards each request, resets instead of responding",
    "throttled": "every call gets ProvisionedThroughputExceededException",
}

THROTTLING_BODY = (
    b'{"__type":"com.amazonaws.dynamodb.v20120810#'
    b'ProvisionedThroughputExceededException",'
    b'"message":"The level of configured provisioned throughput for the table '
    b'was exceeded."}'
)


class _RawBody(io.BytesIO):
    """A response body as botocore reads it from urllib3."""

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


class Throttler:
    """A botocore ``before-send`` handler that throttles every DynamoDB call.

    Returning a response from ``before-send`` replaces the HTTP exchange, so
    the response still goes through botocore's parsing and retry logic.
    """

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
        self.calls += 1
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": f"throttled-{self.calls}",
        }
        return AWSResponse(request.url, 400, headers, _RawBody(THROTTLING_BODY))


def client_events(app: Flask) -> Any:
    """Return the event system of the botocore client behind the app's model."""
    model = app.extensions["bookapi"].model
    return model._get_connection().connection.client.meta.events


@dataclass
class FaultRun:
    """The responses of the API during one fault, and its recovery after it."""

    fault: str
    statuses: Counter[int] = field(default_factory=Counter)
    media_types: set[str | None] = field(default_factory=set)
    retry_after: set[str | None] = field(default_factory=set)
    seconds: list[float] = field(default_factory=list)
    sdk_calls: int | None = None
    recovery_seconds: float | None = None


class FaultBench:
    """dynalite on a data folder, a fault proxy in front, and the app on it."""

    def __init__(self, data_dir: Path) -> None:
        self.server = Dynalite(data_dir=data_dir).start()
        self.proxy = FaultProxy(self.server.port).start()
        create_table(self.server.endpoint, TABLE)
        self.app = self.new_app()
        self.throttler: Throttler | None = None

    def new_app(self) -> Flask:
        """Create an app with its own botocore client, so its own retry quota.

        botocore's standard retry mode stops retrying once a client has spent
        its retry quota on failures, so faults measured on one client would
        depend on the faults before them.
        """
        return create_app(
            {"BOOKS_TABLE": TABLE, "DYNAMODB_ENDPOINT": self.proxy.endpoint}
        )

    def close(self) -> None:
        self.proxy.stop()
        self.server.stop()

    def inject(self, fault: str) -> None:
        if fault == "stopped":
            self.server.stop()
        elif fault == "slow":
            self.proxy.set_mode(ProxyMode.DELAY, delay=SLOW_DELAY_SECONDS)
        elif fault == "silent":
            self.proxy.set_mode(ProxyMode.BLACKHOLE)
        elif fault == "reset":
            self.proxy.set_mode(ProxyMode.RESET)
        elif fault == "lost-response":
            self.proxy.set_mode(ProxyMode.LOSE_RESPONSE)
        elif fault == "throttled":
            self.throttler = Throttler()
            client_events(self.app).register_first(
                "before-send.dynamodb.*", self.throttler
            )
        else:
            raise ValueError(f"unknown fault {fault!r}; choose one of {list(FAULTS)}")

    def lift(self, fault: str) -> None:
        if fault == "stopped":
            self.server.start()
        elif fault == "throttled":
            client_events(self.app).unregister("before-send.dynamodb.*", self.throttler)
        else:
            self.proxy.set_mode(ProxyMode.PASS)

    def serves(self) -> bool:
        """Tell whether a write and a read of the book both succeed now."""
        client = self.app.test_client()
        written = client.post("/book", json=BOOK).status_code in (200, 201)
        return written and client.get("/book/1").status_code == 200


def send_during_fault(bench: FaultBench, run: FaultRun) -> None:
    """Send GET, POST and DELETE at once, as concurrent clients would."""

    def send(request: tuple[str, str, dict[str, Any] | None]) -> None:
        method, path, body = request
        started = time.monotonic()
        response = bench.app.test_client().open(path, method=method, json=body)
        run.seconds.append(time.monotonic() - started)
        run.statuses[response.status_code] += 1
        run.media_types.add(response.mimetype)
        run.retry_after.add(response.headers.get("Retry-After"))

    with ThreadPoolExecutor(max_workers=len(REQUESTS)) as pool:
        list(pool.map(send, REQUESTS))


def run_fault(bench: FaultBench, fault: str, samples: int) -> FaultRun:
    """Inject ``fault``, send ``samples`` rounds of requests, lift it, and
    measure how long the app takes to serve again."""
    bench.app = bench.new_app()
    if not bench.serves():
        raise RuntimeError("the API does not serve before the fault")
    run = FaultRun(fault)
    bench.inject(fault)
    try:
        for _ in range(samples):
            send_during_fault(bench, run)
    finally:
        bench.lift(fault)
    if bench.throttler is not None and fault == "throttled":
        run.sdk_calls = bench.throttler.calls

    lifted = time.monotonic()
    while time.monotonic() - lifted < RECOVERY_LIMIT_SECONDS:
        if bench.serves():
            run.recovery_seconds = time.monotonic() - lifted
            break
        time.sleep(0.1)
    return run


def run_all(samples: int, faults: list[str]) -> list[FaultRun]:
    with tempfile.TemporaryDirectory(prefix="bookapi-faults-") as folder:
        bench = FaultBench(Path(folder) / "db")
        try:
            return [run_fault(bench, fault, samples) for fault in faults]
        finally:
            bench.close()


def format_table(runs: list[FaultRun]) -> str:
    lines = [
        "| fault | statuses | Retry-After | median s | max s | recovery s |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        statuses = ", ".join(f"{s} x{n}" for s, n in sorted(run.statuses.items()))
        retry_after = ", ".join(sorted(str(value) for value in run.retry_after))
        recovery = (
            "not within limit"
            if run.recovery_seconds is None
            else f"{run.recovery_seconds:.2f}"
        )
        lines.append(
            f"| {run.fault} | {statuses} | {retry_after} "
            f"| {statistics.median(run.seconds):.2f} | {max(run.seconds):.2f} "
            f"| {recovery} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples",
        type=int,
        default=5,
        help="rounds of GET, POST and DELETE per fault (default 5)",
    )
    parser.add_argument(
        "--fault", action="append", choices=list(FAULTS), help="faults to run"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    use_dummy_aws_environment()
    faults = args.fault or list(FAULTS)
    runs = run_all(args.samples, faults)
    for name in faults:
        print(f"- {name}: {FAULTS[name]}")
    print()
    print(format_table(runs))
    throttled = [run for run in runs if run.sdk_calls is not None]
    for run in throttled:
        requests = sum(run.statuses.values())
        print(f"\nthrottled: {run.sdk_calls} SDK calls for {requests} requests")


if __name__ == "__main__":
    main()
