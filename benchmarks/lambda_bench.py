"""Measure bookapi's Lambda package against a bare handler and a peer.

The benchmark builds the stage's package with the real ``zappa package`` from
the deploy venv (as the deploy rehearsal does: Zappa's network calls are
switched off and guarded), unpacks it, and runs it in the rehearsal's
Lambda-like process (``python -I -S -B``: only the standard library, the
package and the AWS SDK). In the same run it builds two other handlers for
the same requests and runs them in the same kind of process:

- ``bare``: the event read by hand and one boto3 call (benchmarks/peers/bare.py),
  the 1.00 of every ratio;
- ``powertools``: Powertools for AWS Lambda's REST resolver
  (benchmarks/peers/powertools_app.py).

All three talk to one local dynalite on 127.0.0.1 and get API Gateway REST
events built by tests/rehearsal/events.py. Each measure interleaves the
variants (bookapi, bare, powertools, bookapi...), so that drift of a shared
machine hits them alike; the ratios are what count. It measures:

1. cold start: a new process, import and the first ``GET /book/{id}`` with a
   real DynamoDB call, from the process's start to its first result;
2. warm ``GET /book/{id}`` and ``POST /book`` inside the handler, live and
   with DynamoDB stubbed at botocore's HTTP layer (benchmarks/lambda_host.py);
3. the zip's size and files, and whether its bytecode is valid;
4. ``GET /book?genre=...&limit=20`` and ``GET /book?limit=20`` at growing
   table sizes;
5. the resident memory of warm processes before and after many requests;

and profiles bookapi's warm requests with cProfile. The results replace the
section between the lambda-bench markers of docs/benchmarks.md.

    .venv/bin/python -m benchmarks.lambda_bench [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3

from tests.rehearsal.events import RestApiGateway
from tests.rehearsal.processes import LambdaProcess, lambda_environment, link_aws_sdk
from tests.rehearsal.rehearse import ZappaRun, run_zappa
from tests.rehearsal.settings import StageSettings
from tests.servers import Dynalite, create_table, use_dummy_aws_environment

ROOT = Path(__file__).resolve().parent.parent
HOST = Path(__file__).resolve().parent / "lambda_host.py"
PEERS = Path(__file__).resolve().parent / "peers"
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
ARTIFACTS = ROOT / "test-artifacts" / "lambda-bench"
BEGIN = "<!-- lambda-bench:begin -->"
END = "<!-- lambda-bench:end -->"
STAGE = "dev"
REGION = "us-east-1"
ACCOUNT = "123456789012"
GENRES = 10
# Books that the warm GET and POST requests read and replace.
HOT_BOOKS = 200
MIB = 1024 * 1024

logger = logging.getLogger("benchmarks.lambda_bench")


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run or a quick one."""

    cold_rounds: int
    warm_rounds: int
    page_sizes: tuple[int, ...]
    page_rounds: int
    memory_requests: int
    profile_requests: int

    @classmethod
    def full(cls) -> Plan:
        return cls(20, 2000, (1_000, 10_000, 100_000), 300, 10_000, 3000)

    @classmethod
    def quick(cls) -> Plan:
        return cls(3, 150, (1_000, 3_000), 50, 1_000, 300)


@dataclass(frozen=True)
class Variant:
    """One handler under test: its task folder, handler and environment."""

    name: str
    task_dir: Path
    handler: str
    variables: dict[str, str]


