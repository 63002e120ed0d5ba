"""What the rest of chattui sees of an MCP server: its state, its tools, its status.

Plain frozen values, made by ``tui.core.mcp.manager`` in its thread and read from any
other (the status bar, notices, ``chattui mcp``, the tool registry).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

RESTARTS = 1
"""How many times a failed server is restarted on its next use."""

Progress = Callable[[float, float | None, str | None], None]
"""Called (from the manager's thread) with progress, total and message while a call runs."""


class ServerState(StrEnum):
    """Where a server is in its lifecycle."""

    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class McpTool:
    """One tool of one server, under the name the model sees."""

    name: str
    """``mcp__<server>__<tool>``, reduced by ``tui.core.mcp.naming``."""
    server: str
    """The server's table name."""
    tool: str
    """The tool's own name on its server (what ``tools/call`` sends)."""
    description: str
    """Its description, sanitized and capped."""
    schema: Mapping[str, Any]
    """Its input schema, as the server gave it."""


@dataclass(frozen=True)
class ServerStatus:
    """A snapshot of one server, for the status bar, notices and ``chattui mcp``."""

    name: str
    state: ServerState
    tools: tuple[McpTool, ...] = ()
    error: str | None = None
    """Why it failed (sanitized, one paragraph), or None."""
    log: Path | None = None
    """Its stderr log file (stdio servers)."""
    restarts_left: int = RESTARTS
    notes: tuple[str, ...] = ()
    """What was left out of its tool list and why (too many tools, a name already taken)."""
