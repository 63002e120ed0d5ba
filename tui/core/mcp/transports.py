"""Opening a server's transport with the SDK: stdio or streamable HTTP.

Imported only inside the manager's thread (it imports the SDK).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from tui.core.mcp.config import McpServerConfig
from tui.core.mcp.stderr import StderrLog

TOKEN_CMD_TIMEOUT = 30.0
"""Seconds a ``bearer_token_cmd`` may run."""


class TransportError(Exception):
    """A server's transport cannot be opened; the message is safe to show."""


@contextlib.asynccontextmanager
async def open_transport(
    config: McpServerConfig, workspace: Path, env: Mapping[str, str], log: StderrLog | None
) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's (read, write) stream pair for ``config``'s server."""
    if config.command is not None:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        assert log is not None
        cwd = workspace / config.cwd if config.cwd else workspace
        if not cwd.is_dir():
            raise TransportError(f"cwd is not a directory: {cwd}")
        params = StdioServerParameters(
            command=config.command,
            args=list(config.args),
            env=config.environment(env),
            cwd=str(cwd),
            encoding_error_handler="replace",
        )
        try:
            async with stdio_client(params, errlog=log.writer) as streams:  # type: ignore[arg-type]
                log.spawned()
                yield streams
        finally:
            log.spawned()
        return
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    assert config.url is not None
    client = create_mcp_http_client(headers=_headers(config, env))
    async with client, streamable_http_client(config.url, http_client=client) as streams:
        yield streams


def _headers(config: McpServerConfig, env: Mapping[str, str]) -> dict[str, str]:
    headers = dict(config.headers)
    token = _bearer_token(config, env)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _bearer_token(config: McpServerConfig, env: Mapping[str, str]) -> str | None:
    # The token's value never appears in a message: only where it came from.
    if config.bearer_token_env:
        token = env.get(config.bearer_token_env, "").strip()
        if not token:
            raise TransportError(f"${config.bearer_token_env} is not set (bearer_token_env)")
        return _one_line(token, f"${config.bearer_token_env}")
    if config.bearer_token_cmd:
        argv = list(config.bearer_token_cmd)
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=TOKEN_CMD_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = type(exc).__name__
            raise TransportError(f"bearer_token_cmd {argv[0]!r} failed: {why}") from None
        first = (done.stdout.splitlines() or [""])[0].strip()
        if done.returncode != 0 or not first:
            raise TransportError(
                f"bearer_token_cmd {argv[0]!r} exited {done.returncode} without a token"
            )
        return _one_line(first, "bearer_token_cmd")
    return None


def _one_line(token: str, source: str) -> str:
    if any(ord(c) < 0x20 or ord(c) > 0x7E for c in token):
        raise TransportError(f"the token from {source} cannot go in a header")
    return token
