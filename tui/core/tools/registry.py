"""The tool registry: specs for the model, and checked, previewed calls for the session.

Flow for one complete tool call::

    registry.prepare(call)  -> ToolResult (refused or invalid: send it back as is)
                            -> PreparedCall (title, preview, needs_approval)
    prepared.run()          -> ToolResult    (after approval, or directly)
    prepared.refuse(reason) -> ToolResult    (the user said no)

``prepare`` runs every check that needs no approval, in this order: invalid
JSON, unknown tool, argument schema, policy, then confinement
(``tui.core.tools.paths``) and the file's fingerprint. Nothing raises out of this
module: every failure becomes a ``ToolResult`` with ``is_error=True``.

Approval policy (``approval`` from config; the "always" set comes from the
approval prompt's ``[a]`` key):

==========  ====================  =============================
policy      read_file/list_files  save_file/edit_file
==========  ====================  =============================
ask         runs                  asks, unless allowed always
auto        runs                  runs (still confined)
deny        runs                  refused by policy
==========  ====================  =============================

``run_command`` (off unless enabled) asks under ``ask`` and ``auto`` alike, except for
commands on its allow-list (``tui.core.tools.command.allowed``); ``[a]`` approves only the
one command; ``deny`` refuses it.

A write whose file changed on disk after its preview is not made: ``run`` marks the call
``stale`` and the session prepares it again, so the user approves the new diff.

The pieces: ``specs`` (what the model is offered), this module (policy and dispatch),
``builtin`` (the file tools' previews and actions), ``prepared`` (``PreparedCall``: run
once, never raises), ``command`` (``run_command``) and ``tui.core.mcp.tools`` (MCP tools).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.conversation import ToolCall, ToolResult, ToolSpec
from tui.core.tools import command, edit
from tui.core.tools.builtin import FileTools
from tui.core.tools.names import DEFAULT_TOOLS, POLICIES, WRITE_TOOLS
from tui.core.tools.paths import Resolved, ToolError, Workspace, quoted
from tui.core.tools.prepared import PreparedCall, error_result, streaming_only
from tui.core.tools.schema import validate
from tui.core.tools.specs import SPECS, known_tools, unknown_tools

if TYPE_CHECKING:
    from tui.core.mcp.tools import McpTools

# PreparedCall, SPECS and the name checks live in their own modules; callers may keep
# importing them from here.
__all__ = [
    "DEFAULT_MAX_WRITE_BYTES",
    "POLICIES",
    "SPECS",
    "PreparedCall",
    "ToolRegistry",
    "known_tools",
    "unknown_tools",
]

DEFAULT_MAX_WRITE_BYTES = 10 * 1024 * 1024
_POLICED = WRITE_TOOLS | {"run_command"}
"""Tools that ``approval = "deny"`` refuses."""


class ToolRegistry:
    """The enabled tools, their policy and their confinement.

    Args:
        workspace: the directory every tool is confined to; must exist.
        enabled: names of the tools the model is offered.
        approval: ``"ask"``, ``"auto"`` or ``"deny"`` (see the module docstring).
        protected: absolute paths no tool may read, list or write (chattui's
            config file and data dir); ``.git`` is always protected.
        max_write_bytes: the largest content ``save_file`` accepts, in bytes.
        mcp: the MCP servers' tools (``tui.core.mcp.tools``), offered after the built-ins.
        command_allow: ``run_command`` command prefixes that run without asking.

    Raises:
        ValueError: unknown tool or policy, bad size cap, bad allow-list entry, or no such
            workspace.
    """

    def __init__(
        self,
        workspace: Path,
        *,
        enabled: Iterable[str] = DEFAULT_TOOLS,
        approval: str = "ask",
        protected: Iterable[Path] = (),
        max_write_bytes: int = DEFAULT_MAX_WRITE_BYTES,
        mcp: McpTools | None = None,
        command_allow: Iterable[str] = (),
    ) -> None:
        self.enabled = tuple(dict.fromkeys(enabled))
        unknown = unknown_tools(self.enabled)
        if unknown:
            raise ValueError(f"unknown tools {unknown}; known: {', '.join(SPECS)}")
        if approval not in POLICIES:
            raise ValueError(f"approval must be one of {POLICIES}, not {approval!r}")
        if max_write_bytes < 1:
            raise ValueError("max_write_bytes must be positive")
        self.approval = approval
        self.max_write_bytes = max_write_bytes
        self.workspace = Workspace(workspace, protected)
        self.command_allow = command.parse_allow(command_allow)
        self._always: set[str] = set()
        self.mcp = mcp
        self._files = FileTools(self.workspace, max_write_bytes)

    def specs(self) -> tuple[ToolSpec, ...]:
        """The specs of the enabled tools, in the order they were enabled, then MCP tools."""
        builtin = tuple(SPECS[name] for name in self.enabled)
        return builtin + (self.mcp.specs() if self.mcp is not None else ())

    async def refresh(self) -> None:
        """Bring tool lists up to date before a request (MCP ``list_changed``)."""
        if self.mcp is not None:
            await self.mcp.refresh()

    def _is_mcp(self, tool_name: str) -> bool:
        return self.mcp is not None and tool_name.startswith("mcp__")

    def allow_always(self, tool_name: str) -> None:
        """Stop asking for ``tool_name`` for the rest of this session.

        Has no effect under ``deny``, which refuses writes whatever the user
        allowed before.

        Raises:
            ValueError: the tool is not enabled.
        """
        if tool_name not in self.enabled and not self._is_mcp(tool_name):
            raise ValueError(f"tool {tool_name!r} is not enabled")
        self._always.add(tool_name)

    def needs_approval(self, tool_name: str) -> bool:
        """Whether a call to ``tool_name`` must be approved under the current policy."""
        if self.mcp is not None and self._is_mcp(tool_name):
            return self.mcp.needs_approval(tool_name, self._always)
        if tool_name == "run_command":
            return True  # an allow-listed command is let through by ``prepare``
        if tool_name not in WRITE_TOOLS:
            return False
        return self.approval == "ask" and tool_name not in self._always

    def prepare(self, call: ToolCall) -> PreparedCall | ToolResult:
        """Check a complete call; never raises.

        Returns:
            A ``PreparedCall`` to approve and run, or an error ``ToolResult``
            to send back to the model without running anything.
        """
        try:
            return self._prepare(call)
        except ToolError as exc:
            return error_result(call, f"{call.name}: {exc}")
        except Exception as exc:  # a bug here must not take the session down
            return error_result(call, f"{call.name} failed: {type(exc).__name__}: {exc}")

    def _prepare(self, call: ToolCall) -> PreparedCall | ToolResult:
        if call.error is not None:
            text = f"arguments were not valid JSON: {call.error}; the call was not run"
            return error_result(call, f"{call.name}: {text}")
        if self.mcp is not None and self._is_mcp(call.name):
            return self.mcp.prepare(call, self._always)
        if call.name not in self.enabled:
            available = ", ".join(self.enabled) or "none"
            return error_result(call, f"unknown tool {quoted(call.name)}; available: {available}")
        try:
            args = validate(call.name, SPECS[call.name].parameters, call.arguments)
        except ValueError as exc:
            return error_result(call, str(exc))
        if call.name in _POLICED and self.approval == "deny":
            text = "refused by policy (approval = 'deny'); not run"
            return error_result(call, f"{call.name}: {text}")
        if call.name == "run_command":
            return self._prepare_command(call, args)
        plan = self._files.plan(call.name, args)
        needs = self.needs_approval(call.name)
        return PreparedCall(call, needs, plan.title, plan.preview, plan.action, diff=plan.diff)

    def read_for_edit(self, raw: str) -> tuple[Resolved, edit.Source]:
        """Confine a path as ``edit_file`` does and read the file (for the live diff).

        Raises:
            ToolError: refused path, or not a readable text file within the size limit.
        """
        return self._files.read_for_edit(raw)

    def _prepare_command(self, call: ToolCall, args: dict[str, Any]) -> PreparedCall | ToolResult:
        line: str = args["command"]
        if not line.strip() or "\0" in line:
            return error_result(call, "run_command: the command is empty or holds a NUL character")
        timeout = min(args["timeout"], command.MAX_TIMEOUT)

        async def stream(on_output: Callable[[str], None]) -> tuple[str, bool]:
            root = Path(self.workspace.root)
            outcome = await command.run_command(line, root, on_output, timeout=timeout)
            return outcome.report(timeout), outcome.timed_out or outcome.status != 0

        title = f"run_command {quoted(line)} (in the workspace, timeout {timeout} s)"
        asks = not command.allowed(line, self.command_allow)
        return PreparedCall(call, asks, title, None, streaming_only, stream=stream)