@dataclass
class Samples:
    """Milliseconds of one measure for one variant."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p99(self) -> float:
        if len(self.values) < 100:
            return max(self.values)
        return statistics.quantiles(self.values, n=100)[98]


@dataclass
class Results:
    cold: dict[str, Samples] = field(default_factory=dict)
    first_invoke: dict[str, Samples] = field(default_factory=dict)
    warm: dict[str, dict[str, Samples]] = field(default_factory=dict)
    log_lines: dict[str, tuple[float, float]] = field(default_factory=dict)
    packages: dict[str, tuple[int, int]] = field(default_factory=dict)
    bytecode: str = ""
    bytecode_valid: bool = False
    pages: dict[int, dict[str, Samples]] = field(default_factory=dict)
    memory: dict[str, tuple[float, float, int]] = field(default_factory=dict)
    profile: list[str] = field(default_factory=list)
    profile_packages: list[tuple[str, float]] = field(default_factory=list)


def book_item(book_id: int) -> dict[str, Any]:
    return {
        "bookId": {"N": str(book_id)},
        "name": {"S": f"Book {book_id}"},
        "author": {"S": f"Author {book_id % 1000}"},
        "genre": {"S": f"Genre {book_id % GENRES}"},
        "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
        "updatedAt": {"S": "2026-01-01T00:00:00.000Z"},
        "version": {"S": f"{book_id:032x}"},
    }


def load_books(endpoint: str, table: str, first: int, last: int) -> None:
    """Write books ``first`` to ``last`` with BatchWriteItem from 4 threads."""
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    ids = list(range(first, last + 1))
    batches = [ids[i : i + 25] for i in range(0, len(ids), 25)]
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not batches:
                    return
                batch = batches.pop()
            requests: list[dict[str, Any]] = [
                {"PutRequest": {"Item": book_item(i)}} for i in batch
            ]
            while requests:
                answer = client.batch_write_item(RequestItems={table: requests})
                requests = answer.get("UnprocessedItems", {}).get(table, [])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Bench:
    """The servers, packages and handler processes of one run."""

    def __init__(self, plan: Plan, work: Path) -> None:
        self.plan = plan
        self.work = work
        self.results = Results()
        self.api = RestApiGateway(
            api_id="bench12345",
            region=REGION,
            stage=STAGE,
            account_id=ACCOUNT,
            binary_bodies=True,
            api_key="bench-api-key",
            api_key_id="bench-api-key-id",
            authorization="Bearer bench",
        )
        self.endpoint = ""
        self.table = f"books-{STAGE}"
        self.venv = ROOT
        self.sdk_dir = ROOT
        self.variants: list[Variant] = []
        self.processes = 0

    # Building what is measured.

    def build(self) -> None:
        built = subprocess.run(
            [str(ROOT / "scripts" / "deploy-venv"), STAGE],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        self.venv = ROOT / built.stdout.strip()
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        site_packages = self.venv / "lib" / version / "site-packages"
        self.sdk_dir = link_aws_sdk(site_packages, self.work / "sdk")

        settings = StageSettings.load(ROOT / "zappa_settings.json", STAGE)
        settings_file = settings.rehearsal_file(self.work)
        package = ROOT / "dist" / f"bookapi-{STAGE}.zip"
        package.parent.mkdir(exist_ok=True)
        logger.info("Building %s with zappa package", package)
        run_zappa(
            ZappaRun(
                venv=self.venv,
                project=ROOT,
                settings_file=settings_file,
                stage=STAGE,
                region=REGION,
                log_dir=self.work,
            ),
            "package",
            "-o",
            str(package),
        )
        bookapi_dir = self.work / "task-bookapi"
        with zipfile.ZipFile(package) as archive:
            archive.extractall(bookapi_dir)
            valid, modules = bytecode_summary(archive)
        self.results.bytecode_valid = valid == modules
        self.results.bytecode = (
            f"{valid} of {modules} modules have unchecked-hash bytecode for "
            f"{sys.implementation.cache_tag}"
        )
        self.results.packages["bookapi"] = (
            package.stat().st_size,
            count_files(bookapi_dir),
        )
        variables = {
            str(k): str(v)
            for k, v in settings.config.get("aws_environment_variables", {}).items()
        }
        self.variants.append(
            Variant("bookapi", bookapi_dir, "handler.lambda_handler", variables)
        )

        bare_dir = self.work / "task-bare"
        bare_dir.mkdir()
        shutil.copy2(PEERS / "bare.py", bare_dir)
        self.variants.append(
            Variant("bare", bare_dir, "bare.handler", {"BOOKS_TABLE": self.table})
        )

        peer_dir = self.work / "task-powertools"
        peer_dir.mkdir()
        shutil.copy2(PEERS / "powertools_app.py", peer_dir)
        dev_site = Path(
            str(metadata.distribution("aws-lambda-powertools").locate_file(""))
        )
        for name in ("aws_lambda_powertools", "typing_extensions.py"):
            source = dev_site / name
            if source.is_dir():
                shutil.copytree(source, peer_dir / name)
            else:
                shutil.copy2(source, peer_dir / name)
        self.variants.append(
            Variant(
                "powertools",
                peer_dir,
                "powertools_app.handler",
                {"BOOKS_TABLE": self.table},
            )
        )
        for variant in self.variants[1:]:
            self.results.packages[variant.name] = (
                zipped_size(variant.task_dir),
                count_files(variant.task_dir),
            )

    def start_dynamodb(self, stack: ExitStack) -> None:
        dynalite = Dynalite().start()
        stack.callback(dynalite.stop)
        self.endpoint = dynalite.endpoint
        create_table(self.endpoint, self.table)
        load_books(self.endpoint, self.table, 1, HOT_BOOKS)

    # Processes and events.

    def process(
        self, variant: Variant, stub: bool = False, **extra: str
    ) -> LambdaProcess:
        self.processes += 1
        name = f"{variant.name}-{self.processes}"
        configuration = {
            "FunctionName": f"bookapi-{STAGE}",
            "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
            f"bookapi-{STAGE}",
            "Handler": variant.handler,
            "Runtime": f"python{sys.version_info[0]}.{sys.version_info[1]}",
            "Environment": {"Variables": variant.variables},
        }
        environment = lambda_environment(
            configuration,
            variant.task_dir,
            self.sdk_dir,
            self.endpoint,
            self.work / f"netguard-{name}.txt",
        )
        if stub:
            environment["BENCH_DYNAMODB_STUB"] = "1"
        environment.update(extra)
        process = LambdaProcess(
            python=self.venv / "bin" / "python",
            task_dir=variant.task_dir,
            sdk_dir=self.sdk_dir,
            environment=environment,
            log_path=ARTIFACTS / f"handler-{name}.log",
        )
        # The rehearsal's runtime, with the benchmark's stub and profiler.
        process.command = [
            str(HOST) if part.endswith("lambda_runtime.py") else part
            for part in process.command
        ]
        return process.start()

    def get_event(self, book_id: int) -> dict[str, Any]:
        return self.api.event("GET", f"/book/{book_id}")

    def post_event(self, book_id: int) -> dict[str, Any]:
        body = {
            "bookId": book_id,
            "name": f"Book {book_id}",
            "author": f"Author {book_id % 1000}",
            "genre": f"Genre {book_id % GENRES}",
        }
        return self.api.event(
            "POST",
            "/book",
            headers={"Content-Type": "application/json"},
            body=json.dumps(body).encode(),
        )

    def page_event(self, **query: str) -> dict[str, Any]:
        event = self.api.event("GET", "/book")
        event["queryStringParameters"] = dict(query)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
        return event

    # The measures.

    def cold_starts(self) -> None:
        """Start a new process per variant and round, and time its first GET."""
        results = self.results
        for variant in self.variants:
            results.cold[variant.name] = Samples()
            results.first_invoke[variant.name] = Samples()
        for round_number in range(self.plan.cold_rounds):
            shift = round_number % len(self.variants)
            for variant in self.variants[shift:] + self.variants[:shift]:
                started = time.perf_counter()
                process = self.process(variant)
                try:
                    invocation = process.invoke(self.get_event(1))
                    elapsed = (time.perf_counter() - started) * 1000
                finally:
                    process.stop()
                check_ok(variant.name, invocation.result, invocation.error)
                results.cold[variant.name].values.append(elapsed)
                results.first_invoke[variant.name].values.append(invocation.duration_ms)
        logger.info("Cold starts: %s", medians(results.cold))

    def warm_requests(self) -> None:
        """GET and POST in warm processes, live and stubbed, interleaved."""
        plan = self.plan
        modes = {"live": False, "stubbed": True}
        with ExitStack() as stack:
            running: list[tuple[str, str, LambdaProcess]] = []
            for mode, stub in modes.items():
                for variant in self.variants:
                    process = self.process(variant, stub=stub)
                    stack.callback(process.stop)
                    running.append((mode, variant.name, process))
            for _, _, process in running:
                for i in range(50):
                    process.invoke(self.get_event(1 + i % HOT_BOOKS))
                    process.invoke(self.post_event(1 + i % HOT_BOOKS))
            samples: dict[str, dict[str, Samples]] = {}
            logs: dict[str, tuple[int, int]] = {}
            for mode, name, process in running:
                for request in ("GET", "POST"):
                    samples.setdefault(f"{request} {mode}", {})[name] = Samples()
                if mode == "live":
                    logs[name] = log_size(process.log_path)
            for i in range(plan.warm_rounds):
                book_id = 1 + i % HOT_BOOKS
                for mode, name, process in running:
                    get = process.invoke(self.get_event(book_id))
                    check_ok(name, get.result, get.error)
                    samples[f"GET {mode}"][name].values.append(get.duration_ms)
                    post = process.invoke(self.post_event(book_id))
                    check_ok(name, post.result, post.error)
                    samples[f"POST {mode}"][name].values.append(post.duration_ms)
            for mode, name, process in running:
                if mode == "live":
                    lines, size = log_size(process.log_path)
                    requests = 2 * plan.warm_rounds
                    results_lines = (lines - logs[name][0]) / requests
                    results_bytes = (size - logs[name][1]) / requests
                    self.results.log_lines[name] = (results_lines, results_bytes)
            self.results.warm = samples
        logger.info("Warm GET live: %s", medians(samples["GET live"]))

    def pages(self) -> None:
        """Time list and query pages while the table grows."""
        plan = self.plan
        bookapi, bare = self.variants[0], self.variants[1]
        with ExitStack() as stack:
            api = self.process(bookapi)
            stack.callback(api.stop)
            base = self.process(bare)
            stack.callback(base.stop)
            loaded = HOT_BOOKS
            for size in plan.page_sizes:
                started = time.perf_counter()
                load_books(self.endpoint, self.table, loaded + 1, size)
                loaded = size
                logger.info(
                    "Loaded %d books in %.1f s", size, time.perf_counter() - started
                )
                measures: dict[str, tuple[LambdaProcess, dict[str, Any]]] = {
                    "bookapi genre page": (
                        api,
                        self.page_event(genre="Genre 3", limit="20"),
                    ),
                    "bookapi list page": (api, self.page_event(limit="20")),
                    "bare genre page": (
                        base,
                        self.page_event(genre="Genre 3", limit="20"),
                    ),
                }
                samples = {label: Samples() for label in measures}
                for i in range(plan.page_rounds + 10):
                    for label, (process, event) in measures.items():
                        invocation = process.invoke(event)
                        check_ok(label, invocation.result, invocation.error)
                        items = json.loads(invocation.result["body"] or "{}")
                        if label.startswith("bookapi"):
                            body = invocation.result["body"]
                            items = json.loads(decode_body(invocation.result, body))
                        if len(items["items"]) != 20:
                            raise RuntimeError(f"{label}: not a page of 20 books")
                        if i >= 10:
                            samples[label].values.append(invocation.duration_ms)
                self.results.pages[size] = samples
                logger.info("Pages at %d books: %s", size, medians(samples))

    def memory(self) -> None:
        """Resident memory of warm processes before and after many requests."""
        requests = self.plan.memory_requests
        with ExitStack() as stack:
            running = []
            for variant in self.variants:
                process = self.process(variant)
                stack.callback(process.stop)
                running.append((variant.name, process))
            for _, process in running:
                for i in range(100):
                    process.invoke(self.get_event(1 + i % HOT_BOOKS))
            before = {name: rss_mib(process) for name, process in running}
            for i in range(requests):
                book_id = 1 + i % HOT_BOOKS
                for name, process in running:
                    event = (
                        self.post_event(book_id)
                        if i % 4 == 3
                        else self.get_event(book_id)
                    )
                    invocation = process.invoke(event)
                    check_ok(name, invocation.result, invocation.error)
            for name, process in running:
                self.results.memory[name] = (before[name], rss_mib(process), requests)
        logger.info("Memory: %s", self.results.memory)

    def profile(self) -> None:
        """Profile bookapi's warm GET and POST with DynamoDB stubbed."""
        stats_path = self.work / "bookapi.prof"
        process = self.process(
            self.variants[0],
            stub=True,
            BENCH_PROFILE=str(stats_path),
            BENCH_PROFILE_SKIP="100",
        )
        try:
            for i in range(50 + self.plan.profile_requests // 2):
                process.invoke(self.get_event(1 + i % HOT_BOOKS))
                process.invoke(self.post_event(1 + i % HOT_BOOKS))
        finally:
            process.stop()
        shutil.copy2(stats_path, ARTIFACTS / "bookapi.prof")
        self.results.profile, self.results.profile_packages = read_profile(
            stats_path, self.work
        )


def decode_body(result: dict[str, Any], body: str) -> str:
    import base64

    if result.get("isBase64Encoded"):
        return base64.b64decode(body).decode()
    return body


def check_ok(name: str, result: Any, error: str | None) -> None:
    if error is not None:
        raise RuntimeError(f"{name}: the handler failed: {error}")
    status = int(result.get("statusCode", 0)) if isinstance(result, dict) else 0
    if status not in (200, 201):
        raise RuntimeError(f"{name}: status {status}: {str(result)[:300]}")


def medians(samples: dict[str, Samples]) -> str:
    return ", ".join(f"{k} {v.median:.2f} ms" for k, v in samples.items())


def log_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes() if path.exists() else b""
    return data.count(b"\n"), len(data)


def rss_mib(process: LambdaProcess) -> float:
    pid = process._process.pid if process._process is not None else 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def count_files(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file())


def zipped_size(folder: Path) -> int:
    """The size of a folder as a zip, as it would be uploaded."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return len(buffer.getvalue())


def added_row(warm: dict[str, dict[str, Samples]], request: str, key: str) -> str:
    """The goal row of the time a framework adds to one request."""
    samples = warm[key]
    added = (samples["bookapi"].median - samples["bare"].median) * 1000
    peer = (samples["powertools"].median - samples["bare"].median) * 1000
    status = "met" if added <= 60 else "**not met**"
    return (
        f"| time added per {request} by the framework (DynamoDB stubbed) | "
        f"+60 us or less | {added:+.0f} us | {ratio(samples, 'bookapi')} | "
        f"{peer:+.0f} us | {status} |"
    )


def bytecode_summary(archive: zipfile.ZipFile) -> tuple[int, int]:
    """Count the modules of the zip, and those whose bytecode Python uses
    whatever the files' dates (unchecked-hash, this Python's magic number).

    A module is a ``.py`` file, with its bytecode in ``__pycache__``, or a
    ``.pyc`` file alone.
    """
    import importlib.util

    names = set(archive.namelist())
    tag = sys.implementation.cache_tag
    modules: dict[str, str | None] = {}
    for name in names:
        if name.endswith(".py"):
            folder, _, file = name.rpartition("/")
            prefix = f"{folder}/" if folder else ""
            cached = f"{prefix}__pycache__/{file[:-3]}.{tag}.pyc"
            modules[name] = cached if cached in names else None
        elif name.endswith(".pyc") and "__pycache__/" not in name:
            modules[name] = name
    valid = 0
    for bytecode in modules.values():
        if bytecode is None:
            continue
        header = archive.read(bytecode)[:8]
        flags = int.from_bytes(header[4:8], "little")
        if header[:4] == importlib.util.MAGIC_NUMBER and flags == 0b01:
            valid += 1
    return valid, len(modules)


def read_profile(path: Path, work: Path) -> tuple[list[str], list[tuple[str, float]]]:
    """The top functions by own time, and own time per package."""
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values()) or 1.0
    rows = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)
    top = []
    for (filename, line, function), (_, calls, own, cumulative, _) in rows[:20]:
        where = short_path(filename, work)
        top.append(
            f"| {own / total * 100:.1f} % | {cumulative / total * 100:.1f} % | "
            f"{calls:,} | `{function}` | `{where}:{line}` |"
        )
    packages: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in raw.items():
        name = package_of(filename, work)
        packages[name] = packages.get(name, 0.0) + own
    shares = sorted(
        ((name, own / total * 100) for name, own in packages.items()),
        key=lambda item: item[1],
        reverse=True,
    )
    return top, shares


STDLIB = sysconfig.get_paths()["stdlib"]


def short_path(filename: str, work: Path) -> str:
    for marker in ("task-bookapi/", "sdk/", "python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.replace(str(work), "")


def package_of(filename: str, work: Path) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "Python built-ins"
    if filename.startswith(STDLIB) and "site-packages" not in filename:
        return "Python standard library"
    path = short_path(filename, work)
    top = path.split("/", 1)[0].removesuffix(".py") or "other"
    # Zappa's handler.py and zappa_settings.py lie at the package's top.
    return "zappa" if top in ("handler", "zappa_settings") else top


# The page.


def ratio(samples: dict[str, Samples], name: str, base: str = "bare") -> str:
    return f"{samples[name].median / samples[base].median:.2f}x"


def render(results: Results, plan: Plan, command: str, load: str) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    warm = results.warm
    cold = results.cold
    names = list(cold)
    cold_ratio = cold["bookapi"].median / cold["bare"].median
    get_ratio = warm["GET live"]["bookapi"].median / warm["GET live"]["bare"].median
    zip_size, zip_files = results.packages["bookapi"]
    lines_per_request, bytes_per_request = results.log_lines["bookapi"]

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    out = [
        BEGIN,
        "## Lambda: cold start, warm requests, package, pages, memory",
        "",
        f"Generated by `benchmarks/lambda_bench.py` on {date}"
        + (
            " (quick run: few samples, for a smoke test only)."
            if plan.cold_rounds < 10
            else "."
        ),
        "",
        *machine_lines(load),
        f"- Command: `{command}`",
        "",
        "Each variant runs in the deploy rehearsal's Lambda-like process "
        "(`python -I -S -B`, only the standard library, the unpacked package "
        "and the deploy venv's boto3) with API Gateway REST events, against "
        "one in-memory dynalite on 127.0.0.1. `bare` reads the event by hand "
        "and makes one boto3 call (benchmarks/peers/bare.py); `powertools` is "
        "the same on Powertools' `APIGatewayRestResolver` "
        "(benchmarks/peers/powertools_app.py); `bookapi` is the zip that "
        "`zappa package` builds for the `dev` stage. The variants are "
        "interleaved, and ratios are to `bare` of the same run.",
        "",
        "### Goals",
        "",
        "| measure | goal | bookapi | ratio to bare | powertools | status |",
        "|---|---|---:|---:|---:|---|",
        f"| cold start to first response, median | 1.15x or less | "
        f"{cold['bookapi'].median:.0f} ms | {cold_ratio:.2f}x | "
        f"{ratio(cold, 'powertools')} | {met(cold_ratio <= 1.15)} |",
        f"| warm GET, median, live local DynamoDB | 1.10x or less | "
        f"{warm['GET live']['bookapi'].median:.2f} ms | {get_ratio:.2f}x | "
        f"{ratio(warm['GET live'], 'powertools')} | {met(get_ratio <= 1.10)} |",
        *(
            added_row(warm, request, f"{request} stubbed")
            for request in ("GET", "POST")
        ),
        f"| deployment zip | 2.5 MiB or less, valid bytecode | "
        f"{zip_size / MIB:.2f} MiB, {zip_files} files | | "
        f"{results.packages['powertools'][0] / MIB:.2f} MiB | "
        f"{met(zip_size <= 2.5 * MIB and results.bytecode_valid)} |",
        f"| log output per request | 1 line | {lines_per_request:.1f} lines, "
        f"{bytes_per_request:.0f} bytes | | "
        f"{results.log_lines['powertools'][0]:.1f} lines | "
        f"{met(lines_per_request <= 1.0)} |",
        "",
        f"Bytecode in the zip: {results.bytecode}.",
        "",
        "### Cold start",
        "",
        f"A new process per variant and round ({plan.cold_rounds} rounds), from "
        "its start to the result of its first `GET /book/1` with a real "
        "DynamoDB call. The first invocation is the part of that spent inside "
        "the handler: what the handler left for the first request instead of "
        "doing it at import (Lambda's init phase).",
        "",
        "| variant | median ms | p99 ms | ratio | first invocation, median ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in names:
        out.append(
            f"| {name} | {cold[name].median:.0f} | {cold[name].p99:.0f} | "
            f"{ratio(cold, name)} | {results.first_invoke[name].median:.1f} |"
        )
    out += [
        "",
        "### Warm requests",
        "",
        f"Time inside the handler per request, {plan.warm_rounds} of each per "
        "variant after 50 unmeasured ones; `GET /book/{id}` and `POST /book` "
        "(replacing one of 200 books). Stubbed: DynamoDB answered at botocore's "
        "HTTP layer (benchmarks/lambda_host.py), so the request is built, "
        "signed and parsed but not sent.",
        "",
        "| request | variant | median ms | p99 ms | ratio (median) | ratio (p99) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for measure, samples in warm.items():
        for name in names:
            s = samples[name]
            p99_ratio = s.p99 / samples["bare"].p99
            out.append(
                f"| {measure} | {name} | {s.median:.3f} | {s.p99:.3f} | "
                f"{ratio(samples, name)} | {p99_ratio:.2f}x |"
            )
    out += [
        "",
        "Log output of the live warm requests, per request: "
        + ", ".join(
            f"{name} {lines:.1f} lines ({size:.0f} bytes)"
            for name, (lines, size) in results.log_lines.items()
        )
        + ".",
        "",
        "### Package",
        "",
        "| variant | zip | files |",
        "|---|---:|---:|",
    ]
    for name, (size, files) in results.packages.items():
        out.append(f"| {name} | {size / MIB:.2f} MiB | {files} |")
    out += [
        "",
        "bare and powertools are the handler file zipped, with Powertools and "
        "typing_extensions for the peer; the Lambda runtime provides boto3 to "
        "all three.",
        "",
        "### Pages as the table grows",
        "",
        f"Time inside the handler per page of 20, {plan.page_rounds} pages per "
        f"measure and size, with {GENRES} genres spread evenly over the books. "
        "A genre page is a Query of the genre index; the list page is a Scan.",
        "",
        "| books | measure | median ms | p99 ms |",
        "|---:|---|---:|---:|",
    ]
    for size, samples in results.pages.items():
        for label, s in samples.items():
            out.append(f"| {size:,} | {label} | {s.median:.2f} | {s.p99:.2f} |")
    out += [
        "",
        "### Memory",
        "",
        "Resident memory (VmRSS) of warm processes, live, after 100 requests "
        "and then after the measured requests (3 GETs to 1 POST).",
        "",
        "| variant | requests | RSS before | RSS after | growth |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (before, after, count) in results.memory.items():
        out.append(
            f"| {name} | {count:,} | {before:.1f} MiB | {after:.1f} MiB | "
            f"{after - before:+.1f} MiB |"
        )
    out += [
        "",
        "### Profile of bookapi's warm requests",
        "",
        f"cProfile of {plan.profile_requests:,} warm requests (GET and POST in "
        "turn) in the Lambda-like process, DynamoDB stubbed. Own time per "
        "package, as a share of all profiled time:",
        "",
        "| package | own time |",
        "|---|---:|",
    ]
    for name, share in results.profile_packages[:12]:
        out.append(f"| {name} | {share:.1f} % |")
    out += [
        "",
        "The functions with the most own time:",
        "",
        "| own | cumulative | calls | function | where |",
        "|---:|---:|---:|---|---|",
        *results.profile,
        END,
    ]
    return "\n".join(out) + "\n"


def machine_lines(load: str) -> list[str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    dynalite = ROOT / "node_modules" / "dynalite" / "package.json"
    dynalite_version = json.loads(dynalite.read_text())["version"]
    versions = ", ".join(
        f"{label} {metadata.version(name)}"
        for label, name in (
            ("boto3", "boto3"),
            ("Flask", "flask"),
            ("flask-smorest", "flask-smorest"),
            ("marshmallow", "marshmallow"),
            ("PynamoDB", "pynamodb"),
            ("Zappa", "zappa"),
            ("Powertools", "aws-lambda-powertools"),
        )
    )
    return [
        f"- Machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB memory, "
        f"{platform.system()} {platform.release()}; load average before the "
        f"run: {load}",
        f"- Python {platform.python_version()}, dynalite {dynalite_version} in memory",
        f"- {versions}",
    ]


def write_section(output: Path, section: str) -> None:
    """Replace this benchmark's section of ``output``, keeping the others."""
    text = output.read_text(encoding="utf-8") if output.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before = text[: text.index(BEGIN)]
        after = text[text.index(END) + len(END) :]
        text = before + section.rstrip("\n") + after
    else:
        text = text.rstrip("\n") + "\n\n" + section
    output.write_text(text, encoding="utf-8")


@contextmanager
def timed(label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    logger.info("%s took %.0f s", label, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--no-write", action="store_true", help="print the section only"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    use_dummy_aws_environment()
    plan = Plan.quick() if args.quick else Plan.full()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="lambda-bench-") as folder,
        ExitStack() as stack,
    ):
        bench = Bench(plan, Path(folder))
        steps: list[tuple[str, Callable[[], None]]] = [
            ("build", bench.build),
            ("dynamodb", lambda: bench.start_dynamodb(stack)),
            ("cold starts", bench.cold_starts),
            ("warm requests", bench.warm_requests),
            ("profile", bench.profile),
            ("memory", bench.memory),
            ("pages", bench.pages),
        ]
        for label, step in steps:
            with timed(label):
                step()
        command = "make bench  # .venv/bin/python -m benchmarks.lambda_bench"
        if args.quick:
            command = ".venv/bin/python -m benchmarks.lambda_bench --quick"
        section = render(bench.results, plan, command, load)
    if args.no_write:
        print(section)
    else:
        write_section(args.output, section)
        logger.info("Wrote the lambda-bench section of %s", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
