"""Local servers that tests start and stop themselves, on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DYNALITE_CLI = ROOT / "node_modules" / "dynalite" / "cli.js"
RUN_LOCAL = ROOT / "scripts" / "run-local"
# Environment for the HTTP clients that tests run: they bypass any proxy set
# in the environment, because every server of the tests is on 127.0.0.1.
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


class Dynalite:
    """A dynalite process, in memory or on a LevelDB folder."""

    def __init__(self, data_dir: Path | None = None, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Dynalite:
        if not DYNALITE_CLI.exists():
            raise RuntimeError(f"{DYNALITE_CLI} is missing: run `npm ci` first.")
        command = ["node", str(DYNALITE_CLI), "--host", "127.0.0.1"]
        command += ["--port", str(self.port)]
        command += ["--createTableMs", "0", "--deleteTableMs", "0"]
        command += ["--updateTableMs", "0"]
        if self.data_dir is not None:
            command += ["--path", str(self.data_dir)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Stop the server with SIGKILL, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


class ApiServer:
    """The API served over HTTP on 127.0.0.1 by a process group of its own.

    :meth:`waitress` serves it as in production, with waitress;
    :meth:`run_local` as ``make run`` does, with ``flask run``.
    Its output goes to ``log_path``.
    """

    def __init__(
        self,
        command: list[str],
        port: int,
        environment: Mapping[str, str],
        log_path: Path,
    ) -> None:
        self.command = command
        self.port = port
        self.environment = dict(environment)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def waitress(cls, endpoint: str, table: str, log_path: Path) -> ApiServer:
        """Serve ``table`` at the DynamoDB ``endpoint``; the table must exist."""
        port = free_port()
        command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}"]
        environment = {"DYNAMODB_ENDPOINT": endpoint, "BOOKS_TABLE": table}
        return cls([*command, "wsgi:app"], port, environment, log_path)

    @classmethod
    def run_local(cls, endpoint: str, table: str, log_path: Path) -> ApiServer:
        """Serve as ``make run`` does, on an existing DynamoDB ``endpoint``."""
        port = free_port()
        environment = {
            "DYNAMODB_ENDPOINT": endpoint,
            "BOOKS_TABLE": table,
            "PORT": str(port),
        }
        return cls([str(RUN_LOCAL)], port, environment, log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request_json(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> Any:
        """Send a request straight to the server and return its JSON body."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            return json.load(response)

    def start(self, timeout: float = 30.0) -> ApiServer:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env={**os.environ, **self.environment},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                output = self.log_path.read_text(errors="replace")
                self.process = None
                raise RuntimeError(f"the API server exited at start:\n{output}")
            try:
                wait_for_port(self.port, timeout=0.2)
                return self
            except TimeoutError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise

    def stop(self) -> None:
        """Stop the server and every process it started."""
        if self.process is None:
            return
        group = self.process.pid
        self._signal(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._signal(group, signal.SIGKILL)
            self.process.wait()
        self.process = None

    @staticmethod
    def _signal(group: int, number: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, number)
