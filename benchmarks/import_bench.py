"""Time ``flask books import`` of the goodbooks-10k catalogue on dynalite.

It starts its own dynalite on a free port of 127.0.0.1, with its data in a
temporary folder (LevelDB on disk, as ``make run`` keeps it). Each run then
imports the whole catalogue into a new table with bookapi's import at each
worker count. It writes the same books into another new table with a plain
boto3 batch writer (``Table.batch_writer()``, one thread). Last, it imports
the catalogue again into a table that already has it. At the end it checks that
every row of the file is stored once with its content, lists the problem
rows of the import's report, and writes the results to a section of
docs/benchmarks.md.

Run it from the repository root::

    .venv/bin/python -m benchmarks.import_bench
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3

from bookapi import create_app
from bookapi.bulk.importer import Import, ImportOptions
from bookapi.bulk.rows import ColumnMapping
from bookapi.bulk.sources import FileFormat
from bookapi.store import new_version, utc_now
from tests.servers import Dynalite

ROOT = Path(__file__).resolve().parent.parent
# The full catalogue is not shipped; it lies in shared/ beside the checkout.
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "goodbooks-10k" / "books.csv"
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
logger = logging.getLogger("benchmarks.import_bench")
BEGIN = "<!-- import-bench:begin -->"
END = "<!-- import-bench:end -->"

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
)


@dataclass
class Timing:
    """Rows per second of one way of writing, over several runs."""

    label: str
    rates: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def goodbooks_books(path: Path) -> dict[int, dict[str, str]]:
    """Read the catalogue as the goodbooks-10k mapping stores it."""
    with path.open(encoding="utf-8", newline="") as file:
        return {
            int(row["book_id"]): {"name": row["title"], "author": row["authors"]}
            for row in csv.DictReader(file)
        }


class Bench:
    def __init__(self, endpoint: str, data: Path, work: Path) -> None:
        self.endpoint = endpoint
        self.data = data
        self.work = work
        self.tables = 0

    def new_app(self, name: str) -> Any:
        self.tables += 1
        app = create_app(
            {
                "BOOKS_TABLE": f"bench-{name}-{self.tables}",
                "DYNAMODB_ENDPOINT": self.endpoint,
                # A benchmark's batches may wait on a busy dynalite longer
                # than an API request should.
                "DYNAMODB_READ_TIMEOUT": 30.0,
            }
        )
        result = app.test_cli_runner().invoke(args=["books", "create-table"])
        if result.exit_code != 0:
            raise RuntimeError(result.output)
        return app

    def bookapi_import(self, app: Any, workers: int) -> tuple[float, Path]:
        """Import the file with bookapi; return rows/s and the report path."""
        report = self.work / f"report-{self.tables}-{workers}.csv"
        options = ImportOptions(
            path=self.data,
            file_format=FileFormat.CSV,
            mapping=ColumnMapping.build("goodbooks-10k", []),
            report_path=report,
            workers=workers,
            log_every=3600.0,
        )
        with app.app_context():
            summary = Import(app.extensions["bookapi"].model, options).run()
        if summary.interrupted:
            raise RuntimeError("The import was interrupted.")
        return summary.read / summary.seconds, report

    def boto3_batch_writer(self, app: Any) -> float:
        """Write the same books with boto3's batch writer; return rows/s."""
        table_name = app.extensions["bookapi"].model.Meta.table_name
        table = boto3.resource("dynamodb", endpoint_url=self.endpoint).Table(table_name)
        started = time.perf_counter()
        count = 0
        with (
            self.data.open(encoding="utf-8", newline="") as file,
            table.batch_writer() as writer,
        ):
            for row in csv.DictReader(file):
                now = utc_now()
                writer.put_item(
                    Item={
                        "bookId": int(row["book_id"]),
                        "name": row["title"],
                        "author": row["authors"],
                        "createdAt": now,
                        "updatedAt": now,
                        "version": new_version(),
                    }
                )
                count += 1
        return count / (time.perf_counter() - started)


def check_table(app: Any, expected: dict[int, dict[str, str]]) -> list[str]:
    """Return what differs between the table and the file; empty when equal."""
    model = app.extensions["bookapi"].model
    with app.app_context():
        items = [book.to_dict() for book in model.scan(consistent_read=True)]
    problems = []
    ids = [item["bookId"] for item in items]
    if len(ids) != len(set(ids)):
        problems.append("a book id is stored more than once")
    stored = {item["bookId"]: item for item in items}
    lost = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    if lost:
        problems.append(f"{len(lost)} rows lost, first ids {lost[:5]}")
    if extra:
        problems.append(f"{len(extra)} unexpected books, first ids {extra[:5]}")
    changed = [
        book_id
        for book_id, book in expected.items()
        if book_id in stored
        and {k: stored[book_id].get(k) for k in ("name", "author")} != book
    ]
    if changed:
        problems.append(f"{len(changed)} books differ, first ids {changed[:5]}")
    return problems


