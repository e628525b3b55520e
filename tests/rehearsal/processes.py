"""The processes that a rehearsal starts: the AWS stand-in and the Lambda-like
process that runs a package's handler. Both stop when their ``stop`` runs."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from tests.rehearsal.package import SDK_DISTRIBUTIONS, SDK_TOP_LEVEL
from tests.rehearsal.scenario import Invocation

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_SCRIPT = Path(__file__).resolve().parent / "lambda_runtime.py"


class ProcessFailed(RuntimeError):
    """A process that the rehearsal started failed or did not respond."""


def read_line(stream: IO[str], timeout: float, what: str) -> str:
    """Read one line from a pipe, or raise ProcessFailed after ``timeout`` s."""
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise ProcessFailed(f"{what} did not respond within {timeout:.0f} s")
    return stream.readline()


def stop_process(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class StandInProcess:
    """The local AWS stand-in (tests/rehearsal/standin.py) on 127.0.0.1."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port = 0
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StandInProcess:
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.rehearsal.standin", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self._process.stdout is not None
        line = read_line(self._process.stdout, 60, "the AWS stand-in")
        if not line.startswith("listening on 127.0.0.1:"):
            self.stop()
            raise ProcessFailed(
                f"the AWS stand-in failed to start:\n{log_tail(self.log_path)}"
            )
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


class LambdaProcess:
    """A fresh ``python -I -S`` process that runs a package's handler.

    Its output is unbuffered (``-u``), so prints and log lines keep their
    order in the log, as in CloudWatch Logs.
    """

    def __init__(
        self,
        python: Path,
        task_dir: Path,
        sdk_dir: Path,
        environment: dict[str, str],
        log_path: Path,
        timeout: float = 60,
    ) -> None:
        self.command = [
            str(python),
            "-I",
            "-S",
            "-B",
            "-u",
            str(RUNTIME_SCRIPT),
            str(task_dir),
            str(sdk_dir),
        ]
        self.task_dir = task_dir
        self.environment = environment
        self.log_path = log_path
        self.timeout = timeout
        self.invocations: list[Invocation] = []
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    def start(self) -> LambdaProcess:
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen(
            self.command,
            cwd=self.task_dir,
            env=self.environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        return self

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Send one event to the handler and wait for its result."""
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise ProcessFailed("the Lambda process is not running")
        started = time.perf_counter()
        try:
            process.stdin.write(json.dumps(event) + "\n")
            process.stdin.flush()
        except BrokenPipeError:
            raise self._exited() from None
        line = read_line(process.stdout, self.timeout, "the Lambda process")
        if not line:
            raise self._exited()
        outcome = json.loads(line)
        error = None
        if "errorType" in outcome:
            error = f"{outcome['errorType']}: {outcome['errorMessage']}"
        invocation = Invocation(
            request_id=outcome["requestId"],
            result=outcome.get("result"),
            error=error,
            duration_ms=outcome.get(
                "durationMs", (time.perf_counter() - started) * 1000
            ),
        )
        self.invocations.append(invocation)
        return invocation

    def _exited(self) -> ProcessFailed:
        assert self._process is not None
        self._process.wait(timeout=10)
        if self._log is not None:
            self._log.flush()
        return ProcessFailed(
            f"the Lambda process exited with code {self._process.returncode}; "
            f"the end of its log:\n{log_tail(self.log_path)}"
        )

    def stop(self) -> str:
        """Stop the process and return everything it logged."""
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stop_process(self._process)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.log_path.read_text(errors="replace")


def lambda_environment(
    configuration: dict[str, Any],
    task_dir: Path,
    sdk_dir: Path,
    dynamodb_endpoint: str,
    netguard_report: Path,
) -> dict[str, str]:
    """Build the environment that Lambda gives the function's process.

    The DynamoDB endpoint reaches the handler only here, as
    AWS_ENDPOINT_URL_DYNAMODB, never through the package.
    """
    name = configuration["FunctionName"]
    region = configuration["FunctionArn"].split(":")[3]
    variables = configuration.get("Environment", {}).get("Variables", {})
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(task_dir),
        "LAMBDA_RUNTIME_DIR": str(sdk_dir),
        "_HANDLER": configuration["Handler"],
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{configuration['Runtime']}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": configuration.get("Version", "$LATEST"),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration.get("MemorySize", 512)),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
        **{str(k): str(v) for k, v in variables.items()},
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "NETGUARD_REPORT": str(netguard_report),
        # No AWS configuration of the machine's user reaches the handler.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def link_aws_sdk(site_packages: Path, target: Path) -> Path:
    """Link the AWS SDK of a venv into ``target``, a folder of its own, as the
    Lambda runtime provides the SDK next to the package."""
    target.mkdir()
    dist_info_prefixes = tuple(
        name.replace("-", "_") + "-" for name in SDK_DISTRIBUTIONS
    )
    for entry in site_packages.iterdir():
        name = entry.name
        is_sdk_metadata = name.endswith(".dist-info") and name.lower().startswith(
            dist_info_prefixes
        )
        if name in SDK_TOP_LEVEL or is_sdk_metadata:
            (target / name).symlink_to(entry)
    return target
