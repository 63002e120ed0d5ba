"""MCP tools in the tool registry: their specs, approval policy and prepared calls.

Approval per server (``approval``) and per tool (``auto_approve``), never
global: ``ask`` (the default) asks before every call unless the user answered
"always" for that tool this session; ``auto`` runs without asking; ``deny``
keeps the tool in the list but refuses every call, telling the model why.
The server validates arguments against its own schema; chattui checks only
that they are one JSON object.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from providers.conversation import ToolCall, ToolResult, ToolSpec
from tui.core.mcp.naming import is_mcp_name, split_name
from tui.core.tools.prepared import PreparedCall

if TYPE_CHECKING:
    from tui.core.mcp.manager import McpManager
    from tui.core.mcp.status import McpTool, Progress

_EMPTY_SCHEMA: Mapping[str, Any] = {"type": "object", "properties": {}}


class McpTools:
    """What the registry asks about MCP tools, answered from the manager."""

    def __init__(self, manager: McpManager) -> None:
        self.manager = manager

    def specs(self) -> tuple[ToolSpec, ...]:
        """Specs of the tools of every server that is up (and not in ``disabled_tools``)."""
        return tuple(tool_spec(tool) for tool in self.manager.tools())

    async def refresh(self) -> None:
        """Re-read tool lists that a server said changed (before the next request)."""
        await self.manager.refresh()

    def needs_approval(self, name: str, always: Collection[str]) -> bool:
        """Whether a call to ``name`` asks first (``ask`` policy, not allowed always)."""
        tool = self.manager.find(name)
        config = self.manager.config(tool.server) if tool else None
        if tool is None or config is None:
            return True
        return config.approval_for(tool.tool) == "ask" and name not in always

    def prepare(self, call: ToolCall, always: Collection[str]) -> PreparedCall | ToolResult:
        """Check one call to an MCP tool: known, allowed by policy, arguments an object."""
        tool = self.manager.find(call.name)
        config = self.manager.config(tool.server) if tool else None
        if tool is None or config is None:
            return _error(call, _missing(call.name, self.manager))
        if config.approval_for(tool.tool) == "deny":
            text = f"refused by policy (MCP server {tool.server!r} has approval = 'deny'); not run"
            return _error(call, text)
        title = f"{call.name} (MCP server {tool.server!r}, tool {tool.tool!r})"
        return PreparedCall(
            call,
            self.needs_approval(call.name, always),
            title,
            None,
            action=_no_sync_run,
            async_action=self._runner(tool, call),
        )

    def _runner(self, tool: McpTool, call: ToolCall) -> Callable[[Progress], Any]:
        async def run(progress: Progress) -> ToolResult:
            return await self.manager.call(tool, call.arguments, call.id, progress)

        return run


def tool_spec(tool: McpTool) -> ToolSpec:
    """The spec the model sees: a schema that is not an object becomes an empty object."""
    schema = dict(tool.schema) if tool.schema.get("type") == "object" else dict(_EMPTY_SCHEMA)
    schema.setdefault("properties", {})
    description = tool.description or f"Tool {tool.tool!r} of the MCP server {tool.server!r}."
    return ToolSpec(tool.name, description, schema)


def _missing(name: str, manager: McpManager) -> str:
    parts = split_name(name)
    server = parts[0] if parts else None
    if server is not None and manager.config(server) is None:
        return f"unknown tool {name!r}: the MCP server {server!r} is not configured; not run"
    return f"unknown tool {name!r}: no running MCP server offers it; not run"


def _no_sync_run() -> str:
    raise RuntimeError("an MCP call runs only through run_async")


def _error(call: ToolCall, text: str) -> ToolResult:
    return ToolResult(call.id, call.name, f"{call.name}: {text}", is_error=True)


__all__ = ["McpTools", "is_mcp_name"]
