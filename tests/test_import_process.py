"""``flask books import`` as a process: Ctrl-C, ``--resume`` and the progress bar.

These tests run the real command against a dynalite process that they start
on 127.0.0.1, and send it a real SIGINT.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bookapi import create_app
from tests.bulk import ROOT, SAMPLE, stored_contents, write_json_lines
from tests.conftest import make_app
from tests.servers import Dynalite

TABLE = "books-process"


@pytest.fixture
def server() -> Iterator[Dynalite]:
    server = Dynalite().start()
    yield server
    server.stop()


def import_command(*args: str | Path) -> list[str]:
    app = str(ROOT / "wsgi.py")
    return [
        sys.executable,
        "-m",
        "flask",
        "--app",
        app,
        "books",
        "import",
        *map(str, args),
    ]


def environment(server: Dynalite) -> dict[str, str]:
    return {
        **os.environ,
        "DYNAMODB_ENDPOINT": server.endpoint,
        "BOOKS_TABLE": TABLE,
        "LOG_LEVEL": "INFO",
    }


def test_ctrl_c_then_resume_imports_every_row(server: Dynalite, tmp_path: Path) -> None:
    make_app(server.endpoint, table=TABLE)
    books = [
        {"bookId": n, "name": f"Book {n}", "author": f"Author {n % 97}"}
        for n in range(1, 2501)
    ]
    source = write_json_lines(tmp_path / "books.jsonl", books)
    command = import_command(source, "--workers", "1", "--log-every", "0.1")
    env = environment(server)

    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "rows done" in line:
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert "Interrupted: every row up to line" in stdout
    stored_after_interrupt = len(
        stored_contents(
            create_app({"BOOKS_TABLE": TABLE, "DYNAMODB_ENDPOINT": server.endpoint})
        )
    )
    assert 0 < stored_after_interrupt < len(books)

    resumed = subprocess.run(
        [*command, "--resume"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Already done by the interrupted import" in resumed.stdout
    app = create_app({"BOOKS_TABLE": TABLE, "DYNAMODB_ENDPOINT": server.endpoint})
    assert stored_contents(app) == {book["bookId"]: book for book in books}


def test_terminal_shows_progress_bar(server: Dynalite, tmp_path: Path) -> None:
    make_app(server.endpoint, table=TABLE)
    controller, terminal = pty.openpty()
    command = import_command(SAMPLE, "--mapping", "goodbooks-10k")

    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=environment(server),
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    )
    os.close(terminal)
    terminal_output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # Linux reports EIO once the process has closed it.
            break
        if not chunk:
            break
        terminal_output += chunk
    os.close(controller)
    process.wait(timeout=60)

    assert process.returncode == 0
    screen = terminal_output.decode("utf-8")
    assert "Importing books.csv  [####" in screen
    assert "100%" in screen
    assert "rows/s" in screen
