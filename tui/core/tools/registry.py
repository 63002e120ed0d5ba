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
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.conversation import ToolCall, ToolResult, ToolSpec
from tui.core.tools import command, edit, files, listing
from tui.core.tools.paths import FileChanged, Resolved, ToolError, Workspace, file_kind, quoted
from tui.core.tools.schema import validate
from tui.core.units import human_size

if TYPE_CHECKING:
    from tui.core.mcp.tools import McpTools

#: Called while a call runs with (progress, total or None, message or None).
ProgressSink = Callable[[float, float | None, str | None], None]

POLICIES = ("ask", "auto", "deny")
#: Tools that change files; only these ever need approval.
WRITE_TOOLS = frozenset({"save_file", "edit_file"})
DEFAULT_MAX_WRITE_BYTES = 10 * 1024 * 1024

_PATH_HELP = "Path relative to the workspace root, e.g. 'src/app.py'."
SPECS: dict[str, ToolSpec] = {
    "save_file": ToolSpec(
        name="save_file",
        description="Create or overwrite a UTF-8 text file inside the workspace with the "
        "complete new content. Missing parent directories are created. The user may be "
        "shown a diff and asked to approve.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": _PATH_HELP},
                "content": {"type": "string", "description": "The complete file content."},
            },
            "required": ["path", "content"],
            "additionalProperties": False,
        },
    ),
    "edit_file": ToolSpec(
        name="edit_file",
        description="Replace an exact piece of an existing UTF-8 text file. old_string must "
        "match the file exactly (whitespace and indentation included) and occur exactly "
        "once, unless replace_all is true; include enough surrounding lines to make it "
        "unique. Use save_file to create a file. The user may be shown the diff and asked "
        "to approve.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": _PATH_HELP},
                "old_string": {"type": "string", "description": "The exact text to replace."},
                "new_string": {"type": "string", "description": "The text to put instead."},
                "replace_all": {
                    "type": "boolean",
                    "default": False,
                    "description": "Replace every occurrence instead of exactly one.",
                },
            },
            "required": ["path", "old_string", "new_string"],
            "additionalProperties": False,
        },
    ),
    "read_file": ToolSpec(
        name="read_file",
        description="Read a text file inside the workspace. Returns the requested lines; "
        "a first line like '[lines 1-2000 of 5000; ...]' says when the result is partial.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": _PATH_HELP},
                "offset": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 1,
                    "description": "First line to return, 1-based.",
                },
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 2000,
                    "description": "Maximum number of lines to return.",
                },
            },
            "required": ["path"],
            "additionalProperties": False,
        },
    ),
    "list_files": ToolSpec(
        name="list_files",
        description="List files and directories inside the workspace, sorted; directories "
        "end with '/'. The glob pattern is matched against paths relative to 'path': "
        "'*' stays within one directory, '**' spans directories (e.g. '**/*.py'). "
        ".git is never listed.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "default": ".", "description": _PATH_HELP},
                "pattern": {"type": "string", "default": "*", "description": "Glob pattern."},
            },
            "additionalProperties": False,
        },
    ),
    "run_command": ToolSpec(
        name="run_command",
        description="Run a shell command (bash -c) in the workspace directory and get its exit "
        "status and output (stdout and stderr together; long output is cut in the middle). "
        "No input is given (stdin is closed) and the environment is minimal. The user is "
        "usually asked to approve each command.",
        parameters={
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The command line, e.g. 'pytest -q'."},
                "timeout": {
                    "type": "integer",
                    "minimum": 1,
                    "default": command.DEFAULT_TIMEOUT,
                    "description": "Seconds before the command is stopped "
                    f"(at most {command.MAX_TIMEOUT}).",
                },
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    ),
}


def known_tools() -> tuple[str, ...]:
    """Every tool name ``[tools] enabled`` may list, in their usual order.

    The config loader and ``ToolRegistry`` both ask here, so a name the loader accepts
    is a name the registry can build.
    """
    return tuple(SPECS)


def unknown_tools(names: Iterable[str]) -> list[str]:
    """The names in ``names`` that are not tools (see ``known_tools``), in order."""
    known = known_tools()
    return [name for name in names if name not in known]


