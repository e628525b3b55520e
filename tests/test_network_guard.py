"""The network guard that conftest.py installs for the whole test suite.

The blocked calls here go to a closed socket or to the guard's decision only,
so that even a broken guard sends nothing beyond loopback.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import netguard


@pytest.fixture
def forget_violations() -> Iterator[None]:
    """Let a test provoke the guard without the suite failing it for that."""
    before = len(netguard.violations)
    yield
    del netguard.violations[before:]


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "::ffff:127.0.0.1", None],
)
def test_loopback_hosts_are_allowed(host: str | None) -> None:
    assert netguard.is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "dynamodb.us-east-1.amazonaws.com",
        "169.254.169.254",
        "10.0.0.1",
        "192.0.2.1",
        "0.0.0.0",
        "::",
        "2001:db8::1",
        "localhost.example",
        "",
    ],
)
def test_other_hosts_are_blocked(host: str) -> None:
    assert not netguard.is_loopback_host(host)


@pytest.mark.usefixtures("forget_violations")
def test_connect_to_other_address_raises_before_sending() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.close()  # A closed socket sends nothing, even past a broken guard.

    with pytest.raises(netguard.BlockedAddressError, match=re.escape("192.0.2.1")):
        sock.connect(("192.0.2.1", 443))


@pytest.mark.usefixtures("forget_violations")
def test_blocked_connect_is_recorded() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.close()
    before = len(netguard.violations)

    with pytest.raises(netguard.BlockedAddressError):
        sock.connect_ex(("192.0.2.1", 443))

    assert len(netguard.violations) == before + 1
    assert "192.0.2.1" in netguard.violations[-1]


@pytest.mark.usefixtures("forget_violations")
def test_blocked_call_is_written_to_report_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "netguard.txt"
    monkeypatch.setenv(netguard.REPORT_ENV, str(report))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.close()

    with pytest.raises(netguard.BlockedAddressError):
        sock.sendto(b"x", ("192.0.2.1", 53))

    assert "datagram to '192.0.2.1'" in report.read_text()


def test_name_lookups_go_through_guard() -> None:
    assert socket.getaddrinfo.__module__ == netguard.__name__
    assert socket.gethostbyname.__module__ == netguard.__name__


def test_loopback_connection_works() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        with socket.create_connection(("localhost", port), timeout=5):
            pass


def test_swallowed_blocked_call_fails_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("from tests.conftest import loopback_only  # noqa: F401")
    pytester.makepyfile(
        """
        import socket

        def test_swallows_the_error():
            sock = socket.socket()
            sock.close()
            try:
                sock.connect(("192.0.2.1", 443))
            except OSError:
                pass
        """
    )
    before = len(netguard.violations)

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    del netguard.violations[before:]

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*blocked connection to '192.0.2.1'*"])
