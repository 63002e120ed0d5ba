"""``[mcp.servers.NAME]`` tables: the MCP servers chattui starts or connects to.

Two transports; a table has ``command`` (stdio: a process chattui starts) or
``url`` (streamable HTTP), never both::

    [mcp.servers.git]
    command = "uvx"
    args = ["mcp-server-git", "--repository", "."]
    env = { GIT_AUTHOR_NAME = "me" }     # added to a minimal environment
    env_passthrough = ["GITHUB_TOKEN"]   # variables copied from chattui's environment
    cwd = "."                            # default: the workspace
    approval = "ask"                     # ask | auto | deny (default ask)
    auto_approve = ["git_status"]        # tools that never ask
    disabled_tools = ["git_reset"]       # tools never offered to the model
    timeout = 60                         # seconds per call

    [mcp.servers.search]
    url = "https://example.invalid/mcp"
    headers = { "X-Client" = "chattui" }
    bearer_token_env = "SEARCH_TOKEN"    # or bearer_token_cmd = ["pass", "show", "search"]

Errors are ``ValueError`` whose message starts with the key path
(``mcp.servers.git.timeout: must be a positive number``); ``tui.core.config``
adds the file name. This module imports nothing from the SDK.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from providers.settings import HEADER_NAME, HEADER_VALUE, usable_url
from tui.core.environment import minimal_env
from tui.core.tools.paths import visible_path

McpApproval = Literal["ask", "auto", "deny"]
APPROVALS: tuple[McpApproval, ...] = ("ask", "auto", "deny")
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 86400.0
"""Longest ``timeout`` accepted, in seconds (a day), as for providers."""
# No "__" and no "_" at either end: then "mcp__<server>__<tool>" splits one way only.
_SERVER_NAME = re.compile(r"(?=.{1,32}$)[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMMON_KEYS = ("approval", "auto_approve", "disabled_tools", "timeout", "enabled")
_STDIO_KEYS = ("command", "args", "env", "env_passthrough", "cwd")
_HTTP_KEYS = ("url", "headers", "bearer_token_env", "bearer_token_cmd")
SERVER_KEYS = _COMMON_KEYS + _STDIO_KEYS + _HTTP_KEYS
"""Every key an ``[mcp.servers.NAME]`` table accepts (stdio and HTTP keys exclude each other)."""


@dataclass(frozen=True)
class McpServerConfig:
    """One ``[mcp.servers.NAME]`` table."""

    name: str
    """The table name; the middle part of the tool names (``mcp__NAME__tool``)."""
    command: str | None = None
    """stdio: the program to start (looked up on PATH); None for an HTTP server."""
    args: tuple[str, ...] = ()
    """stdio: its arguments."""
    env: Mapping[str, str] = field(default_factory=dict)
    """stdio: variables added to the minimal environment (PATH, HOME, LANG, TMPDIR)."""
    env_passthrough: tuple[str, ...] = ()
    """stdio: names of variables copied from chattui's own environment when set."""
    cwd: Path | None = None
    """stdio: working directory (relative to the workspace); None means the workspace."""
    url: str | None = None
    """HTTP: the streamable HTTP endpoint; None for a stdio server."""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """HTTP: extra request headers (values hidden in repr)."""
    bearer_token_env: str | None = None
    """HTTP: variable holding a bearer token for ``Authorization``."""
    bearer_token_cmd: tuple[str, ...] = ()
    """HTTP: command (argv, no shell) whose first output line is the bearer token."""
    approval: McpApproval = "ask"
    """``ask`` before each call, ``auto`` run without asking, ``deny`` refuse every call."""
    auto_approve: tuple[str, ...] = ()
    """Tool names (the server's own) that run without asking under ``ask``."""
    disabled_tools: tuple[str, ...] = ()
    """Tool names (the server's own) never offered to the model."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds one call may take before it gets an error result."""
    enabled: bool = True
    """False keeps the table but neither starts nor offers the server."""

    @property
    def transport(self) -> Literal["stdio", "http"]:
        """Which transport this server uses."""
        return "stdio" if self.command is not None else "http"

    def environment(self, source: Mapping[str, str]) -> dict[str, str]:
        """The variables a stdio server gets: ``minimal_env`` with its ``env`` and passthrough."""
        return minimal_env(self.env, self.env_passthrough, source)

    def approval_for(self, tool: str) -> McpApproval:
        """The effective policy for one of this server's tools."""
        if self.approval == "ask" and tool in self.auto_approve:
            return "auto"
        return self.approval


def parse_mcp(table: Any) -> tuple[McpServerConfig, ...]:
    """Parse the ``[mcp]`` table into server configs, in file order.

    Raises:
        ValueError: the first problem, its message starting with the key path.
    """
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise ValueError("mcp: must be a table with [mcp.servers.NAME] tables")
    for key in table:
        if key != "servers":
            raise ValueError(f"{_where('mcp', key)}: unknown key (expected [mcp.servers.NAME])")
    servers = table.get("servers", {})
    if not isinstance(servers, dict):
        raise ValueError("mcp.servers: must be a table of [mcp.servers.NAME] tables")
    return tuple(parse_server(name, value) for name, value in servers.items())


