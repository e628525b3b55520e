"""Books stored in a persistent dynalite survive a restart of the server."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_app
from tests.servers import Dynalite


def test_books_survive_server_restart(tmp_path: Path) -> None:
    server = Dynalite(data_dir=tmp_path / "db").start()
    try:
        app = make_app(server.endpoint, table="books-persist")
        created = app.test_client().post("/book", json={"bookId": 3, "name": "Emma"})
        assert created.status_code == 201
    finally:
        server.stop()

    restarted = Dynalite(data_dir=tmp_path / "db", port=server.port).start()
    try:
        app = make_app(restarted.endpoint, table="books-persist")
        response = app.test_client().get("/book/3")
        assert response.status_code == 200
        assert response.get_json() == created.get_json()
    finally:
        restarted.stop()