Streamer = Callable[[Callable[[str], None]], Awaitable[tuple[str, bool]]]
"""Runs a command, passing output chunks to the callback; returns the result text and
whether it failed (a non-zero exit status or a timeout)."""


@dataclass(eq=False)
class PreparedCall:
    """A checked call, ready to show for approval and to run.

    Attributes:
        call: the call as the model sent it.
        needs_approval: whether the user must approve before ``run``.
        title: one line naming the tool, the (escaped) path and what will happen.
        preview: a unified diff for an overwrite; None for new files and reads.
        diff: an edit's diff as rows (what ``preview`` shows as text), for a diff view.
        stale: set by ``run`` when the file changed after the preview: nothing was
            written, and the call should be prepared (and approved) again.
        stream: for a command, runs it passing output on as it arrives (use
            ``run_streaming``, not ``run``).
    """

    call: ToolCall
    needs_approval: bool
    title: str
    preview: str | None
    action: Callable[[], str] = field(repr=False)
    diff: tuple[edit.DiffRow, ...] | None = field(default=None, repr=False)
    stream: Streamer | None = field(default=None, repr=False)
    stale: bool = field(default=False, init=False)
    async_action: Callable[[ProgressSink], Awaitable[ToolResult]] | None = field(
        default=None, repr=False
    )
    """Set for calls that run elsewhere (an MCP server) and may report progress."""
    _finished: bool = field(default=False, init=False, repr=False)

    @property
    def reports_progress(self) -> bool:
        """Whether ``run_async`` may report progress (an MCP call)."""
        return self.async_action is not None

    async def run_async(self, progress: ProgressSink | None = None) -> ToolResult:
        """Execute the call without blocking the loop; never raises but ``CancelledError``."""
        if self.async_action is None:
            return await asyncio.to_thread(self.run)
        if self._finished:
            return _error(self.call, f"{self.call.name}: this call was already run or refused")
        self._finished = True
        try:
            return await self.async_action(progress or _no_progress)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the model gets a result whatever happens
            return _error(self.call, f"{self.call.name} failed: {type(exc).__name__}: {exc}")

    def run(self) -> ToolResult:
        """Execute the call (synchronously); never raises.

        A write first re-checks the path and the fingerprint taken by
        ``prepare`` and aborts if the file changed since the preview.
        """
        if self._finished:
            return _error(self.call, f"{self.call.name}: this call was already run or refused")
        self._finished = True
        try:
            return ToolResult(self.call.id, self.call.name, self.action())
        except FileChanged as exc:
            self.stale = True
            return _error(self.call, f"{self.call.name}: {exc}")
        except ToolError as exc:
            return _error(self.call, f"{self.call.name}: {exc}")
        except Exception as exc:  # the model gets a result whatever happens
            return _error(self.call, f"{self.call.name} failed: {type(exc).__name__}: {exc}")

    async def run_streaming(self, on_output: Callable[[str], None]) -> ToolResult:
        """Run a command call, passing its output on as it arrives; never raises.

        Cancelling stops the command (its whole process group) and propagates.
        """
        if self._finished or self.stream is None:
            return _error(self.call, f"{self.call.name}: this call was already run or refused")
        self._finished = True
        try:
            text, failed = await self.stream(on_output)
            return ToolResult(self.call.id, self.call.name, text, is_error=failed)
        except OSError as exc:
            return _error(self.call, f"{self.call.name}: could not start: {exc.strerror or exc}")
        except Exception as exc:  # the model gets a result whatever happens
            return _error(self.call, f"{self.call.name} failed: {type(exc).__name__}: {exc}")

    def refuse(self, reason: str | None = None) -> ToolResult:
        """The result to send when the user declines; the call is never run."""
        self._finished = True
        text = "the user refused this call" + (f": {reason}" if reason else "")
        return ToolResult(self.call.id, self.call.name, text, is_error=True, refused=True)


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
        enabled: Iterable[str] = ("save_file", "edit_file", "read_file", "list_files"),
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
            return _error(call, f"{call.name}: {exc}")
        except Exception as exc:  # a bug here must not take the session down
            return _error(call, f"{call.name} failed: {type(exc).__name__}: {exc}")

    def _prepare(self, call: ToolCall) -> PreparedCall | ToolResult:
        if call.error is not None:
            text = f"arguments were not valid JSON: {call.error}; the call was not run"
            return _error(call, f"{call.name}: {text}")
        if self.mcp is not None and self._is_mcp(call.name):
            return self.mcp.prepare(call, self._always)
        if call.name not in self.enabled:
            available = ", ".join(self.enabled) or "none"
            return _error(call, f"unknown tool {quoted(call.name)}; available: {available}")
        try:
            args = validate(call.name, SPECS[call.name].parameters, call.arguments)
        except ValueError as exc:
            return _error(call, str(exc))
        if call.name in WRITE_TOOLS and self.approval == "deny":
            return _error(call, f"{call.name}: refused by policy (approval = 'deny'); not run")
        if call.name == "edit_file":
            return self._prepare_edit(call, args)
        if call.name == "run_command":
            return self._prepare_command(call, args)
        preparers = {
            "save_file": self._prepare_save,
            "read_file": self._prepare_read,
            "list_files": self._prepare_list,
        }
        title, preview, action = preparers[call.name](args)
        return PreparedCall(call, self.needs_approval(call.name), title, preview, action)

    def read_for_edit(self, raw: str) -> tuple[Resolved, edit.Source]:
        """Confine a path as ``edit_file`` does and read the file (for the live diff).

        Raises:
            ToolError: refused path, or not a readable text file within the size limit.
        """
        return edit.open_for_edit(self.workspace, raw, self.max_write_bytes)

    def _prepare_edit(self, call: ToolCall, args: dict[str, Any]) -> PreparedCall:
        target, source = self.read_for_edit(args["path"])
        plan = edit.plan_edit(
            source, args["old_string"], args["new_string"], args["replace_all"], target.rel
        )
        data = source.encode(plan.text)
        if len(data) > self.max_write_bytes:
            size, cap = human_size(len(data)), human_size(self.max_write_bytes)
            raise ToolError(f"the edited file would be {size}, over the {cap} limit; not written")
        what = _plural(plan.count, "replacement")
        title = f"edit_file {quoted(target.rel)} ({what}, +{plan.added} -{plan.removed})"
        before = files.Snapshot(source.digest, len(data), source.mode)
        lines = _plural(_count_lines(plan.text), "line")
        action = partial(self._save, args["path"], target, before, data, lines, "edited")
        preview = edit.unified(plan.rows, target.rel)
        return PreparedCall(
            call, self.needs_approval(call.name), title, preview, action, diff=plan.rows
        )

    def _prepare_command(self, call: ToolCall, args: dict[str, Any]) -> PreparedCall | ToolResult:
        line: str = args["command"]
        if self.approval == "deny":
            return _error(call, "run_command: refused by policy (approval = 'deny'); not run")
        if not line.strip() or "\0" in line:
            return _error(call, "run_command: the command is empty or holds a NUL character")
        timeout = min(args["timeout"], command.MAX_TIMEOUT)

        async def stream(on_output: Callable[[str], None]) -> tuple[str, bool]:
            root = Path(self.workspace.root)
            outcome = await command.run_command(line, root, on_output, timeout=timeout)
            return outcome.report(timeout), outcome.timed_out or outcome.status != 0

        title = f"run_command {quoted(line)} (in the workspace, timeout {timeout} s)"
        asks = not command.allowed(line, self.command_allow)
        return PreparedCall(call, asks, title, None, _streaming_only, stream=stream)

    def _prepare_save(self, args: dict[str, Any]) -> tuple[str, str | None, Callable[[], str]]:
        data = _encode(args["content"])
        if len(data) > self.max_write_bytes:
            size, cap = human_size(len(data)), human_size(self.max_write_bytes)
            raise ToolError(f"content is {size}, over the {cap} limit; not written")
        target = self.workspace.resolve_write(args["path"])
        before = files.take_snapshot(target)
        lines = _plural(_count_lines(args["content"]), "line")
        what, preview = "new file", None
        if before.digest is not None:
            what, preview = _overwrite_preview(before, args["content"], data, target.rel)
        title = f"save_file {quoted(target.rel)} ({what}, {lines}, {human_size(len(data))})"
        return title, preview, partial(self._save, args["path"], target, before, data, lines)

    def _save(
        self,
        raw: str,
        target: Resolved,
        before: files.Snapshot,
        data: bytes,
        lines: str,
        verb: str = "",
    ) -> str:
        now = self.workspace.resolve_write(raw)
        current = files.take_snapshot(now)
        if now.real != target.real or current.digest != before.digest:
            raise FileChanged(f"{quoted(target.rel)} changed since the preview; not written")
        # Writing to a file clears its set-id bits on Linux; model text must not keep them.
        set_id = stat.S_ISUID | stat.S_ISGID
        mode = files.new_file_mode() if current.mode is None else current.mode & ~set_id
        parent = os.path.dirname(target.real)
        try:
            os.makedirs(parent, exist_ok=True)
            if os.path.realpath(parent) != parent:  # a directory was swapped for a link
                raise ToolError(f"the directory of {quoted(target.rel)} changed; not written")
            files.atomic_write(target.real, data, mode)
        except OSError as exc:
            raise ToolError(f"could not write {quoted(target.rel)}: {exc.strerror}") from None
        verb = verb or ("created" if before.digest is None else "overwrote")
        return f"{verb} {quoted(target.rel)} ({lines}, {len(data)} bytes)"

    def _prepare_read(self, args: dict[str, Any]) -> tuple[str, str | None, Callable[[], str]]:
        target = self.workspace.resolve_read(args["path"])
        _require_kind(target, "regular file")
        offset, limit = args["offset"], args["limit"]
        title = f"read_file {quoted(target.rel)} (lines {offset}-{offset + limit - 1})"
        return title, None, partial(files.read_text, target, offset, limit)

    def _prepare_list(self, args: dict[str, Any]) -> tuple[str, str | None, Callable[[], str]]:
        target = self.workspace.resolve_read(args["path"])
        _require_kind(target, "directory")
        listing.glob_regex(args["pattern"])  # refuse a bad pattern before any approval
        title = f"list_files {quoted(target.rel)} {quoted(args['pattern'])}"
        skip = self.workspace.is_protected
        return title, None, partial(listing.list_files, target, args["pattern"], skip)


