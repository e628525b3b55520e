"""Run a Lambda package's handler the way the Lambda Python runtime does.

    python3 -I -S -B lambda_runtime.py TASK_DIR SDK_DIR

Run it isolated and without ``site`` (``-I -S``), so that only the standard
library, the unpacked package (TASK_DIR, like /var/task) and the AWS SDK
(SDK_DIR, like the runtime's own boto3) are importable. The handler named by
``_HANDLER`` is imported from TASK_DIR with TASK_DIR as the working directory.

Each line of standard input is one event as JSON, and each line written to
standard output is the invocation's result: ``{"result": ..., "requestId":
..., "durationMs": ...}``, or ``{"errorType": ..., "errorMessage": ...,
"stackTrace": [...]}`` when the handler raised. Everything the handler prints
or logs goes to standard error, as it would go to CloudWatch Logs.

This file uses only the standard library, and installs the network guard of
tests/netguard.py before it imports the handler.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any, TextIO

NETGUARD = Path(__file__).resolve().parent.parent / "netguard.py"
TIMEOUT_MS = 30_000


class LambdaContext:
    """The context object of one invocation, with the attributes Lambda sets."""

    def __init__(self, request_id: str) -> None:
        name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        region = os.environ["AWS_REGION"]
        self.aws_request_id = request_id
        self.function_name = name
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:123456789012:function:{name}"
        )
        self.memory_limit_in_mb = os.environ.get(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"
        )
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "rehearsal"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + TIMEOUT_MS / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class RequestIdFilter(logging.Filter):
    """Add the current request id to log records, as Lambda's handler does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def install_network_guard() -> None:
    spec = importlib.util.spec_from_file_location("netguard", NETGUARD)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the network guard from {NETGUARD}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.install()


def configure_logging() -> RequestIdFilter:
    """Log to standard error through the root logger, like Lambda's runtime."""
    request_ids = RequestIdFilter()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(request_ids)
    handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(aws_request_id)s\t%(name)s\t%(message)s")
    )
    logging.getLogger().addHandler(handler)
    return request_ids


def invoke(handler: Any, event: Any, request_ids: RequestIdFilter) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    request_ids.request_id = request_id
    started = time.perf_counter()
    try:
        result = handler(event, LambdaContext(request_id))
    except Exception as error:
        traceback.print_exc()
        return {
            "requestId": request_id,
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_exception(error),
        }
    duration_ms = (time.perf_counter() - started) * 1000
    return {"requestId": request_id, "result": result, "durationMs": duration_ms}


def main() -> None:
    task_dir, sdk_dir = sys.argv[1], sys.argv[2]
    # Results go to the original standard output; the handler's prints go to
    # standard error with its log lines.
    results: TextIO = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    install_network_guard()
    sys.path[:0] = [task_dir, sdk_dir]
    os.chdir(task_dir)
    request_ids = configure_logging()

    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    for line in sys.stdin:
        outcome = invoke(handler, json.loads(line), request_ids)
        results.write(json.dumps(outcome) + "\n")
        results.flush()


if __name__ == "__main__":
    main()
