"""Fixtures: the app on moto and on a real dynalite server, and its clients.

Every API test that takes ``app`` or ``client`` runs twice: on moto's
in-process ``mock_aws`` and against a dynalite process on 127.0.0.1.
``http_api`` serves the API over HTTP for clients in other processes.

The network guard is installed for the whole session: a connection or name
lookup aimed at anything but loopback raises at once, and the test that made
it fails even when the code under test swallows the error.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from moto import mock_aws

from bookapi import create_app
from tests import netguard
from tests.rehearsal.processes import StandInProcess
from tests.servers import Dynalite, ServerProcess

netguard.install()

# pytester runs the guard's own test of a test that swallows a blocked call.
pytest_plugins = ["pytester"]

DUMMY_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # botocore must never query the EC2 instance metadata service (a
    # link-local address) for credentials or a region.
    "AWS_EC2_METADATA_DISABLED": "true",
}
os.environ.update(DUMMY_AWS_ENVIRONMENT)
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "DYNAMODB_ENDPOINT", "BOOKS_TABLE"):
    os.environ.pop(name, None)

table_numbers = itertools.count(1)

# Example counts of the property tests: "bounded" keeps make test short,
# "fuzz" is for make fuzz (pytest --hypothesis-profile=fuzz). Deadlines are
# off because dynalite's latency varies with the machine's load.
settings.register_profile("bounded", max_examples=40, deadline=None)
settings.register_profile("fuzz", max_examples=2000, deadline=None)
settings.load_profile("bounded")


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Fail the test if anything in it tried to reach beyond loopback."""
    already_blocked = len(netguard.violations)
    yield
    blocked = netguard.violations[already_blocked:]
    if blocked:
        pytest.fail("\n".join(blocked), pytrace=False)


@pytest.fixture(scope="session")
def dynalite_server() -> Iterator[Dynalite]:
    server = Dynalite().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint of the deploy rehearsal's AWS stand-in on 127.0.0.1."""
    log = tmp_path_factory.mktemp("standin") / "standin.log"
    process = StandInProcess(log).start()
    yield process.endpoint
    process.stop()


@pytest.fixture(params=["moto", "dynalite"])
def backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The DynamoDB endpoint of the backend: None for moto's in-process mock."""
    if request.param == "moto":
        with mock_aws():
            yield None
    else:
        server: Dynalite = request.getfixturevalue("dynalite_server")
        yield server.endpoint


def make_app(endpoint: str | None, table: str | None = None) -> Flask:
    """Create an app on its own new table and create that table."""
    app = create_app(
        {
            "BOOKS_TABLE": table or f"books-test-{os.getpid()}-{next(table_numbers)}",
            "DYNAMODB_ENDPOINT": endpoint,
        }
    )
    result = app.test_cli_runner().invoke(args=["books", "create-table"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def app(backend: str | None) -> Flask:
    return make_app(backend)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def http_api(
    dynalite_server: Dynalite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """The API served by waitress on 127.0.0.1, on a new dynalite table."""
    table = f"books-http-{os.getpid()}-{next(table_numbers)}"
    make_app(dynalite_server.endpoint, table)
    log_path = tmp_path_factory.mktemp("http-api") / "server.log"
    server = ServerProcess.waitress(dynalite_server.endpoint, table, log_path).start()
    yield server
    server.stop()
