"""A server's tool list, read within bounds a server cannot move.

``tools/list`` is paged by the server: at most ``MAX_PAGES`` pages are read and at most
``MAX_TOOLS`` tools kept, each description sanitized and cut to ``MAX_DESCRIPTION``
characters. A tool whose model-facing name another server's tool already has is left
out (first come, first served), and each thing left out becomes a note for the user.
"""

from __future__ import annotations

from typing import Any

from tui.core.mcp.config import McpServerConfig
from tui.core.mcp.naming import tool_name
from tui.core.mcp.status import McpTool
from tui.core.sanitize import sanitize

MAX_TOOLS = 256
"""Tools taken from one server; more are left out with a note (a server controls this number)."""
MAX_PAGES = 64
"""``tools/list`` pages read from one server."""
MAX_DESCRIPTION = 2_000
"""Characters of a tool description sent to the model."""


async def list_tools(
    config: McpServerConfig, session: Any, taken: set[str]
) -> tuple[tuple[McpTool, ...], tuple[str, ...]]:
    """The server's tools (every page, up to ``MAX_TOOLS``) and notes on what was left out.

    Args:
        config: the server's config (its name and ``disabled_tools``).
        session: its initialized ``mcp`` ``ClientSession``.
        taken: model-facing names other servers' tools have; the names kept are added.
    """
    listed = await _every_page(session)
    notes: list[str] = []
    if len(listed) > MAX_TOOLS:
        notes.append(f"offers more than {MAX_TOOLS} tools; only the first {MAX_TOOLS} are used")
    tools: list[McpTool] = []
    for tool in listed[:MAX_TOOLS]:
        if tool.name in config.disabled_tools:
            continue
        name = tool_name(config.name, tool.name)
        if name in taken:
            notes.append(f"tool {sanitize(tool.name)!r} left out: its name {name} is taken")
            continue
        taken.add(name)
        description = sanitize(tool.description or "")[:MAX_DESCRIPTION]
        schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
        tools.append(McpTool(name, config.name, tool.name, description, schema))
    return tuple(tools), tuple(notes)


async def _every_page(session: Any) -> list[Any]:
    """The tools of every page, until the last, ``MAX_PAGES`` or more than ``MAX_TOOLS``."""
    from mcp_types import PaginatedRequestParams

    listed: list[Any] = []
    cursor: str | None = None
    for _page in range(MAX_PAGES):  # a server that pages forever is cut, not waited on
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        listed.extend(page.tools)
        cursor = page.next_cursor
        if not cursor or len(listed) > MAX_TOOLS:
            break
    return listed