def read_problem_rows(report: Path) -> list[dict[str, str]]:
    with report.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def command_output(command: list[str]) -> str:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine(load_before: tuple[float, float, float]) -> list[str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    dynalite = ROOT / "node_modules" / "dynalite" / "package.json"
    dynalite_version = "unknown"
    if dynalite.exists():
        dynalite_version = json.loads(dynalite.read_text())["version"]
    load = ", ".join(f"{value:.2f}" for value in load_before)
    return [
        f"- Machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB memory, "
        f"{platform.system()} {platform.release()}; load average before the "
        f"runs: {load}",
        f"- Python {platform.python_version()}, Node.js "
        f"{command_output(['node', '--version'])}, dynalite {dynalite_version} "
        "(LevelDB data in a temporary folder)",
        f"- boto3 {metadata.version('boto3')}, botocore "
        f"{metadata.version('botocore')}, PynamoDB {metadata.version('pynamodb')}, "
        f"Flask {metadata.version('flask')}",
    ]


def render(
    data: Path,
    runs: int,
    timings: list[Timing],
    problems: list[dict[str, str]],
    check: list[str],
    command: str,
    load_before: tuple[float, float, float],
) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        BEGIN,
        "## Bulk import",
        "",
        f"Import of goodbooks-10k `books.csv` ({data.stat().st_size:,} bytes, "
        "10,000 rows) into a new table of a local dynalite, median of "
        f"{runs} runs. Generated by `benchmarks/import_bench.py` on {date}.",
        "",
        *machine(load_before),
        f"- Command: `{command}`",
        "",
        "| Writer | Rows/s (median) | Runs |",
        "|---|---:|---|",
    ]
    for timing in timings:
        rates = ", ".join(f"{rate:,.0f}" for rate in timing.rates)
        lines.append(f"| {timing.label} | {timing.median:,.0f} | {rates} |")
    lines += [
        "",
        "bookapi's import reads each batch's stored books (BatchGetItem) before "
        "it writes them, to keep unchanged books as they are; the boto3 batch "
        "writer only writes. dynalite is a single Node.js process on the same "
        "cores as the client, so the figures compare the two writers on one "
        "local setup and say little about DynamoDB itself.",
        "",
    ]
    if check:
        lines.append("Check of the table after import: FAILED: " + "; ".join(check))
    else:
        lines.append(
            "Check of the table after import: all 10,000 rows stored once each, "
            "with the name and author of their row; no row lost or duplicated."
        )
    lines.append("")
    if problems:
        lines.append("Problem rows of the real data (line, field, reason):")
        lines.append("")
        for problem in problems:
            lines.append(
                f"- line {problem['line']}, {problem['field'] or 'row'}: "
                f"{problem['reason']}"
            )
    else:
        lines.append(
            "Problem rows of the real data: none. Every row passes BookInSchema."
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(output: Path, section: str) -> None:
    """Replace this benchmark's section of ``output``, keeping the others."""
    if output.exists():
        text = output.read_text(encoding="utf-8")
    else:
        text = "# Benchmarks\n\nMeasured figures, each section with its script.\n"
    if BEGIN in text and END in text:
        before = text[: text.index(BEGIN)]
        after = text[text.index(END) + len(END) :].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")


def measure(
    bench: Bench, runs: int, workers: list[int]
) -> tuple[list[Timing], Path, Any]:
    imports = {
        count: Timing(f"bookapi import, workers: {count}", []) for count in workers
    }
    baseline = Timing("boto3 `batch_writer()`, 1 thread", [])
    again = Timing(f"bookapi import again, unchanged, workers: {max(workers)}", [])
    report: Path | None = None
    checked_app: Any = None
    for run in range(1, runs + 1):
        steps: list[tuple[str, Callable[[], None]]] = []
        for count in workers:

            def run_import(count: int = count) -> None:
                nonlocal report, checked_app
                app = bench.new_app(f"bookapi-w{count}")
                rate, report = bench.bookapi_import(app, count)
                imports[count].rates.append(rate)
                checked_app = app

            steps.append((f"bookapi, {count} workers", run_import))

        def run_baseline() -> None:
            baseline.rates.append(bench.boto3_batch_writer(bench.new_app("boto3")))

        steps.append(("boto3 batch writer", run_baseline))
        # Alternate the order so that neither side always runs first.
        if run % 2 == 0:
            steps.reverse()
        for name, step in steps:
            logger.info("Run %d: %s", run, name)
            step()
        logger.info("Run %d: bookapi again, unchanged", run)
        rate, _ = bench.bookapi_import(checked_app, max(workers))
        again.rates.append(rate)
    assert report is not None
    return [*imports.values(), baseline, again], report, checked_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--workers", default="1,4,8", help="comma-separated worker counts"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    workers = [int(count) for count in args.workers.split(",")]

    expected = goodbooks_books(args.data)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        work = Path(folder)
        server = Dynalite(data_dir=work / "dynalite").start()
        try:
            bench = Bench(server.endpoint, args.data, work)
            timings, report, app = measure(bench, args.runs, workers)
            check = check_table(app, expected)
            problems = read_problem_rows(report)
        finally:
            server.stop()

    command = "make bench  # .venv/bin/python -m benchmarks.import_bench"
    if argv:
        command = ".venv/bin/python -m benchmarks.import_bench " + " ".join(argv)
    section = render(
        args.data, args.runs, timings, problems, check, command, load_before
    )
    write_section(args.output, section)
    sys.stdout.write(section)
    return 1 if check else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
