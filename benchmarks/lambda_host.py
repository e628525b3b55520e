"""Run a Lambda handler for the Lambda benchmark, as the rehearsal runs it.

    python3 -I -S -B -u lambda_host.py TASK_DIR SDK_DIR

This is tests/rehearsal/lambda_runtime.py (the same context, logging and
network guard, one event per line in, one result per line out) with two
additions for measuring:

- ``BENCH_DYNAMODB_STUB=1`` returns a canned response to every DynamoDB call
  made in the process, at botocore's HTTP layer: the request is still built and
  signed and the response still parsed, but nothing is sent. What remains is
  the cost of the handler, its framework and the SDK.
- ``BENCH_PROFILE=FILE`` runs every invocation after the first
  ``BENCH_PROFILE_SKIP`` (default 100) under cProfile and writes the
  statistics to FILE when standard input ends.

It uses only the standard library, plus botocore when the stub is on.
"""

from __future__ import annotations

import cProfile
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

RUNTIME = Path(__file__).resolve().parent.parent / "tests" / "rehearsal"
RUNTIME_SCRIPT = RUNTIME / "lambda_runtime.py"

# A stored book as DynamoDB returns it, for the stubbed reads.
STUB_ITEM = {
    "bookId": {"N": "1"},
    "name": {"S": "The Hunger Games"},
    "author": {"S": "Suzanne Collins"},
    "genre": {"S": "Young adult"},
    "createdAt": {"S": "2026-12-04T15:57:24.274Z"},
    "updatedAt": {"S": "2026-12-04T15:57:24.274Z"},
    "version": {"S": "cd4b4c463f7d4974b6412a77095a85d7"},
}
STUB_RESPONSES: dict[str, dict[str, Any]] = {
    "GetItem": {"Item": STUB_ITEM},
    # A write that created the book: no old attributes.
    "UpdateItem": {},
    "PutItem": {},
    "DeleteItem": {"Attributes": STUB_ITEM},
    "Query": {"Items": [STUB_ITEM] * 20, "Count": 20, "ScannedCount": 20},
    "Scan": {"Items": [STUB_ITEM] * 20, "Count": 20, "ScannedCount": 20},
}


def load_runtime() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lambda_runtime", RUNTIME_SCRIPT)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {RUNTIME_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Body:
    """The raw body of a canned response, as botocore reads it."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> list[bytes]:
        return [self.data]


def install_dynamodb_stub() -> None:
    """Return canned DynamoDB responses without sending the requests."""
    from botocore.awsrequest import AWSResponse
    from botocore.endpoint import Endpoint

    bodies = {
        operation: json.dumps(body).encode()
        for operation, body in STUB_RESPONSES.items()
    }

    def send(self: Any, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        if isinstance(target, bytes):
            target = target.decode()
        operation = target.rsplit(".", 1)[-1]
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": "stub",
        }
        return AWSResponse(request.url, 200, headers, _Body(bodies[operation]))

    Endpoint._send = send


def main() -> None:
    runtime = load_runtime()
    task_dir, sdk_dir = sys.argv[1], sys.argv[2]
    results: TextIO = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    runtime.install_network_guard()
    sys.path[:0] = [task_dir, sdk_dir]
    os.chdir(task_dir)
    if os.environ.get("BENCH_DYNAMODB_STUB") == "1":
        install_dynamodb_stub()
    request_ids = runtime.configure_logging()

    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)

    profile_path = os.environ.get("BENCH_PROFILE")
    skip = int(os.environ.get("BENCH_PROFILE_SKIP", "100"))
    profiler = cProfile.Profile() if profile_path else None
    for count, line in enumerate(sys.stdin):
        event = json.loads(line)
        if profiler is not None and count >= skip:
            profiler.enable()
            outcome = runtime.invoke(handler, event, request_ids)
            profiler.disable()
        else:
            outcome = runtime.invoke(handler, event, request_ids)
        results.write(json.dumps(outcome) + "\n")
        results.flush()
    if profiler is not None and profile_path:
        profiler.dump_stats(profile_path)


if __name__ == "__main__":
    main()
