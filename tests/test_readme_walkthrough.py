"""The README's curl walkthrough, run as written, prints what the README shows.

Each ``$ `` line of the console blocks in "Walkthrough with curl" is one
command; the lines below it, up to the next command, are its expected output.
The commands run one after another in a single bash, so that variables such
as ``etag`` carry from one to the next, against the API served as ``make run``
serves it (scripts/run-local, on a new in-memory dynalite with the README's
table name ``books-local``, so that page cursors come out the same).

The README addresses the API at http://127.0.0.1:5000. The test serves it on a
free port instead, so that it runs beside a ``make run`` of the developer's,
and changes only that origin in the commands. Outputs are compared after
replacing what differs on every run: the Date and Server headers, request
ids, times and versions. Times and versions are numbered in order of first
appearance, so a value shown twice in the README must come back twice.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from tests.servers import NO_PROXY, ROOT, Dynalite, ServerProcess

README = ROOT / "README.md"
SECTION = "## Walkthrough with curl"
README_ORIGIN = "http://127.0.0.1:5000"
URL = re.compile(r"""https?://[^\s'"]+""")
# Printed after each command, on a line of its own, to split the outputs.
END_OF_STEP = "--- end of step ---"

HEADERS_OF_THE_MOMENT = [
    (re.compile(r"^Date: .*$", re.MULTILINE), "Date: <date>"),
    (re.compile(r"^Server: .*$", re.MULTILINE), "Server: <server>"),
    (
        re.compile(r"^X-Request-ID: [0-9a-f]{32}$", re.MULTILINE),
        "X-Request-ID: <request id>",
    ),
    (re.compile(r'"requestId":"[0-9a-f]{32}"'), '"requestId":"<request id>"'),
]
NUMBERED = [
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\b"), "time"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "version"),
]


@dataclass(frozen=True)
class Step:
    """One command of the walkthrough and the output the README shows."""

    command: str
    expected_output: str


def walkthrough_steps() -> list[Step]:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return [Step(command, "\n".join(lines)) for command, lines in steps]


STEPS = walkthrough_steps()


class Normaliser:
    """Replace the values that differ on every run, numbering times and
    versions in the order they first appear across the steps."""

    def __init__(self) -> None:
        self.numbers: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def __call__(self, output: str) -> str:
        output = output.replace("\r\n", "\n").rstrip("\n")
        for pattern, replacement in HEADERS_OF_THE_MOMENT:
            output = pattern.sub(replacement, output)
        for pattern, kind in NUMBERED:
            output = pattern.sub(partial(self.number, kind), output)
        return output

    def number(self, kind: str, match: re.Match[str]) -> str:
        value = match[0]
        if value not in self.numbers:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.numbers[value] = f"<{kind} {self.counts[kind]}>"
        return self.numbers[value]


def normalised(outputs: list[str]) -> list[str]:
    normalise = Normaliser()
    return [normalise(output) for output in outputs]


def run_walkthrough(origin: str, directory: Path) -> list[str]:
    """Run every command in one bash against ``origin``; return each output."""
    script = directory / "walkthrough.sh"
    script.write_text(
        "".join(
            f"{step.command.replace(README_ORIGIN, origin)}\n"
            f"printf '\\n%s\\n' '{END_OF_STEP}'\n"
            for step in STEPS
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        ["bash", str(script)],
        cwd=directory,
        env={**os.environ, **NO_PROXY},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    outputs = result.stdout.split(f"\n{END_OF_STEP}\n")
    assert outputs.pop() == "", result.stdout + result.stderr
    return outputs


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The normalised output of each step, run against a new, empty table."""
    directory = tmp_path_factory.mktemp("walkthrough")
    database = Dynalite().start()
    server = ServerProcess.run_local(
        database.endpoint, "books-local", directory / "server.log"
    )
    # The README's cursors are made with the key derived from the table name.
    server.environment["CURSOR_SECRET"] = ""
    try:
        server.start()
        yield normalised(run_walkthrough(server.url, directory))
    finally:
        server.stop()
        database.stop()


def test_walkthrough_is_found_in_the_readme() -> None:
    assert len(STEPS) > 10


def test_walkthrough_addresses_only_the_local_server() -> None:
    urls = [url for step in STEPS for url in URL.findall(step.command)]

    assert [url for url in urls if not url.startswith(README_ORIGIN + "/")] == []


@pytest.mark.parametrize(
    "number", range(len(STEPS)), ids=[f"step{n + 1:02d}" for n in range(len(STEPS))]
)
def test_walkthrough_step_output_matches_readme(
    outputs: list[str], number: int
) -> None:
    expected = normalised([step.expected_output for step in STEPS])

    assert outputs[number] == expected[number], STEPS[number].command
