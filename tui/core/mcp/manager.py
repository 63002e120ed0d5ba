"""Runs the configured MCP servers in a background thread and calls their tools.

The manager owns one asyncio loop in a daemon thread: the official ``mcp`` SDK
(imported there, lazily, so start-up and the first screen never pay for it)
and every server connection live on that loop, so the UI's loop never parses
a server's messages. Each server is one task that enters the SDK's transport
and ``ClientSession``, initializes, lists its tools, then waits for a stop.

Lifecycle of a server (``ServerState``): ``starting`` -> ``ready``, or
``failed`` (did not start within ``START_TIMEOUT``, exited, or the connection
broke). A failed server's tools leave the list; a call to one of them restarts
the server once (``RESTARTS``), then gets an error result. ``close()`` stops
every server: stdin closed, then SIGTERM and SIGKILL to its process group
(the SDK starts each stdio server in a session of its own).

Security: a stdio server gets a minimal environment
(``McpServerConfig.environment``: ``tui.core.environment.minimal_env`` and the
SDK's own HOME, LOGNAME, PATH, SHELL, TERM, USER) plus its ``env`` and the
variables named in ``env_passthrough``: never chattui's provider keys.
Its stderr goes to ``<data dir>/mcp/<server>.log``, capped at ``LOG_CAP`` bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from providers.conversation import ToolResult
from tui.core.mcp.config import McpServerConfig
from tui.core.mcp.listing import list_tools
from tui.core.mcp.status import McpTool, Progress, ServerState, ServerStatus
from tui.core.mcp.stderr import StderrLog, last_line
from tui.core.sanitize import sanitize

START_TIMEOUT = 30.0
"""Seconds a server has to start, initialize and list its tools."""
CLOSE_TIMEOUT = 8.0
"""Seconds ``close()`` waits for every server to stop (the SDK escalates to SIGKILL by then)."""
_CONNECTION_CLOSED = -32000  # JSON-RPC error codes the SDK uses (mcp_types.jsonrpc)
_REQUEST_TIMEOUT = -32001


@dataclass
class _Server:
    config: McpServerConfig
    status: ServerStatus
    stop: asyncio.Event | None = None
    ready: asyncio.Event | None = None
    session: Any = None
    task: asyncio.Task[None] | None = None
    dirty: bool = False
    refresh: asyncio.Task[None] | None = field(default=None, repr=False)


class McpManager:
    """The MCP servers of one chattui process.

    Args:
        servers: the configured servers (disabled ones are skipped).
        workspace: the default working directory of stdio servers.
        log_dir: where each server's stderr log goes.
        env: chattui's environment (for the minimal server environment and tokens).
        on_change: called from the manager's thread whenever a server's state changes.
    """

    def __init__(
        self,
        servers: Sequence[McpServerConfig],
        workspace: Path,
        log_dir: Path,
        env: Mapping[str, str] = os.environ,
        on_change: Callable[[ServerStatus], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.log_dir = log_dir
        self.env = env
        self.on_change = on_change
        self._servers = {
            s.name: _Server(s, ServerStatus(s.name, ServerState.STARTING))
            for s in servers
            if s.enabled
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._known: dict[str, McpTool] = {}

    # --- what the rest of chattui reads (any thread) ---------------------------------------

    def statuses(self) -> tuple[ServerStatus, ...]:
        """Every server's status, in config order."""
        with self._lock:
            return tuple(s.status for s in self._servers.values())

    def tools(self) -> tuple[McpTool, ...]:
        """The tools of the servers that are up, minus each server's ``disabled_tools``."""
        return tuple(tool for status in self.statuses() for tool in status.tools)

    def find(self, name: str) -> McpTool | None:
        """A tool by its model-facing name: one listed now, or earlier by a server that failed.

        A failed server's tools leave the list, but a call the model still makes to one
        finds it here, so the server is restarted once (``RESTARTS``).
        """
        with self._lock:
            return self._known.get(name)

    def config(self, server: str) -> McpServerConfig | None:
        """A configured (enabled) server's config."""
        entry = self._servers.get(server)
        return entry.config if entry else None

    def counts(self) -> tuple[int, int]:
        """``(ready, total)`` for the status bar's ``mcp 2/3``."""
        states = [s.state for s in self.statuses()]
        return sum(state is ServerState.READY for state in states), len(states)

    def settled(self) -> bool:
        """Whether no server is still starting."""
        return all(s.state is not ServerState.STARTING for s in self.statuses())

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread and every server in the background; returns at once."""
        if self._thread is not None or not self._servers:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="chattui-mcp", daemon=True
        )
        self._thread.start()
        for name in self._servers:
            loop.call_soon_threadsafe(self._begin, name)

    def wait_settled(self, timeout: float = START_TIMEOUT + 5) -> bool:
        """Block until no server is starting (or ``timeout``); True when all are ready."""
        if self._loop is None:
            return all(s.state is ServerState.READY for s in self.statuses())
        future = asyncio.run_coroutine_threadsafe(self._settle(), self._loop)
        with contextlib.suppress(TimeoutError):
            future.result(timeout)
        return all(s.state is ServerState.READY for s in self.statuses())

    def close(self) -> None:
        """Stop every server and the thread (bounded by ``CLOSE_TIMEOUT``)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        future = asyncio.run_coroutine_threadsafe(self._stop_all(), loop)
        with contextlib.suppress(Exception):
            future.result(CLOSE_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(CLOSE_TIMEOUT)

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()
        loop.close()

    # --- calls (from the session's loop) -----------------------------------------------------

    async def call(
        self, tool: McpTool, arguments: Mapping[str, Any], call_id: str, progress: Progress
    ) -> ToolResult:
        """Run one tool call on its server; never raises except ``CancelledError``.

        Cancelling the awaiting task cancels the request on the server
        (the SDK sends ``notifications/cancelled``).
        """
        loop = self._loop
        if loop is None:
            return _error(call_id, tool.name, "MCP servers are shut down; not run")
        future: Future[ToolResult] = asyncio.run_coroutine_threadsafe(
            self._call(tool, dict(arguments), call_id, progress), loop
        )
        return await asyncio.wrap_future(future)

    async def refresh(self) -> None:
        """Wait for tool lists a ``list_changed`` notification asked to re-read (bounded)."""
        loop = self._loop
        if loop is None or not any(s.dirty for s in self._servers.values()):
            return
        future = asyncio.run_coroutine_threadsafe(self._refresh_dirty(), loop)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.wrap_future(future), START_TIMEOUT)

    # --- inside the manager's loop ---------------------------------------------------------

    def _begin(self, name: str) -> None:
        entry = self._servers[name]
        entry.stop, entry.ready = asyncio.Event(), asyncio.Event()
        self._set(name, state=ServerState.STARTING, error=None, tools=())
        entry.task = asyncio.ensure_future(self._launch(entry))

    async def _launch(self, entry: _Server) -> None:
        name, ready = entry.config.name, entry.ready
        assert ready is not None
        outcome: dict[str, Any] = {}
        try:
            await self._serve(entry)
        except asyncio.CancelledError:
            outcome = {"state": ServerState.FAILED, "error": self._why(entry, "stopped")}
        except BaseException as exc:  # the SDK raises many kinds; each becomes a message
            outcome = {"state": ServerState.FAILED, "error": self._why(entry, exc)}
        else:
            if entry.status.state is not ServerState.FAILED:
                outcome = {"state": ServerState.STOPPED}
        finally:
            # A restart may already own the entry: then this run's end changes nothing.
            if entry.task is asyncio.current_task():
                entry.session = None
                if outcome:
                    self._set(name, tools=(), **outcome)
            ready.set()

    async def _serve(self, entry: _Server) -> None:
        from mcp.client.session import ClientSession

        from tui.core.mcp import transports

        async with contextlib.AsyncExitStack() as stack:
            log = self._open_log(entry)
            streams = await stack.enter_async_context(
                transports.open_transport(entry.config, self.workspace, self.env, log)
            )
            session = await stack.enter_async_context(
                ClientSession(*streams, message_handler=self._handler(entry))  # type: ignore[arg-type]
            )
            async with asyncio.timeout(START_TIMEOUT):
                await session.initialize()
                tools, notes = await self._list_tools(entry.config, session)
            entry.session = session
            self._set(
                entry.config.name, state=ServerState.READY, tools=tools, notes=notes, error=None
            )
            assert entry.ready is not None and entry.stop is not None
            entry.ready.set()
            watch = asyncio.ensure_future(log.ended.wait()) if log else None
            stop = asyncio.ensure_future(entry.stop.wait())
            waiting = {stop} | ({watch} if watch else set())
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in waiting - done:
                task.cancel()
            if watch in done:
                entry.session = None
                self._set(
                    entry.config.name,
                    state=ServerState.FAILED,
                    error=self._why(entry, "the server process exited"),
                    tools=(),
                )

    def _open_log(self, entry: _Server) -> StderrLog | None:
        if entry.config.transport != "stdio":
            return None
        loop = asyncio.get_running_loop()
        log = StderrLog(self.log_dir / f"{entry.config.name}.log", loop)
        self._set(entry.config.name, log=log.path)
        return log

    async def _list_tools(
        self, config: McpServerConfig, session: Any
    ) -> tuple[tuple[McpTool, ...], tuple[str, ...]]:
        return await list_tools(config, session, self._names_taken_by_others(config.name))

    def _names_taken_by_others(self, server: str) -> set[str]:
        # Server names hold no "__", so only a reduced or cut name can collide; first one wins.
        with self._lock:
            entries = [e for n, e in self._servers.items() if n != server]
            return {tool.name for entry in entries for tool in entry.status.tools}

    def _handler(self, entry: _Server) -> Callable[[Any], Any]:
        async def handle(message: Any) -> None:
            if type(message).__name__ == "ToolListChangedNotification":
                entry.dirty = True
                if entry.refresh is None or entry.refresh.done():
                    entry.refresh = asyncio.ensure_future(self._refresh_one(entry))

        return handle

    async def _refresh_one(self, entry: _Server) -> None:
        session = entry.session
        if session is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(START_TIMEOUT):
                tools, notes = await self._list_tools(entry.config, session)
            entry.dirty = False
            if entry.session is session:
                self._set(entry.config.name, tools=tools, notes=notes)

    async def _refresh_dirty(self) -> None:
        for entry in self._servers.values():
            if entry.dirty:
                pending = entry.refresh
                if pending is not None and not pending.done():
                    await asyncio.wait([pending])
                else:
                    await self._refresh_one(entry)

    async def _settle(self) -> None:
        for entry in list(self._servers.values()):
            while entry.ready is None:
                await asyncio.sleep(0.01)
            await entry.ready.wait()

    async def _stop_all(self) -> None:
        tasks = []
        for entry in self._servers.values():
            if entry.stop is not None:
                entry.stop.set()
            if entry.task is not None and not entry.task.done():
                if entry.status.state is ServerState.STARTING:
                    entry.task.cancel()
                tasks.append(entry.task)
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT - 1)

    async def _call(
        self, tool: McpTool, arguments: dict[str, Any], call_id: str, progress: Progress
    ) -> ToolResult:
        entry = self._servers.get(tool.server)
        if entry is None:
            return _error(call_id, tool.name, f"MCP server {tool.server!r} is not configured")
        session = await self._usable_session(entry)
        if session is None:
            why = entry.status.error or "it is not running"
            return _error(call_id, tool.name, f"MCP server {tool.server!r} is unavailable: {why}")

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress(done, total, sanitize(message) if message else None)

        from tui.core.mcp.results import to_tool_result

        try:
            result = await session.call_tool(
                tool.tool,
                arguments,
                read_timeout_seconds=entry.config.timeout,
                progress_callback=on_progress,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return _error(call_id, tool.name, self._call_failure(entry, exc))
        return to_tool_result(call_id, tool.name, result)

    async def _usable_session(self, entry: _Server) -> Any:
        if entry.ready is not None and not entry.ready.is_set():
            await entry.ready.wait()
        if entry.session is not None:
            return entry.session
        if entry.status.state is ServerState.FAILED and entry.status.restarts_left > 0:
            self._set(entry.config.name, restarts_left=entry.status.restarts_left - 1)
            if entry.task is not None and not entry.task.done():
                await asyncio.wait([entry.task], timeout=CLOSE_TIMEOUT)
            self._begin(entry.config.name)
            assert entry.ready is not None
            await entry.ready.wait()
        return entry.session

    def _call_failure(self, entry: _Server, exc: Exception) -> str:
        code = getattr(exc, "code", None)
        text = sanitize(str(getattr(exc, "message", "") or exc)) or type(exc).__name__
        if code == _REQUEST_TIMEOUT or isinstance(exc, TimeoutError):
            return f"no answer within {entry.config.timeout:g} s (timeout); the call was cancelled"
        if code != _CONNECTION_CLOSED:
            return f"the MCP server answered with an error: {text}"
        # The connection broke during the call: the server crashed or went away.
        why = f"the server stopped during a call ({text})"
        entry.session = None
        self._set(entry.config.name, state=ServerState.FAILED, error=why, tools=())
        if entry.stop is not None:
            entry.stop.set()
        restart = "; it is restarted on its next use" if entry.status.restarts_left else ""
        return f"MCP server {entry.config.name!r} stopped during the call ({text}){restart}"

    def _why(self, entry: _Server, exc: BaseException | str) -> str:
        if isinstance(exc, str):
            text = exc
        elif isinstance(exc, TimeoutError):
            text = f"did not start within {START_TIMEOUT:g} s"
        elif isinstance(exc, FileNotFoundError):
            text = f"command not found: {entry.config.command}"
        else:
            text = _describe(exc)
        tail = last_line(entry.status.log)
        return sanitize(f"{text} (stderr: {tail})" if tail else text)

    def _set(self, name: str, **changes: Any) -> None:
        entry = self._servers[name]
        with self._lock:
            entry.status = replace(entry.status, **changes)
            status = entry.status
            self._known.update((tool.name, tool) for tool in status.tools)
        if self.on_change is not None and ("state" in changes or "tools" in changes):
            with contextlib.suppress(Exception):  # a UI callback must not break a server
                self.on_change(status)


def _describe(exc: BaseException) -> str:
    """One line for an exception (exception groups from task groups are unwrapped)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _error(call_id: str, name: str, text: str) -> ToolResult:
    return ToolResult(call_id, name, f"{name}: {text}", is_error=True)
