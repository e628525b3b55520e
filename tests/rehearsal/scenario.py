"""The API calls that the rehearsal sends to a deployed package's handler.

``ApiScenario.run`` sends every API operation and its main errors as API
Gateway REST events, in an order that leaves the table as it found it, and
collects each unmet expectation as a sentence in ``problems``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.rehearsal.events import ApiResponse, RestApiGateway

PROBLEM_JSON = "application/problem+json"
# The header that the rehearsal's visible change adds before `zappa update`.
MARK_HEADER = "X-Rehearsal-Build"


@dataclass(frozen=True)
class Invocation:
    """The outcome of one handler invocation in the Lambda-like process."""

    request_id: str
    result: Any
    error: str | None
    duration_ms: float


Invoke = Callable[[dict[str, Any]], Invocation]


@dataclass
class ApiScenario:
    gateway: RestApiGateway
    invoke: Invoke
    book_id: int
    # The value of MARK_HEADER expected on every response, or None for none.
    mark: str | None
    problems: list[str] = field(default_factory=list)
    exchanges: int = 0

    def request(
        self,
        name: str,
        method: str,
        path: str,
        expect: int,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> ApiResponse | None:
        """Send one request and check its status and the common headers."""
        self.exchanges += 1
        invocation = self.invoke(self.gateway.event(method, path, headers, body))
        if invocation.error is not None:
            self.problems.append(f"{name}: the handler raised {invocation.error}")
            return None
        response = ApiResponse.from_result(invocation.result)
        if response.status != expect:
            excerpt = response.body[:300].decode("utf-8", "replace")
            self.problems.append(
                f"{name}: status {response.status}, expected {expect}; body {excerpt}"
            )
        self.check(
            name,
            response.header("X-Request-ID") == invocation.request_id,
            f"X-Request-ID is {response.header('X-Request-ID')!r}, expected the "
            f"Lambda request id {invocation.request_id}",
        )
        self.check(
            name,
            response.header("X-Content-Type-Options") == "nosniff",
            "X-Content-Type-Options: nosniff is missing",
        )
        self.check(
            name,
            response.header(MARK_HEADER) == self.mark,
            f"{MARK_HEADER} is {response.header(MARK_HEADER)!r}, expected "
            f"{self.mark!r}",
        )
        return response

    def post_json(
        self,
        name: str,
        document: dict[str, Any],
        expect: int,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse | None:
        return self.request(
            name,
            "POST",
            "/book",
            expect,
            {"Content-Type": "application/json", **(headers or {})},
            json.dumps(document).encode(),
        )

    def check(self, name: str, condition: bool, message: str) -> None:
        if not condition:
            self.problems.append(f"{name}: {message}")

    def check_problem(
        self, name: str, response: ApiResponse | None, status: int, instance: str
    ) -> dict[str, Any]:
        """Check that an error response is an RFC 9457 problem document."""
        if response is None or response.status != status:
            return {}
        if response.media_type != PROBLEM_JSON:
            self.problems.append(f"{name}: Content-Type is {response.media_type}")
            return {}
        problem: dict[str, Any] = response.json()
        self.check(name, problem.get("status") == status, f"problem {problem}")
        self.check(
            name,
            problem.get("instance") == instance,
            f"instance is {problem.get('instance')!r}, expected {instance!r}",
        )
        return problem

    def run(self) -> None:
        """Send every API operation and its main errors, in table order."""
        book_path = f"/book/{self.book_id}"
        book = {
            "bookId": self.book_id,
            "name": "The Left Hand of Darkness",
            "author": "Ursula K. Le Guin",
            "genre": "Science fiction",
        }

        created = self.post_json("POST /book (create)", book, 201)
        if created is None or created.status != 201:
            return
        body = created.json()
        etag = f'"{body["version"]}"'
        self.check(
            "POST /book (create)",
            {k: body.get(k) for k in book} == book,
            f"body {body}",
        )
        self.check(
            "POST /book (create)",
            created.header("Location") == f"/{self.gateway.stage}{book_path}",
            f"Location is {created.header('Location')!r}, expected the stage "
            f"prefix: /{self.gateway.stage}{book_path}",
        )
        self.check("POST /book (create)", created.header("ETag") == etag, "ETag")

        read = self.request("GET /book/{id}", "GET", book_path, 200)
        if read is not None and read.status == 200:
            self.check("GET /book/{id}", read.json() == body, f"body {read.body!r}")
        not_modified = self.request(
            "GET /book/{id} with If-None-Match",
            "GET",
            book_path,
            304,
            {"If-None-Match": etag},
        )
        if not_modified is not None:
            self.check("GET /book/{id} 304", not_modified.body == b"", "has a body")

        replaced = self.post_json(
            "POST /book (replace)", {**book, "genre": "Fantasy"}, 200
        )
        replaced_body: dict[str, Any] = {}
        if replaced is not None and replaced.status == 200:
            replaced_body = replaced.json()
            self.check(
                "POST /book (replace)",
                replaced_body["createdAt"] == body["createdAt"]
                and replaced_body["version"] != body["version"],
                f"body {replaced_body}",
            )

        self.errors_of_post()
        self.errors_of_read()

        stale = self.request(
            "DELETE /book/{id} with a stale If-Match",
            "DELETE",
            book_path,
            412,
            {"If-Match": etag},
        )
        self.check_problem("DELETE /book/{id} stale", stale, 412, book_path)
        deleted = self.request("DELETE /book/{id}", "DELETE", book_path, 200)
        if deleted is not None and deleted.status == 200 and replaced_body:
            self.check(
                "DELETE /book/{id}",
                deleted.json() == replaced_body,
                f"body {deleted.body!r}",
            )
        gone = self.request("DELETE /book/{id} again", "DELETE", book_path, 404)
        self.check_problem("DELETE /book/{id} again", gone, 404, book_path)

    def errors_of_post(self) -> None:
        book = {"bookId": self.book_id, "name": "Dune"}
        stale = self.post_json(
            "POST /book with a stale If-Match", book, 412, {"If-Match": '"stale"'}
        )
        self.check_problem("POST /book stale", stale, 412, "/book")
        exists = self.post_json(
            "POST /book with If-None-Match: *", book, 412, {"If-None-Match": "*"}
        )
        self.check_problem("POST /book If-None-Match", exists, 412, "/book")

        invalid = self.post_json(
            "POST /book with invalid fields",
            {"bookId": "7", "name": "Emma", "title": "Emma"},
            400,
        )
        problem = self.check_problem("POST /book invalid", invalid, 400, "/book")
        pointers = {error.get("pointer") for error in problem.get("errors", [])}
        self.check(
            "POST /book invalid",
            not problem or pointers == {"#/bookId", "#/title"},
            f"errors name {sorted(map(str, pointers))}, expected #/bookId, #/title",
        )

        text = self.request(
            "POST /book as text/plain",
            "POST",
            "/book",
            415,
            {"Content-Type": "text/plain"},
            b"Dune",
        )
        self.check_problem("POST /book text/plain", text, 415, "/book")
        large = self.request(
            "POST /book over 64 KiB",
            "POST",
            "/book",
            413,
            {"Content-Type": "application/json"},
            json.dumps({"bookId": self.book_id, "name": "x" * 70_000}).encode(),
        )
        self.check_problem("POST /book over 64 KiB", large, 413, "/book")

    def errors_of_read(self) -> None:
        malformed = self.request("GET /book/abc", "GET", "/book/abc", 400)
        problem = self.check_problem("GET /book/abc", malformed, 400, "/book/abc")
        self.check(
            "GET /book/abc",
            not problem or problem.get("errors", [{}])[0].get("parameter") == "bookId",
            f"errors {problem.get('errors')}",
        )
        missing_path = f"/book/{self.book_id + 1}"
        missing = self.request("GET /book/{missing id}", "GET", missing_path, 404)
        self.check_problem("GET /book/{missing id}", missing, 404, missing_path)
        wrong_method = self.request("PUT /book", "PUT", "/book", 405)
        self.check_problem("PUT /book", wrong_method, 405, "/book")
        if wrong_method is not None:
            self.check(
                "PUT /book",
                "POST" in (wrong_method.header("Allow") or ""),
                f"Allow is {wrong_method.header('Allow')!r}",
            )
        unknown = self.request("GET /nothing-here", "GET", "/nothing-here", 404)
        self.check_problem("GET /nothing-here", unknown, 404, "/nothing-here")

    def run_unavailable(self) -> None:
        """Read a book while DynamoDB cannot be reached: 503 with Retry-After."""
        path = f"/book/{self.book_id}"
        response = self.request("GET /book/{id} without DynamoDB", "GET", path, 503)
        self.check_problem("GET /book/{id} without DynamoDB", response, 503, path)
        if response is not None:
            self.check(
                "GET /book/{id} without DynamoDB",
                response.header("Retry-After") == "1",
                f"Retry-After is {response.header('Retry-After')!r}",
            )
