"""Kill dynalite with SIGKILL in the middle of a write load, then restart it.

Writer threads create books with unique ids through the API under waitress.
dynalite, on a LevelDB folder, is killed while they write and started again on
the same folder and port. Every write that got a 2xx must be found afterwards
with the name it was written with. Writes that failed may or may not be there:
a 503 leaves the outcome unknown, so they are only counted.

Run with ``make crash``; a test runs a short version.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import (
    ApiServer,
    Dynalite,
    HttpClient,
    create_table,
    use_dummy_aws_environment,
)

TABLE = "books-crash"


@dataclass
class CrashRun:
    """The responses the writers got, and what was stored after the restart."""

    acknowledged: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    found: int = 0
    missing: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    failed_but_stored: int = 0
    killed_at: float = 0.0
    restarted_at: float = 0.0
    first_write_after_restart: float | None = None

    @property
    def failure_statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reason in self.failed.values():
            counts[reason] = counts.get(reason, 0) + 1
        return counts


def book_name(book_id: int) -> str:
    return f"Write {book_id}"


class Writers:
    """Threads that each POST new books until stopped or out of ids."""

    def __init__(self, url: str, count: int, max_writes: int) -> None:
        self.url = url
        self.ids = iter(range(1, max_writes + 1))
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.run = CrashRun()
        self.started = time.monotonic()
        self.threads = [
            threading.Thread(target=self._write, daemon=True) for _ in range(count)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _next_id(self) -> int | None:
        with self.lock:
            return next(self.ids, None)

    def _write(self) -> None:
        client = HttpClient(self.url)
        while not self.stopping.is_set():
            book_id = self._next_id()
            if book_id is None:
                return
            body = {"bookId": book_id, "name": book_name(book_id)}
            try:
                status = client.request("POST", "/book", body).status
            except OSError as error:
                self._record_failure(book_id, type(error).__name__)
                continue
            if 200 <= status < 300:
                self._record_success(book_id)
            else:
                self._record_failure(book_id, str(status))
        client.close()

    def _record_success(self, book_id: int) -> None:
        with self.lock:
            self.run.acknowledged.add(book_id)
            after_restart = self.run.restarted_at and not (
                self.run.first_write_after_restart
            )
            if after_restart:
                now = time.monotonic() - self.started
                self.run.first_write_after_restart = now - self.run.restarted_at

    def _record_failure(self, book_id: int, reason: str) -> None:
        with self.lock:
            self.run.failed[book_id] = reason


def verify(url: str, run: CrashRun) -> None:
    """Read back every write through the API, after the restart."""
    client = HttpClient(url)
    for book_id in sorted(run.acknowledged):
        response = client.request("GET", f"/book/{book_id}")
        if response.status != 200:
            run.missing.append(book_id)
        elif response.json()["name"] != book_name(book_id):
            run.changed.append(book_id)
        else:
            run.found += 1
    for book_id in sorted(run.failed):
        if client.request("GET", f"/book/{book_id}").status == 200:
            run.failed_but_stored += 1
    client.close()


def run_crash(
    folder: Path,
    writers: int = 8,
    before_kill: float = 3.0,
    while_down: float = 1.0,
    after_restart: float = 2.0,
    max_writes: int = 1_000_000,
) -> CrashRun:
    """Write, SIGKILL dynalite, restart it, write on, then verify.

    The durations are seconds of load before the kill, with dynalite down,
    and after it is back. The API server process runs throughout.
    """
    server = Dynalite(data_dir=folder / "db").start()
    create_table(server.endpoint, TABLE)
    api = ApiServer(server.endpoint, TABLE, log_path=folder / "api.log").start()
    load = Writers(api.url, writers, max_writes)
    try:
        load.start()
        time.sleep(before_kill)
        load.run.killed_at = time.monotonic() - load.started
        server.kill()
        time.sleep(while_down)
        server.start()
        load.run.restarted_at = time.monotonic() - load.started
        time.sleep(after_restart)
        load.stop()
        verify(api.url, load.run)
    finally:
        load.stop()
        api.stop()
        server.stop()
    return load.run


def report(run: CrashRun) -> str:
    recovery = (
        "none"
        if run.first_write_after_restart is None
        else f"{run.first_write_after_restart:.2f} s"
    )
    failures = ", ".join(
        f"{reason} x{count}" for reason, count in sorted(run.failure_statuses.items())
    )
    return "\n".join(
        [
            f"killed at {run.killed_at:.1f} s, restarted at {run.restarted_at:.1f} s",
            f"acknowledged (2xx): {len(run.acknowledged)}",
            f"failed: {len(run.failed)} ({failures or 'none'})",
            f"acknowledged and found: {run.found}",
            f"acknowledged but missing: {len(run.missing)}",
            f"acknowledged but changed: {len(run.changed)}",
            f"failed but stored anyway: {run.failed_but_stored}",
            f"first acknowledged write after the restart: {recovery}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8, help="writer threads")
    parser.add_argument(
        "--before-kill",
        type=float,
        default=10.0,
        help="seconds of load before the kill",
    )
    parser.add_argument(
        "--while-down", type=float, default=3.0, help="seconds dynalite is down"
    )
    parser.add_argument(
        "--after-restart",
        type=float,
        default=10.0,
        help="seconds of load after the restart",
    )
    parser.add_argument("--rounds", type=int, default=3, help="kill-restart rounds")
    args = parser.parse_args()
    use_dummy_aws_environment()
    for round_number in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bookapi-crash-") as folder:
            run = run_crash(
                Path(folder),
                writers=args.writers,
                before_kill=args.before_kill,
                while_down=args.while_down,
                after_restart=args.after_restart,
            )
        print(f"round {round_number}:\n{report(run)}\n")


if __name__ == "__main__":
    main()
