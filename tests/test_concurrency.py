"""Concurrent writers with If-Match: one winner per version, no lost update.

These run on dynalite only: it is a real server that applies each conditional
write atomically. moto's in-process mock does not promise atomic condition
checks across threads.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from tests.conftest import make_app
from tests.servers import Dynalite

WRITERS = 8
INCREMENTS_PER_WRITER = 5
MAX_ATTEMPTS = 500


def increment(app: Flask, won_versions: list[str], lock: threading.Lock) -> int:
    """Add 1 to the counter in book 1's name; return the 412s met on the way."""
    client = app.test_client()
    for conflicts in range(MAX_ATTEMPTS):
        current = client.get("/book/1")
        assert current.status_code == 200
        count = int(current.get_json()["name"])
        etag = current.headers["ETag"]
        response = client.patch(
            "/book/1", json={"name": str(count + 1)}, headers={"If-Match": etag}
        )
        if response.status_code == 200:
            with lock:
                won_versions.append(etag)
            return conflicts
        assert response.status_code == 412, response.get_json()
    raise AssertionError(f"no write won in {MAX_ATTEMPTS} attempts")


def test_if_match_writers_lose_no_update(dynalite_server: Dynalite) -> None:
    app = make_app(dynalite_server.endpoint)
    assert app.test_client().put("/book/1", json={"name": "0"}).status_code == 201
    won_versions: list[str] = []
    lock = threading.Lock()
    total = WRITERS * INCREMENTS_PER_WRITER

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        futures = [
            pool.submit(increment, app, won_versions, lock) for _ in range(total)
        ]
        conflicts = sum(future.result() for future in futures)

    print(f"{total} increments won, {conflicts} lost a race and retried")
    final = app.test_client().get("/book/1").get_json()
    assert final["name"] == str(total)
    assert len(won_versions) == total
    assert Counter(won_versions).most_common(1)[0][1] == 1


def test_create_only_has_one_winner(dynalite_server: Dynalite) -> None:
    app = make_app(dynalite_server.endpoint)

    def create(writer: int) -> int:
        response = app.test_client().put(
            "/book/9", json={"name": f"writer {writer}"}, headers={"If-None-Match": "*"}
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        statuses = list(pool.map(create, range(WRITERS * 2)))

    assert statuses.count(201) == 1
    assert statuses.count(412) == WRITERS * 2 - 1
