"""A property-based run of the whole API from its own OpenAPI document.

Schemathesis loads ``/openapi.json`` from the API served over HTTP by waitress
on 127.0.0.1, backed by a dynalite process. It sends every operation
generated requests: boundary values (its coverage phase), random valid and
invalid data (fuzzing), and sequences of calls along the links it infers
between operations (stateful). No response may be a server error, and each
must have a status code, content type, headers and body that the document
gives for it. The checks and phases are set in ``schemathesis.toml``.

``make fuzz`` runs it at length; ``tests/test_fuzz.py`` runs a short version
in ``make test``. Run it by hand with::

    .venv/bin/python -m tests.fuzz --max-examples 200 --seed 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.live_api import DUMMY_CREDENTIALS, LiveApi
from tests.servers import ROOT, Dynalite

# Books with small ids, stored before the run, so that generated requests
# with small path ids (boundary values, and the small integers that
# Hypothesis favours) find a book.
SEED_BOOKS = [
    {"bookId": 1, "name": "Dune", "author": "Frank Herbert", "genre": "Fiction"},
    {"bookId": 2, "name": "Emma", "author": "Jane Austen", "genre": "Classics"},
    {"bookId": 3, "name": "Mockingjay", "author": "Suzanne Collins"},
    {"bookId": 4, "name": "Persuasion", "author": "Jane Austen"},
    {"bookId": 5, "name": "The Dispossessed"},
]

REQUEST_LOG_LINE = re.compile(
    r"bookapi\.request\W+(?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) "
    r".*request_id=(?P<request_id>\S+)"
)


@dataclass
class FuzzRun:
    """What one run did: the CLI's exit code and output, and the server's view."""

    exit_code: int
    output: str
    seconds: float
    # (operation, status) -> requests, from the server's request log.
    responses: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.server_errors

    def summary(self) -> str:
        """Describe the requests that the server handled, per operation and status."""
        lines = [f"Requests handled by the server, in {self.seconds:.0f} s:"]
        operations = sorted({operation for operation, _ in self.responses})
        for operation in operations:
            statuses = sorted(
                (status, count)
                for (name, status), count in self.responses.items()
                if name == operation
            )
            total = sum(count for _, count in statuses)
            detail = ", ".join(f"{status}: {count}" for status, count in statuses)
            lines.append(f"  {operation:<24} {total:>6}  ({detail})")
        lines.append(f"  {'total':<24} {sum(self.responses.values()):>6}")
        errors = len(self.server_errors)
        lines.append(f"Unhandled exceptions in the server log: {errors}")
        return "\n".join(lines)


def operation_of(method: str, path: str) -> str:
    """Name the documented operation that a request path belongs to."""
    if path == "/book":
        return f"{method} /book"
    if path.startswith("/book/"):
        return f"{method} /book/{{book_id}}"
    return f"{method} (undocumented path)"


def read_request_log(text: str) -> Counter[tuple[str, int]]:
    """Count the requests of a server log by operation and status."""
    seen: set[str] = set()
    counts: Counter[tuple[str, int]] = Counter()
    for line in text.splitlines():
        match = REQUEST_LOG_LINE.search(line)
        if match is None or match["request_id"] in seen:
            continue
        seen.add(match["request_id"])
        if match["path"] == "/openapi.json":
            continue
        operation = operation_of(match["method"], match["path"])
        counts[(operation, int(match["status"]))] += 1
    return counts


def seed_books(url: str) -> None:
    """Store SEED_BOOKS through the API."""
    for book in SEED_BOOKS:
        request = urllib.request.Request(
            f"{url}/book",
            data=json.dumps(book).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status not in (200, 201):
                raise RuntimeError(
                    f"Seeding book {book['bookId']} failed: HTTP {response.status}."
                )


def schemathesis_command(
    url: str,
    max_examples: int,
    seed: int | None,
    workers: int,
    extra_args: list[str],
) -> list[str]:
    """Build the ``st run`` command line; the rest is in schemathesis.toml."""
    command = [sys.executable, "-m", "schemathesis.cli", "run"]
    command += [f"{url}/openapi.json", "--max-examples", str(max_examples)]
    command += ["--workers", str(workers)]
    if seed is not None:
        command += ["--seed", str(seed)]
    return command + extra_args


def run_fuzz(
    max_examples: int,
    seed: int | None = None,
    workers: int = 1,
    extra_args: list[str] | None = None,
    echo: bool = False,
    endpoint: str | None = None,
    workdir: Path | None = None,
) -> FuzzRun:
    """Serve the API on a new table, seed books, run schemathesis, stop.

    ``endpoint`` is a running DynamoDB-compatible server on 127.0.0.1; when
    None, a dynalite process is started for the run and stopped after it.
    With ``echo`` the CLI's output also goes to stdout as it comes. The
    server's log is kept in ``workdir`` (a temporary folder when None).
    """
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if endpoint is None:
            dynalite = Dynalite().start()
            stack.callback(dynalite.stop)
            endpoint = dynalite.endpoint
        table = f"books-fuzz-{os.getpid()}-{time.monotonic_ns()}"
        api = LiveApi(endpoint, table, workdir / "server.log").start()
        stack.callback(api.stop)

        seed_books(api.url)
        started = time.monotonic()
        command = schemathesis_command(
            api.url, max_examples, seed, workers, extra_args or []
        )
        exit_code, output = run_command(command, echo)
        seconds = time.monotonic() - started
        api.stop()
        log = api.log_path.read_text(encoding="utf-8", errors="replace")

    return FuzzRun(
        exit_code=exit_code,
        output=output,
        seconds=seconds,
        responses=read_request_log(log),
        server_errors=read_server_errors(log),
    )


def read_server_errors(text: str) -> list[str]:
    """Return the lines of a server log that report an unhandled exception."""
    errors: list[str] = []
    for line in text.splitlines():
        if "Exception on " in line and line not in errors:
            errors.append(line)
    return errors


def run_command(command: list[str], echo: bool) -> tuple[int, str]:
    """Run ``command`` from the repository root; return its exit code and output."""
    env = {**os.environ, **DUMMY_CREDENTIALS}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if echo:
            print(line, end="", flush=True)
    return process.wait(), "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-examples",
        type=int,
        default=1000,
        help="generated requests per operation in the fuzzing phase (1000)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed (default: a new one)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="concurrent schemathesis workers (1)"
    )
    args, extra_args = parser.parse_known_args(argv)

    run = run_fuzz(args.max_examples, args.seed, args.workers, extra_args, echo=True)
    print()
    print(run.summary())
    for line in run.server_errors:
        print(f"  {line}")
    return 0 if run.passed else 1


if __name__ == "__main__":
    sys.exit(main())