def parse_server(name: str, table: Any) -> McpServerConfig:
    """Parse one ``[mcp.servers.NAME]`` table."""
    where = _where("mcp.servers", name)
    if not _SERVER_NAME.fullmatch(name):
        raise ValueError(
            f"{where}: a server name is 1-32 letters, digits, - or _"
            " (no __ and no _ at either end: __ separates it from the tool name)"
        )
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table")
    _check_keys(table, where)
    if ("command" in table) == ("url" in table):
        raise ValueError(f"{where}: give either command (stdio) or url (streamable HTTP)")
    transport_keys = _STDIO_KEYS if "url" in table else _HTTP_KEYS
    for key in transport_keys:
        if key in table:
            other = "url" if "url" in table else "command"
            raise ValueError(f"{where}.{key}: does not apply to a server with {other}")
    common = _common(table, where)
    if "command" in table:
        return McpServerConfig(name=name, **_stdio(table, where), **common)
    return McpServerConfig(name=name, **_http(table, where), **common)


def _check_keys(table: Mapping[str, Any], where: str) -> None:
    import difflib

    for key in table:
        if key not in SERVER_KEYS:
            close = difflib.get_close_matches(key, SERVER_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{_where(where, key)}: unknown key{hint}")


def _common(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    approval = table.get("approval", "ask")
    if approval not in APPROVALS:
        raise ValueError(f"{where}.approval: must be one of {', '.join(APPROVALS)}")
    timeout = table.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ValueError(f"{where}.timeout: must be a positive number of seconds")
    if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise ValueError(f"{where}.timeout: must be a positive number up to {MAX_TIMEOUT:g}")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"{where}.enabled: must be true or false")
    return {
        "approval": approval,
        "auto_approve": _strings(table, "auto_approve", where),
        "disabled_tools": _strings(table, "disabled_tools", where),
        "timeout": float(timeout),
        "enabled": enabled,
    }


def _stdio(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    command = table["command"]
    if not isinstance(command, str) or not command.strip() or "\0" in command:
        raise ValueError(f"{where}.command: must be a non-empty string (a program, no shell)")
    cwd = table.get("cwd")
    if cwd is not None and (not isinstance(cwd, str) or not cwd.strip()):
        raise ValueError(f"{where}.cwd: must be a non-empty string")
    env = _string_table(table, "env", where)
    for key in env:
        if not _ENV_NAME.fullmatch(key):
            raise ValueError(f"{_where(where + '.env', key)}: not a valid variable name")
    passthrough = _strings(table, "env_passthrough", where)
    for key in passthrough:
        if not _ENV_NAME.fullmatch(key):
            shown = visible_path(key)
            raise ValueError(f"{where}.env_passthrough: {shown!r} is not a variable name")
    return {
        "command": command,
        "args": _strings(table, "args", where, allow_empty=True),
        "env": env,
        "env_passthrough": passthrough,
        "cwd": Path(cwd).expanduser() if cwd else None,
    }


def _http(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    url = table["url"]
    if not isinstance(url, str) or not usable_url(url):
        raise ValueError(f"{where}.url: must be an http:// or https:// URL with a host")
    if "bearer_token_env" in table and "bearer_token_cmd" in table:
        raise ValueError(f"{where}.bearer_token_cmd: set only one of bearer_token_env, _cmd")
    token_env = table.get("bearer_token_env")
    if token_env is not None and not (
        isinstance(token_env, str) and _ENV_NAME.fullmatch(token_env)
    ):
        # Never echo it: a common slip is pasting the token itself here.
        raise ValueError(f"{where}.bearer_token_env: must be the name of an environment variable")
    argv = _strings(table, "bearer_token_cmd", where)
    if "bearer_token_cmd" in table and not argv:
        raise ValueError(f"{where}.bearer_token_cmd: must be a non-empty list of strings")
    headers = _string_table(table, "headers", where)
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(name):
            raise ValueError(f"{_where(where + '.headers', name)}: not a valid header name")
        if not HEADER_VALUE.fullmatch(value):
            shown = _where(where + ".headers", name)
            raise ValueError(f"{shown}: must be a one-line string of printable ASCII")
    return {
        "url": url,
        "headers": headers,
        "bearer_token_env": token_env,
        "bearer_token_cmd": argv,
    }


def _strings(
    table: Mapping[str, Any], key: str, where: str, *, allow_empty: bool = False
) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(item, str) and (allow_empty or item) and "\0" not in item for item in value
    ):
        raise ValueError(f"{where}.{key}: must be a list of strings")
    return tuple(value)


def _string_table(table: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{where}.{key}: must be a table of strings")
    for name, item in value.items():
        if not isinstance(item, str) or "\0" in item:
            raise ValueError(f"{_where(where + '.' + key, name)}: must be a string")
    return dict(value)


def _where(where: str, key: str) -> str:
    # Keys come from the file: a server named "\x1b]52;..." must not reach the terminal.
    return f"{where}.{visible_path(key)}"
