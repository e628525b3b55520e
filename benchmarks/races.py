"""Concurrent writers on one book, through the API under waitress.

Two races. In the first, contenders all create one id with
``If-None-Match: *``: one must get 201, the others 412. In the second, writers
each increment a counter in one book's name with GET, then POST with
``If-Match``, retried on 412. The final count must equal the number of
increments, so that no update is lost.

Run with ``make races``; the tests run short versions.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import (
    ApiServer,
    Dynalite,
    HttpClient,
    create_table,
    use_dummy_aws_environment,
)

TABLE = "books-races"
COUNT_NAME = re.compile(r"Count ([0-9]+)")


def create_race(url: str, book_id: int, contenders: int) -> Counter[int]:
    """Let ``contenders`` threads create book ``book_id`` at the same moment."""
    barrier = threading.Barrier(contenders)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def contend(number: int) -> None:
        client = HttpClient(url)
        body = {"bookId": book_id, "name": f"Contender {number}"}
        barrier.wait(timeout=30)
        status = client.request(
            "POST", "/book", body, headers={"If-None-Match": "*"}
        ).status
        client.close()
        with lock:
            statuses[status] += 1

    threads = [
        threading.Thread(target=contend, args=(number,)) for number in range(contenders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@dataclass
class CounterRun:
    """The outcome of the counter race on one book."""

    expected: int
    final: int | None = None
    conflicts: int = 0
    unexpected: Counter[int] = field(default_factory=Counter)
    gave_up: int = 0


def counter_race(
    url: str, book_id: int, writers: int, increments: int, max_attempts: int = 1000
) -> CounterRun:
    """Let ``writers`` threads each add ``increments`` to a counter in a name.

    Each increment reads the book, then writes the next count with If-Match,
    and starts again from the read when the write gets 412. A writer gives up
    an increment after ``max_attempts`` tries, so the run always ends.
    """
    run = CounterRun(expected=writers * increments)
    lock = threading.Lock()
    setup = HttpClient(url)
    created = setup.request("POST", "/book", {"bookId": book_id, "name": "Count 0"})
    if created.status not in (200, 201):
        raise RuntimeError(f"creating book {book_id} failed with {created.status}")

    def increment(client: HttpClient) -> None:
        for _ in range(max_attempts):
            current = client.request("GET", f"/book/{book_id}")
            if current.status != 200:
                with lock:
                    run.unexpected[current.status] += 1
                continue
            match = COUNT_NAME.fullmatch(current.json()["name"])
            if match is None:
                raise RuntimeError(f"book {book_id} has no count: {current.body!r}")
            body = {"bookId": book_id, "name": f"Count {int(match[1]) + 1}"}
            headers = {"If-Match": current.headers["etag"]}
            status = client.request("POST", "/book", body, headers).status
            if status == 200:
                return
            with lock:
                if status == 412:
                    run.conflicts += 1
                else:
                    run.unexpected[status] += 1
        with lock:
            run.gave_up += 1

    def write() -> None:
        client = HttpClient(url)
        for _ in range(increments):
            increment(client)
        client.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    final = setup.request("GET", f"/book/{book_id}").json().get("name", "")
    match = COUNT_NAME.fullmatch(final)
    run.final = int(match[1]) if match else None
    setup.close()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=200, help="ids to race to create")
    parser.add_argument("--contenders", type=int, default=16, help="threads per id")
    parser.add_argument("--writers", type=int, default=16, help="counter writers")
    parser.add_argument(
        "--increments", type=int, default=25, help="increments per writer"
    )
    args = parser.parse_args()
    use_dummy_aws_environment()
    with tempfile.TemporaryDirectory(prefix="bookapi-races-") as folder:
        server = Dynalite().start()
        create_table(server.endpoint, TABLE)
        api = ApiServer(
            server.endpoint, TABLE, log_path=Path(folder) / "api.log"
        ).start()
        try:
            outcomes: Counter[str] = Counter()
            for book_id in range(1, args.ids + 1):
                statuses = create_race(api.url, book_id, args.contenders)
                exact = statuses == {201: 1, 412: args.contenders - 1}
                outcomes["one 201, rest 412" if exact else str(dict(statuses))] += 1
            print(f"create races ({args.ids} ids x {args.contenders} threads):")
            for outcome, count in outcomes.items():
                print(f"  {outcome}: {count} ids")
            run = counter_race(api.url, args.ids + 1, args.writers, args.increments)
            print(
                f"counter race ({args.writers} writers x {args.increments}): "
                f"expected {run.expected}, final {run.final}, "
                f"412 conflicts {run.conflicts}, other statuses "
                f"{dict(run.unexpected) or 'none'}, gave up {run.gave_up}"
            )
        finally:
            api.stop()
            server.stop()


if __name__ == "__main__":
    main()
