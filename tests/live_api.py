"""The API served over real HTTP by waitress, in a process on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from tests.servers import ROOT, free_port, wait_for_port

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


class LiveApi:
    """``wsgi:app`` under waitress on a free port, on one table of ``endpoint``.

    The table is created first. The server's log (one line per request, and
    the traceback of any unexpected error) goes to ``log_path``.
    """

    def __init__(self, endpoint: str, table: str, log_path: Path) -> None:
        self.endpoint = endpoint
        self.table = table
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """Return the server's environment: local endpoint, dummy credentials."""
        env = {
            **os.environ,
            **DUMMY_CREDENTIALS,
            "BOOKS_TABLE": self.table,
            "DYNAMODB_ENDPOINT": self.endpoint,
            # A slow response from dynalite on a busy machine is no API failure,
            # so these are longer than the defaults that would turn it into a 503.
            "DYNAMODB_CONNECT_TIMEOUT": "5",
            "DYNAMODB_READ_TIMEOUT": "10",
            "LOG_LEVEL": "INFO",
        }
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            env.pop(name, None)
        return env

    def start(self) -> LiveApi:
        env = self.environment()
        create_table = [sys.executable, "-m", "flask", "--app", "wsgi"]
        create_table += ["books", "create-table"]
        result = subprocess.run(
            create_table, cwd=ROOT, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"create-table failed: {result.stdout}{result.stderr}")

        command = [sys.executable, "-m", "waitress", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--threads", "4", "wsgi:app"]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