def _overwrite_preview(before: files.Snapshot, new: str, data: bytes, rel: str) -> tuple[str, str]:
    if before.digest == hashlib.sha256(data).hexdigest():
        return "no changes", ""
    if before.text is None:
        why = "not UTF-8 text" if before.size <= files.DIFF_LIMIT else "too large to diff"
        return "overwrite", f"(no diff: the existing file is {why}; it will be replaced)"
    if len(data) > files.DIFF_LIMIT:
        return "overwrite", "(no diff: the new content is too large to diff)"
    diff = files.unified_diff(before.text, new, rel)
    body = [line for line in diff.splitlines()[2:] if line[:1] in "+-"]
    added = sum(line.startswith("+") for line in body)
    return f"overwrite, +{added} -{len(body) - added}", diff


def _require_kind(target: Resolved, kind: str) -> None:
    try:
        actual = file_kind(os.lstat(target.real).st_mode)
    except FileNotFoundError:
        raise ToolError(f"{quoted(target.rel)} does not exist") from None
    if actual != kind:
        hint = "; use list_files for directories" if actual == "directory" else ""
        raise ToolError(f"{quoted(target.rel)} is a {actual}, not a {kind}{hint}")


def _encode(content: str) -> bytes:
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError:
        raise ToolError("content is not valid Unicode text (lone surrogate); not written") from None


def _count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _no_progress(progress: float, total: float | None, message: str | None) -> None:
    pass


def _streaming_only() -> str:
    raise ToolError("a command runs only with run_streaming")


def _error(call: ToolCall, text: str) -> ToolResult:
    return ToolResult(call_id=call.id, name=call.name, content=text, is_error=True)
