"""A recording proxy in front of a local DynamoDB endpoint.

The handler under rehearsal reaches DynamoDB through this proxy, which
forwards each request unchanged and records its operation (from the
``X-Amz-Target`` header) and table. The rehearsal then checks every recorded
call against the stage's IAM policy, which the local endpoints do not enforce.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers that describe one hop of the connection and are not forwarded.
HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding"})


@dataclass(frozen=True)
class DynamoDBCall:
    operation: str
    table: str


def tables_of(operation: str, body: bytes) -> list[str]:
    """Return the tables that one DynamoDB request names."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return [""]
    if "TableName" in request:
        return [str(request["TableName"])]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return sorted(request.get("RequestItems", {}))
    if operation in ("TransactGetItems", "TransactWriteItems"):
        return sorted(
            {
                str(detail.get("TableName", ""))
                for item in request.get("TransactItems", [])
                for detail in item.values()
            }
        )
    return [""]


class DynamoDBRecorder:
    """Forward requests on 127.0.0.1:``port`` to ``upstream_port`` and record
    each call; ``calls`` lists them in the order they arrived."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.calls: list[DynamoDBCall] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dynamodb-recorder", daemon=True
        )

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DynamoDBRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def take_calls(self) -> list[DynamoDBCall]:
        """Return the calls recorded so far and forget them."""
        with self._lock:
            calls, self.calls = self.calls, []
        return calls

    def _record(self, operation: str, body: bytes) -> None:
        with self._lock:
            self.calls.extend(
                DynamoDBCall(operation, table) for table in tables_of(operation, body)
            )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                recorder._record(target.rsplit(".", 1)[-1], body)
                upstream = http.client.HTTPConnection(
                    "127.0.0.1", recorder.upstream_port, timeout=30
                )
                try:
                    # The Host header stays as signed; DynamoDB-compatible
                    # local servers do not check it.
                    headers = dict(self.headers.items())
                    upstream.request("POST", self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    self.send_response(response.status, response.reason)
                    for name, value in response.getheaders():
                        if name.lower() not in HOP_HEADERS | {"content-length"}:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            def log_message(self, format: str, *args: object) -> None:
                """Keep the proxy quiet: the calls are recorded instead."""

        return Handler
