"""Sustained local load on the API under waitress, with dynalite behind it.

Client threads send a mix of reads, replacements and deletes over a fixed set
of book ids for a bounded time and count, on 127.0.0.1 only. The run reports
errors, latency percentiles and throughput, and samples the resident memory
(RSS) of the API server process to show whether it stays flat.

Run with ``make load``; a test runs a short version.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import (
    ApiServer,
    Dynalite,
    HttpClient,
    create_table,
    use_dummy_aws_environment,
)

TABLE = "books-load"
MIB = 1024 * 1024
# Share of each operation in the mix, and the statuses that count as success.
OPERATIONS = {"GET": 0.70, "POST": 0.25, "DELETE": 0.05}
EXPECTED = {"GET": {200, 404}, "POST": {200, 201}, "DELETE": {200, 404}}


@dataclass
class LoadResult:
    """Latencies per operation, errors and RSS samples of one run."""

    clients: int
    server_threads: int
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {name: [] for name in OPERATIONS}
    )
    errors: Counter[str] = field(default_factory=Counter)
    rss_samples: list[int] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    def rss_growth(self) -> int:
        """Median RSS of the last fifth of samples minus that of the first."""
        fifth = max(1, len(self.rss_samples) // 5)
        first = statistics.median(self.rss_samples[:fifth])
        last = statistics.median(self.rss_samples[-fifth:])
        return int(last - first)


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[rank]


class Client(threading.Thread):
    """One client thread: random operations until the deadline or the quota."""

    def __init__(
        self,
        url: str,
        books: int,
        seed: int,
        deadline: float,
        quota: int,
        result: LoadResult | None,
        lock: threading.Lock,
    ) -> None:
        super().__init__(daemon=True)
        self.client = HttpClient(url, timeout=30)
        self.books = books
        self.random = random.Random(seed)
        self.deadline = deadline
        self.quota = quota
        self.result = result
        self.lock = lock

    def run(self) -> None:
        names = list(OPERATIONS)
        weights = list(OPERATIONS.values())
        for _ in range(self.quota):
            if time.monotonic() >= self.deadline:
                break
            operation = self.random.choices(names, weights)[0]
            book_id = self.random.randint(1, self.books)
            self._send(operation, book_id)
        self.client.close()

    def _send(self, operation: str, book_id: int) -> None:
        started = time.perf_counter()
        error: str | None = None
        try:
            if operation == "POST":
                body = {"bookId": book_id, "name": f"Book {book_id}", "genre": "Load"}
                status = self.client.request("POST", "/book", body).status
            else:
                status = self.client.request(operation, f"/book/{book_id}").status
            if status not in EXPECTED[operation]:
                error = f"{operation} {status}"
        except OSError as exception:
            error = f"{operation} {type(exception).__name__}"
        elapsed = time.perf_counter() - started
        if self.result is None:
            return
        with self.lock:
            self.result.latencies[operation].append(elapsed)
            if error:
                self.result.errors[error] += 1


def run_clients(
    url: str,
    clients: int,
    books: int,
    seconds: float,
    quota: int,
    result: LoadResult | None,
) -> None:
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [
        Client(url, books, seed, deadline, quota // clients, result, lock)
        for seed in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)


def sample_rss(
    api: ApiServer, samples: list[int], stop: threading.Event, every: float
) -> None:
    while not stop.wait(every):
        samples.append(api.rss_bytes())


def run_load(
    seconds: float = 60.0,
    clients: int = 8,
    server_threads: int = 8,
    books: int = 500,
    warmup_seconds: float = 5.0,
    max_requests: int = 1_000_000,
    rss_every: float = 0.5,
) -> LoadResult:
    """Start dynalite and the API, warm up, then measure one load run."""
    result = LoadResult(clients=clients, server_threads=server_threads)
    with tempfile.TemporaryDirectory(prefix="bookapi-load-") as folder:
        server = Dynalite().start()
        create_table(server.endpoint, TABLE)
        api = ApiServer(
            server.endpoint,
            TABLE,
            threads=server_threads,
            log_path=Path(folder) / "api.log",
        )
        try:
            api.start()
            run_clients(api.url, clients, books, warmup_seconds, max_requests, None)
            stop = threading.Event()
            sampler = threading.Thread(
                target=sample_rss, args=(api, result.rss_samples, stop, rss_every)
            )
            result.rss_samples.append(api.rss_bytes())
            sampler.start()
            started = time.monotonic()
            run_clients(api.url, clients, books, seconds, max_requests, result)
            result.seconds = time.monotonic() - started
            stop.set()
            sampler.join()
            result.rss_samples.append(api.rss_bytes())
        finally:
            api.stop()
            server.stop()
    return result


def report(result: LoadResult) -> str:
    lines = [
        f"{result.requests} requests in {result.seconds:.1f} s "
        f"({result.requests / result.seconds:.0f}/s) from {result.clients} "
        f"clients, waitress with {result.server_threads} threads",
        f"errors: {sum(result.errors.values())} {dict(result.errors) or ''}".rstrip(),
        "",
        "| operation | requests | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    every = [value for values in result.latencies.values() for value in values]
    for name, values in [*result.latencies.items(), ("all", every)]:
        if not values:
            continue
        cells = [
            f"{percentile(values, fraction) * 1000:.1f}"
            for fraction in (0.50, 0.90, 0.99, 0.999)
        ]
        lines.append(
            f"| {name} | {len(values)} | {' | '.join(cells)} "
            f"| {max(values) * 1000:.1f} |"
        )
    samples = result.rss_samples
    lines += [
        "",
        f"server RSS: {samples[0] / MIB:.1f} MiB after warm-up, "
        f"{samples[-1] / MIB:.1f} MiB at the end, max {max(samples) / MIB:.1f} MiB, "
        f"growth (median of last fifth minus first fifth of {len(samples)} "
        f"samples) {result.rss_growth() / MIB:+.1f} MiB",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument(
        "--server-threads", type=int, default=8, help="waitress worker threads"
    )
    parser.add_argument("--books", type=int, default=500, help="ids in the mix")
    parser.add_argument(
        "--max-requests", type=int, default=1_000_000, help="cap on requests"
    )
    args = parser.parse_args()
    use_dummy_aws_environment()
    result = run_load(
        seconds=args.seconds,
        clients=args.clients,
        server_threads=args.server_threads,
        books=args.books,
        max_requests=args.max_requests,
    )
    print(report(result))


if __name__ == "__main__":
    main()
