"""The interactive docs page in a real browser: headless Debian Chromium.

tests/browser/docs-page.mjs drives the browser with playwright-core: it opens
/docs on the API served over HTTP, lists the operations it shows, and tries
GET /book/{book_id} out on a stored book. Its screenshots are saved in
test-artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from bookapi import create_app
from tests.servers import NO_PROXY, ROOT, ServerProcess

SCRIPT = ROOT / "tests" / "browser" / "docs-page.mjs"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ["docs-page.png", "docs-try-it-out.png"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
BOOK = {"name": "Emma", "author": "Jane Austen", "genre": "Classics"}
BOOK_ID = 4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def seen(http_api: ServerProcess) -> dict[str, Any]:
    """What the browser saw on the docs page, as the script reports it."""
    if not shutil.which(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: run `make chromium` first.")
    http_api.request_json("PUT", f"/book/{BOOK_ID}", BOOK)
    ARTIFACTS.mkdir(exist_ok=True)
    for name in SCREENSHOTS:
        (ARTIFACTS / name).unlink(missing_ok=True)
    result = subprocess.run(
        ["node", str(SCRIPT), http_api.url, str(BOOK_ID), str(ARTIFACTS)],
        cwd=ROOT,
        env={**os.environ, **NO_PROXY, "CHROMIUM": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_docs_page_logs_no_console_errors(seen: dict[str, Any]) -> None:
    assert seen["consoleErrors"] == []


def test_docs_page_raises_no_script_errors(seen: dict[str, Any]) -> None:
    assert seen["pageErrors"] == []


def test_docs_page_loads_nothing_from_other_hosts(seen: dict[str, Any]) -> None:
    assert seen["outsideRequests"] == []


def test_docs_page_loads_every_asset(seen: dict[str, Any]) -> None:
    assert seen["failedRequests"] == []


def test_docs_page_lists_every_operation(seen: dict[str, Any]) -> None:
    document = create_app({"BOOKS_TABLE": "books-docs"}).test_client()
    paths = document.get("/openapi.json").get_json()["paths"]
    documented = {
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in item
        if method != "parameters"
    }

    assert sorted(seen["operations"]) == sorted(documented)


def test_try_it_out_gets_the_book_from_the_server(
    seen: dict[str, Any], http_api: ServerProcess
) -> None:
    tried = seen["tryItOut"]

    assert (tried["url"], tried["status"]) == (f"{http_api.url}/book/{BOOK_ID}", 200)


def test_try_it_out_displays_the_book(seen: dict[str, Any]) -> None:
    tried = seen["tryItOut"]
    displayed = json.loads(tried["displayedBody"])

    assert tried["displayedStatus"] == "200"
    assert {key: displayed.get(key) for key in ("bookId", *BOOK)} == {
        "bookId": BOOK_ID,
        **BOOK,
    }


@pytest.mark.parametrize("name", SCREENSHOTS)
def test_docs_page_screenshot_is_saved(seen: dict[str, Any], name: str) -> None:
    screenshot = (ARTIFACTS / name).read_bytes()

    assert screenshot.startswith(PNG_SIGNATURE)
