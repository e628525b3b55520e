"""The Postman collection: in step with the OpenAPI document, and passing.

The collection in ``postman/`` is written by hand, one folder per documented
operation (named ``METHOD /path`` as in the document). These tests keep it in
step with the document, then run it with newman against the API served over
HTTP, as ``make newman`` does against ``make run``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bookapi import create_app
from tests.servers import NO_PROXY, ROOT, ServerProcess

COLLECTION = ROOT / "postman" / "bookapi.postman_collection.json"
NEWMAN = ROOT / "scripts" / "newman"
BASE_URL = "{{baseUrl}}"
EXPECTED_STATUS = re.compile(r"pm\.response\.to\.have\.status\((\d{3})\)")
READS_BODY = re.compile(r"pm\.response\.(json|text)\(\)")
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
# Responses no request can provoke from a healthy local server: 503 needs
# DynamoDB to fail (tests/test_unavailable.py covers it), and "default" stands
# for any status not listed.
NOT_PROVOKED = {"503", "default"}


@dataclass(frozen=True)
class Request:
    """One request of the collection and the status its tests expect."""

    folder: str
    name: str
    method: str
    url: str
    content_type: str | None
    tests: str

    @property
    def path(self) -> str:
        """The URL's path after the base URL, without the query."""
        return self.url.removeprefix(BASE_URL).split("?", 1)[0]

    @property
    def statuses(self) -> list[str]:
        return EXPECTED_STATUS.findall(self.tests)


def load_collection() -> dict[str, Any]:
    collection: dict[str, Any] = json.loads(COLLECTION.read_text(encoding="utf-8"))
    return collection


def collection_requests() -> list[Request]:
    requests = []
    for folder in load_collection()["item"]:
        for item in folder["item"]:
            request = item["request"]
            headers = {h["key"].lower(): h["value"] for h in request["header"]}
            tests = "\n".join(
                "\n".join(event["script"]["exec"])
                for event in item.get("event", [])
                if event["listen"] == "test"
            )
            requests.append(
                Request(
                    folder=folder["name"],
                    name=item["name"],
                    method=request["method"],
                    url=request["url"],
                    content_type=headers.get("content-type"),
                    tests=tests,
                )
            )
    return requests


def documented_operations() -> dict[str, dict[str, Any]]:
    """The document's operations by ``METHOD /path``."""
    client = create_app({"BOOKS_TABLE": "books-postman"}).test_client()
    document = client.get("/openapi.json").get_json()
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def path_pattern(template: str) -> re.Pattern[str]:
    """Match a path of the template, with a variable or a literal for each
    parameter."""
    parts = re.split(r"\{\w+\}", template)
    return re.compile("[^/?]+".join(re.escape(part) for part in parts))


def test_collection_has_one_folder_per_operation() -> None:
    folders = [folder["name"] for folder in load_collection()["item"]]

    assert sorted(folders) == sorted(documented_operations())


def test_every_request_goes_to_the_base_url() -> None:
    outside = [r.url for r in collection_requests() if not r.url.startswith(BASE_URL)]

    assert outside == []


def test_every_request_is_its_folders_operation() -> None:
    mismatched = []
    for request in collection_requests():
        method, template = request.folder.split(" ", 1)
        if request.method != method or not path_pattern(template).fullmatch(
            request.path
        ):
            mismatched.append((request.folder, request.method, request.url))

    assert mismatched == []


def test_every_request_expects_one_documented_status() -> None:
    operations = documented_operations()
    wrong = [
        (request.folder, request.name, request.statuses)
        for request in collection_requests()
        if len(request.statuses) != 1
        or request.statuses[0] not in operations[request.folder]["responses"]
    ]

    assert wrong == []


def test_collection_provokes_every_documented_status() -> None:
    covered: dict[str, set[str]] = {}
    for request in collection_requests():
        covered.setdefault(request.folder, set()).update(request.statuses)

    missing = {
        name: sorted(set(operation["responses"]) - NOT_PROVOKED - covered[name])
        for name, operation in documented_operations().items()
    }

    assert missing == {name: [] for name in missing}


def test_every_request_asserts_on_its_body() -> None:
    unchecked = [
        (request.folder, request.name)
        for request in collection_requests()
        if not READS_BODY.search(request.tests)
    ]

    assert unchecked == []


def test_request_bodies_have_the_documented_media_type() -> None:
    operations = documented_operations()
    wrong = []
    for request in collection_requests():
        if request.content_type is None or request.statuses == ["415"]:
            continue
        documented = operations[request.folder]["requestBody"]["content"]
        if request.content_type not in documented:
            wrong.append((request.folder, request.name, request.content_type))

    assert wrong == []


@pytest.fixture(scope="module")
def newman_run(http_api: ServerProcess) -> Iterator[subprocess.CompletedProcess[str]]:
    """One newman run of the whole collection against a new table."""
    yield subprocess.run(
        [str(NEWMAN), http_api.url],
        cwd=ROOT,
        env={**os.environ, **NO_PROXY},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_newman_runs_the_collection_without_failures(
    newman_run: subprocess.CompletedProcess[str],
) -> None:
    assert newman_run.returncode == 0, newman_run.stdout + newman_run.stderr


def test_collection_deletes_every_book_it_creates(
    newman_run: subprocess.CompletedProcess[str], http_api: ServerProcess
) -> None:
    assert http_api.request_json("GET", "/book") == {"items": []}


def test_collection_sends_api_key_variable_as_header() -> None:
    auth = load_collection()["auth"]
    settings = {entry["key"]: entry["value"] for entry in auth["apikey"]}

    assert (auth["type"], settings) == (
        "apikey",
        {"key": "x-api-key", "value": "{{apiKey}}", "in": "header"},
    )


def test_collection_holds_no_api_key_value() -> None:
    variables = {v["key"]: v["value"] for v in load_collection()["variable"]}

    assert variables["apiKey"] == ""
