"""Shared fixtures: a loopback HTTP server, and no real network."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.loopback import LoopbackServer, loopback


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A scripted HTTP server on 127.0.0.1."""
    with loopback() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests reach only loopback; anything else is a bug in the test."""
    real = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("::1", "localhost") or "/" in host
        ):
            raise OSError(f"test tried to reach the network: {address!r}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    real_lookup = socket.getaddrinfo

    def lookup(host: object, *args: object, **kwargs: object) -> object:
        if isinstance(host, bytes):
            host = host.decode()
        if host is not None and not (str(host).startswith("127.") or host in ("::1", "localhost")):
            raise OSError(f"test tried to resolve a real host: {host!r}")
        return real_lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
