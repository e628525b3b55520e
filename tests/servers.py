"""Local servers that tests start and stop themselves, on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import enum
import http.client
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DYNALITE_CLI = ROOT / "node_modules" / "dynalite" / "cli.js"
RUN_LOCAL = ROOT / "scripts" / "run-local"
# Environment for the HTTP clients that tests run: they bypass any proxy set
# in the environment, because every server of the tests is on 127.0.0.1.
NO_PROXY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


# Credentials that only local servers accept, for runs outside pytest.
DUMMY_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def use_dummy_aws_environment() -> None:
    """Point boto at dummy credentials, so nothing can reach a real account."""
    os.environ.update(DUMMY_AWS_ENVIRONMENT)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "DYNAMODB_ENDPOINT"):
        os.environ.pop(name, None)


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


def create_table(endpoint: str, table: str) -> None:
    """Create the books table ``table`` on a local endpoint, as ``make run`` does."""
    from bookapi import create_app

    app = create_app({"BOOKS_TABLE": table, "DYNAMODB_ENDPOINT": endpoint})
    model = app.extensions["bookapi"].model
    if not model.exists():
        model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")


class ApiServer:
    """The API under waitress in its own process, as production serves it.

    The process reads its configuration from the environment, like
    ``waitress-serve --call bookapi:create_app`` on a server would.
    """

    def __init__(
        self,
        endpoint: str,
        table: str,
        threads: int = 8,
        port: int | None = None,
        log_path: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.threads = threads
        self.log_path = log_path
        self.env = {
            **os.environ,
            **DUMMY_AWS_ENVIRONMENT,
            "DYNAMODB_ENDPOINT": endpoint,
            "BOOKS_TABLE": table,
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the API server is not running")
        return self.process.pid

    def start(self) -> ApiServer:
        command = [sys.executable, "-m", "waitress", "--host=127.0.0.1"]
        command += [f"--port={self.port}", f"--threads={self.threads}"]
        command += ["--call", "bookapi:create_app"]
        log = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        finally:
            if self.log_path:
                log.close()  # type: ignore[union-attr]
        try:
            wait_for_port(self.port, timeout=30)
        except TimeoutError:
            self.stop()
            raise
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

    def rss_bytes(self) -> int:
        """Return the resident set size of the server process, from /proc."""
        status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii")
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS line in /proc/{self.pid}/status")

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class ProxyMode(enum.Enum):
    """What :class:`FaultProxy` does with the traffic it carries."""

    # Forward bytes both ways unchanged.
    PASS = "pass"
    # Forward requests, but hold each chunk of a response for ``delay`` seconds.
    DELAY = "delay"
    # Accept connections and read requests, but never send a response.
    BLACKHOLE = "blackhole"
    # Reset every connection (TCP RST) as soon as a request arrives.
    RESET = "reset"
    # Forward requests to the server, then reset the connection instead of
    # sending its response: the write happens, the client never learns it.
    LOSE_RESPONSE = "lose-response"


class FaultProxy:
    """A TCP proxy on 127.0.0.1 in front of one local port, with faults.

    Each accepted connection gets its own upstream connection and one thread
    per direction. The mode is read again for every chunk, so switching it
    also affects connections that a client keeps open in its pool.
    """

    CHUNK = 65536
    POLL_SECONDS = 0.05

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode = ProxyMode.PASS
        self.delay = 0.0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(self.POLL_SECONDS)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.connections = 0
        self._responses_to_lose = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: ProxyMode, delay: float = 0.0, count: int = 0) -> None:
        """Switch to ``mode``; with ``count``, back to PASS after that many
        responses were lost (LOSE_RESPONSE only)."""
        self.delay = delay
        self._responses_to_lose = count
        self.mode = mode

    def start(self) -> FaultProxy:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        with self._lock:
            for sock in self._sockets:
                sock.close()
        self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
        return sock

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._track(client)
            try:
                upstream = self._track(
                    socket.create_connection(("127.0.0.1", self.target_port), 1)
                )
            except OSError:
                reset(client)
                continue
            self._spawn(self._pump_requests, client, upstream)
            self._spawn(self._pump_responses, upstream, client)

    def _receive(self, source: socket.socket) -> bytes | None:
        """Return the next chunk, b"" at end of stream, None on a poll timeout."""
        try:
            readable, _, _ = select.select([source], [], [], self.POLL_SECONDS)
            if not readable:
                return None
            return source.recv(self.CHUNK)
        except (OSError, ValueError):
            # The other direction closed this socket.
            return b""

    def _pump_requests(self, client: socket.socket, upstream: socket.socket) -> None:
        while not self._stopping.is_set():
            chunk = self._receive(client)
            if chunk is None:
                continue
            if not chunk:
                break
            if self.mode is ProxyMode.RESET:
                break
            if self.mode is ProxyMode.BLACKHOLE:
                continue
            try:
                upstream.sendall(chunk)
            except OSError:
                break
        reset(client)
        upstream.close()

    def _pump_responses(self, upstream: socket.socket, client: socket.socket) -> None:
        while not self._stopping.is_set():
            chunk = self._receive(upstream)
            if chunk is None:
                continue
            if not chunk:
                break
            if self.mode is ProxyMode.LOSE_RESPONSE:
                self._count_lost_response()
                break
            if self.mode is ProxyMode.DELAY:
                self._stopping.wait(self.delay)
            try:
                client.sendall(chunk)
            except OSError:
                break
        reset(client)
        upstream.close()

    def _count_lost_response(self) -> None:
        with self._lock:
            if self._responses_to_lose > 0:
                self._responses_to_lose -= 1
                if self._responses_to_lose == 0:
                    self.mode = ProxyMode.PASS


def reset(sock: socket.socket) -> None:
    """Close a socket with a TCP RST rather than an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpClient:
    """A keep-alive HTTP/1.1 client for one thread, reconnecting after errors."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"tests only talk to 127.0.0.1, not {base_url}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request; a connection error closes the connection and raises."""
        all_headers = dict(headers or {})
        data: bytes | None = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        try:
            self._connection.request(method, path, body=data, headers=all_headers)
            response = self._connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return HttpResponse(
            response.status, {k.lower(): v for k, v in response.getheaders()}, payload
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class ServerProcess:
    """The API served over HTTP on 127.0.0.1 by a process group of its own.

    Unlike :class:`ApiServer`, it can also serve through ``scripts/run-local``.

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
    def waitress(cls, endpoint: str, table: str, log_path: Path) -> ServerProcess:
        """Serve ``table`` at the DynamoDB ``endpoint``; the table must exist."""
        port = free_port()
        command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}"]
        environment = {"DYNAMODB_ENDPOINT": endpoint, "BOOKS_TABLE": table}
        return cls([*command, "wsgi:app"], port, environment, log_path)

    @classmethod
    def run_local(cls, endpoint: str, table: str, log_path: Path) -> ServerProcess:
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

    def start(self, timeout: float = 30.0) -> ServerProcess:
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
