"""A network guard: the process may reach loopback addresses only.

``install()`` wraps the socket calls that open connections or send datagrams
(``connect``, ``connect_ex``, ``sendto``) and the name lookups
(``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``). A call aimed at
anything but 127.0.0.0/8, ::1 or ``localhost`` then raises
``BlockedAddressError`` before any packet leaves the machine. A blocked name
lookup sends no DNS query either.

Each blocked call is also appended to ``violations``, and to the file named by
the ``NETGUARD_REPORT`` environment variable when it is set, so that a caller
that swallows the error is still found out. The module uses only the standard
library: the rehearsal loads it by path into the Zappa and Lambda processes
that it starts, which cannot import the tests package.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

REPORT_ENV = "NETGUARD_REPORT"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "localhost.localdomain"})

violations: list[str] = []
_installed = False


class BlockedAddressError(PermissionError):
    """A connection or name lookup aimed at an address other than loopback."""


def is_loopback_host(host: object) -> bool:
    """Return whether ``host`` (a name or an IP address) is loopback only.

    ``None`` is loopback, as ``getaddrinfo(None, port)`` looks up local
    addresses. Unspecified addresses such as 0.0.0.0 are not.
    """
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().lower()
    if name in LOOPBACK_NAMES:
        return True
    # Strip an IPv6 zone ("fe80::1%eth0") and brackets ("[::1]").
    name = name.strip("[]").split("%", 1)[0]
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def block(what: str, host: object, port: object) -> BlockedAddressError:
    """Record a blocked call and return the error to raise for it."""
    message = (
        f"network guard: blocked {what} {host!r} port {port!r}; only loopback "
        "addresses (127.0.0.0/8, ::1, localhost) are allowed"
    )
    violations.append(message)
    report = os.environ.get(REPORT_ENV)
    if report:
        with open(report, "a", encoding="utf-8") as file:
            file.write(message + "\n")
    return BlockedAddressError(message)


def _check_address(sock: socket.socket, address: Any, what: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    if isinstance(address, tuple) and address:
        host, port = address[0], address[1] if len(address) > 1 else None
        if not is_loopback_host(host):
            raise block(what, host, port)


def install() -> None:
    """Wrap the socket module's calls; installing twice changes nothing."""
    global _installed
    if _installed:
        return
    _installed = True

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_getaddrinfo = socket.getaddrinfo
    original_gethostbyname = socket.gethostbyname
    original_gethostbyname_ex = socket.gethostbyname_ex

    def connect(self: socket.socket, address: Any) -> None:
        _check_address(self, address, "connection to")
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(self, address, "connection to")
        return original_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        _check_address(self, args[-1] if args else None, "datagram to")
        return original_sendto(self, data, *args)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback_host(host):
            raise block("name lookup of", host, port)
        return original_getaddrinfo(host, port, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        if not is_loopback_host(host):
            raise block("name lookup of", host, None)
        return original_gethostbyname(host)

    def gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
        if not is_loopback_host(host):
            raise block("name lookup of", host, None)
        return original_gethostbyname_ex(host)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
