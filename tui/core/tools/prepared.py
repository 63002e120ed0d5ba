"""A checked tool call, ready to show for approval and to run: ``PreparedCall``.

``ToolRegistry.prepare`` (and ``McpTools.prepare`` for MCP tools) build one; the session
shows it for approval, then runs it once: ``run`` (in a thread, via ``run_async``) for file
tools, ``run_async`` with progress for MCP calls, ``run_streaming`` for commands. Nothing
raises out of a run: every failure becomes a ``ToolResult`` with ``is_error=True``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from providers.conversation import ToolCall, ToolResult
from tui.core.tools import edit
from tui.core.tools.paths import FileChanged, ToolError

#: Called while a call runs with (progress, total or None, message or None).
ProgressSink = Callable[[float, float | None, str | None], None]

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
            return self._spent()
        self._finished = True
        try:
            return await self.async_action(progress or _no_progress)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the model gets a result whatever happens
            return self._crashed(exc)

    def run(self) -> ToolResult:
        """Execute the call (synchronously); never raises.

        A write first re-checks the path and the fingerprint taken by
        ``prepare`` and aborts if the file changed since the preview.
        """
        if self._finished:
            return self._spent()
        self._finished = True
        try:
            return ToolResult(self.call.id, self.call.name, self.action())
        except FileChanged as exc:
            self.stale = True
            return self._failed(str(exc))
        except ToolError as exc:
            return self._failed(str(exc))
        except Exception as exc:  # the model gets a result whatever happens
            return self._crashed(exc)

    async def run_streaming(self, on_output: Callable[[str], None]) -> ToolResult:
        """Run a command call, passing its output on as it arrives; never raises.

        Cancelling stops the command (its whole process group) and propagates.
        """
        if self._finished or self.stream is None:
            return self._spent()
        self._finished = True
        try:
            text, failed = await self.stream(on_output)
            return ToolResult(self.call.id, self.call.name, text, is_error=failed)
        except OSError as exc:
            return self._failed(f"could not start: {exc.strerror or exc}")
        except Exception as exc:  # the model gets a result whatever happens
            return self._crashed(exc)

    def refuse(self, reason: str | None = None) -> ToolResult:
        """The result to send when the user declines; the call is never run."""
        self._finished = True
        text = "the user refused this call" + (f": {reason}" if reason else "")
        return ToolResult(self.call.id, self.call.name, text, is_error=True, refused=True)

    def _failed(self, why: str) -> ToolResult:
        return error_result(self.call, f"{self.call.name}: {why}")

    def _spent(self) -> ToolResult:
        return self._failed("this call was already run or refused")

    def _crashed(self, exc: Exception) -> ToolResult:
        return error_result(self.call, f"{self.call.name} failed: {type(exc).__name__}: {exc}")


def error_result(call: ToolCall, text: str) -> ToolResult:
    """The error result sent back to the model for ``call``, saying ``text``."""
    return ToolResult(call_id=call.id, name=call.name, content=text, is_error=True)


def streaming_only() -> str:
    """The ``action`` of a command call, which runs only through ``run_streaming``."""
    raise ToolError("a command runs only with run_streaming")


def _no_progress(progress: float, total: float | None, message: str | None) -> None:
    pass
