"""Shared fixtures: a loopback HTTP server, and no real network; which tests are slow."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.loopback import LoopbackServer, loopback

SLOW = {
    "tests/core/test_durability.py": "real chattui processes killed mid-stream",
    "tests/faults/test_llmock_pipe.py": "chattui processes against a chaos server",
    "tests/cli/test_cli_fuzz.py": "generated command lines, each a real run",
    "tests/core/test_config_fuzz.py": "generated config files, each loaded and started",
    "tests/ui/test_memory.py": "many turns, each followed by a full garbage collection",
    "tests/core/test_mcp_manager.py": "real MCP server processes (stdio and HTTP)",
    "tests/cli/test_pipe_mcp.py": "chattui processes with real MCP servers, every wire format",
    "tests/ui/test_mcp_card.py": "the TUI with a real MCP server process",
}
"""Modules marked ``slow`` (seconds each): ``python3 dev.py test -m "not slow"`` is the quick
inner loop; the README test command runs everything."""
ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of the ``SLOW`` modules."""
    for item in items:
        if item.path.relative_to(ROOT).as_posix() in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A scripted HTTP server on 127.0.0.1."""
    with loopback() as srv:
        yield srv


@pytest.fixture(scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _own_cache_dir(monkeypatch: pytest.MonkeyPatch, _cache_dir: Path) -> None:
    """The TUI saves what it compiled for its first screen in the cache directory: a test's
    app writes to the test session's own, never the user's."""
    monkeypatch.setenv("CHATTUI_CACHE_DIR", str(_cache_dir))


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
