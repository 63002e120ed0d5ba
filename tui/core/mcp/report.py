"""``chattui mcp``: start each configured server (bounded), report its state and tools.

Exit 0 only when every enabled server is up; 1 when one is not; 2 on a config error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from tui.core import locations
from tui.core.config import Config
from tui.core.mcp.manager import McpManager
from tui.core.mcp.status import ServerState, ServerStatus
from tui.core.sanitize import visible


def check_servers(config: Config, workspace: Path | None = None) -> tuple[ServerStatus, ...]:
    """Start the config's enabled servers, wait until each is up or failed, stop them."""
    servers = [server for server in config.mcp if server.enabled]
    if not servers:
        return ()
    manager = McpManager(servers, workspace or config.tools.workspace, locations.data_dir() / "mcp")
    manager.start()
    try:
        manager.wait_settled()
        return manager.statuses()
    finally:
        manager.close()


def report_lines(config: Config, statuses: Sequence[ServerStatus]) -> Iterator[str]:
    """One line per server, one per tool (name and first line of its description)."""
    by_name = {status.name: status for status in statuses}
    for server in config.mcp:
        status = by_name.get(server.name)
        name = visible(server.name)
        if status is None:
            yield f"{name}: disabled"
            continue
        if status.state is not ServerState.READY:
            yield f"{name}: {status.state}: {visible(status.error or 'no reason given')}"
            if status.log is not None:
                yield f"  stderr log: {status.log}"
            continue
        count = len(status.tools)
        yield f"{name}: ready ({server.transport}), {count} tool{'s' * (count != 1)}"
        for tool in status.tools:
            first = tool.description.strip().splitlines()[0] if tool.description.strip() else ""
            yield f"  {tool.name}  {visible(first)[:100]}".rstrip()
        yield from (f"  warning: {visible(note)}" for note in status.notes)
