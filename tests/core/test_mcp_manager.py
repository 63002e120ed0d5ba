"""The MCP manager against a real server process, over stdio and streamable HTTP.

The server is tests/support/mcp_server.py, written with the SDK's server API:
text, structured, error and image results, progress, a slow call to cancel
and a call that kills the server.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.core.mcp.config import McpServerConfig
from tui.core.mcp.manager import McpManager
from tui.core.mcp.status import ServerState, ServerStatus

SERVER = Path(__file__).resolve().parents[1] / "support" / "mcp_server.py"


def stdio(name: str = "t", **extra: object) -> McpServerConfig:
    return McpServerConfig(name=name, command=sys.executable, args=(str(SERVER),), **extra)  # type: ignore[arg-type]


@pytest.fixture
def http_url() -> Iterator[str]:
    """The test server over streamable HTTP on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def manager_for(tmp_path: Path) -> Iterator[object]:
    made: list[McpManager] = []

    def make(*servers: McpServerConfig, env: dict[str, str] | None = None) -> McpManager:
        changes: list[ServerStatus] = []
        manager = McpManager(servers, tmp_path, tmp_path / "logs", env or dict(os.environ))
        manager.on_change = changes.append
        manager.changes = changes  # type: ignore[attr-defined]
        manager.start()
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.close()


def _tool(manager: McpManager, name: str):  # type: ignore[no-untyped-def]
    tool = manager.find(name)
    assert tool is not None, [t.name for t in manager.tools()]
    return tool


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_every_result_shape(transport: str, manager_for, request) -> None:  # type: ignore[no-untyped-def]
    if transport == "http":
        config = McpServerConfig(name="t", url=request.getfixturevalue("http_url"))
    else:
        config = stdio()
    manager = manager_for(config)
    assert await asyncio.to_thread(manager.wait_settled, 60), manager.statuses()
    assert manager.counts() == (1, 1)
    names = {t.name for t in manager.tools()}
    assert {"mcp__t__echo", "mcp__t__add", "mcp__t__picture", "mcp__t__slow"} <= names
    seen: list[tuple[float, float | None, str | None]] = []

    async def call(name: str, **args: object):  # type: ignore[no-untyped-def]
        return await manager.call(_tool(manager, name), args, "c1", lambda *p: seen.append(p))

    echoed = await call("mcp__t__echo", text="hi \x1b]52;c;bad\x07there")
    assert (echoed.content, echoed.is_error, echoed.call_id) == ("hi there", False, "c1")
    assert '"sum": 5' in (await call("mcp__t__add", a=2, b=3)).content
    failed = await call("mcp__t__fail", why="nope")
    assert failed.is_error and "nope" in failed.content
    image = await call("mcp__t__picture")
    assert image.content == "[image image/png, 70 B]" and not image.is_error
    done = await call("mcp__t__slow", steps=3)
    assert done.content == "done after 3 steps"
    assert seen == [(1.0, 3.0, "step 1"), (2.0, 3.0, "step 2"), (3.0, 3.0, "step 3")]


async def test_cancel_reaches_the_server_and_the_server_stays_up(
    manager_for, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "started"
    manager = manager_for(stdio(env={"SLOW_MARKER": str(marker)}))
    assert await asyncio.to_thread(manager.wait_settled, 60)
    task = asyncio.ensure_future(
        manager.call(_tool(manager, "mcp__t__slow"), {"steps": -1}, "c", lambda *a: None)
    )
    for _ in range(6000):
        if marker.exists():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await manager.call(_tool(manager, "mcp__t__echo"), {"text": "x"}, "d", print)
    assert after.content == "x"


async def test_a_crash_is_an_error_result_then_one_restart(manager_for) -> None:  # type: ignore[no-untyped-def]
    manager = manager_for(stdio())
    assert await asyncio.to_thread(manager.wait_settled, 60)
    crashed = await manager.call(_tool(manager, "mcp__t__crash"), {}, "c", print)
    assert crashed.is_error and "stopped during the call" in crashed.content
    assert manager.statuses()[0].state is ServerState.FAILED
    assert manager.tools() == ()  # its tools left the list
    again = await manager.call(_tool(manager, "mcp__t__echo"), {"text": "back"}, "d", print)
    assert again.content == "back" and manager.statuses()[0].state is ServerState.READY
    await manager.call(_tool(manager, "mcp__t__crash"), {}, "e", print)
    last = await manager.call(_tool(manager, "mcp__t__echo"), {"text": "x"}, "f", print)
    assert last.is_error and "unavailable" in last.content  # restarted once only


async def test_failures_to_start_are_reported_with_stderr(manager_for) -> None:  # type: ignore[no-untyped-def]
    manager = manager_for(
        McpServerConfig(name="gone", command="/nonexistent/server"),
        stdio("refuses", env={"TESTSRV_FAIL_START": "1"}),
        stdio("ok"),
    )
    assert not await asyncio.to_thread(manager.wait_settled, 60)
    by_name = {s.name: s for s in manager.statuses()}
    assert by_name["gone"].state is ServerState.FAILED
    assert "command not found: /nonexistent/server" in str(by_name["gone"].error)
    assert by_name["refuses"].state is ServerState.FAILED
    assert "refusing to start" in str(by_name["refuses"].error)
    assert by_name["ok"].state is ServerState.READY and manager.counts() == (1, 3)
    assert {s.name for s in manager.changes if s.state is ServerState.FAILED} == {"gone", "refuses"}
    log = by_name["refuses"].log
    assert log is not None and "refusing to start" in log.read_text()


def test_close_terminates_the_server_processes(manager_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = set(_children_of(os.getpid()))  # an earlier test's process is not this one's
    manager = manager_for(stdio())
    assert manager.wait_settled(60)
    children = set(_children_of(os.getpid())) - before
    assert children, "the server process should be running"
    manager.close()
    deadline = time.monotonic() + 60  # a safety net on a loaded machine, not a budget
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(_alive(p) for p in children)


def test_the_server_environment_is_minimal() -> None:
    config = stdio(env={"ADDED": "1"}, env_passthrough=("WANTED",))
    env = {"PATH": "/bin", "HOME": "/h", "OPENAI_API_KEY": "sk", "WANTED": "w", "OTHER": "o"}
    assert config.environment(env) == {
        "PATH": "/bin",
        "HOME": "/h",
        "WANTED": "w",
        "ADDED": "1",
    }


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_a_hanging_call_times_out_and_a_huge_reply_is_cut(manager_for) -> None:  # type: ignore[no-untyped-def]
    manager = manager_for(stdio(timeout=0.5))
    assert await asyncio.to_thread(manager.wait_settled, 60)
    hung = await manager.call(_tool(manager, "mcp__t__slow"), {"steps": -1}, "c", print)
    assert hung.is_error and "no answer within 0.5 s (timeout)" in hung.content
    huge = await manager.call(_tool(manager, "mcp__t__echo"), {"text": "x" * 250_000}, "d", print)
    assert not huge.is_error and len(huge.content) < 100_100
    assert huge.content.endswith("[result cut: 150000 more characters not shown]")


class _Page:
    def __init__(self, tools: list[object], cursor: str | None = None) -> None:
        self.tools, self.next_cursor = tools, cursor


class _Listed:
    def __init__(self, name: str, schema: object = None) -> None:
        self.name, self.description = name, "\x1b[31mred\x1b[0m tool"
        self.input_schema = schema if schema is not None else {"type": "object"}


class _Lister:
    """Answers tools/list only: the name and paging rules need no server behind them."""

    def __init__(self, *pages: _Page) -> None:
        self.pages = list(pages)

    async def list_tools(self, params: object = None) -> _Page:
        return self.pages.pop(0)


async def test_name_collisions_and_too_many_tools_are_noted(tmp_path: Path) -> None:
    from tui.core.mcp import listing as module
    from tui.core.mcp.naming import tool_name
    from tui.core.mcp.status import McpTool

    manager = McpManager([stdio("a"), stdio("b")], tmp_path, tmp_path)
    # A tool literally named like another one's reduced name; a name listed twice.
    literal = tool_name("a", "x.y").removeprefix("mcp__a__")
    listed = [_Listed("x.y"), _Listed(literal), _Listed("ok"), _Listed("ok")]
    tools, notes = await manager._list_tools(stdio("a"), _Lister(_Page(listed, "p2"), _Page([])))
    assert [t.name for t in tools] == [tool_name("a", "x.y"), "mcp__a__ok"]
    assert notes == (
        f"tool {literal!r} left out: its name mcp__a__{literal} is taken",
        "tool 'ok' left out: its name mcp__a__ok is taken",
    )
    assert tools[0].description == "red tool"
    # Another server's tools count too (first come, first served).
    manager._set("a", tools=(McpTool("mcp__b__ok", "a", "z", "", {}),))
    tools, notes = await manager._list_tools(stdio("b"), _Lister(_Page([_Listed("ok")])))
    assert tools == () and "is taken" in notes[0]
    module.MAX_TOOLS, saved = 2, module.MAX_TOOLS
    try:
        many = _Lister(_Page([_Listed(f"t{i}") for i in range(3)]))
        tools, notes = await manager._list_tools(stdio("b"), many)
    finally:
        module.MAX_TOOLS = saved
    assert len(tools) == 2 and notes == ("offers more than 2 tools; only the first 2 are used",)


def test_a_schema_that_is_not_an_object_becomes_an_empty_object() -> None:
    from tui.core.mcp.status import McpTool
    from tui.core.mcp.tools import tool_spec

    spec = tool_spec(McpTool("mcp__s__t", "s", "t", "", {"type": "string"}))
    assert spec.parameters == {"type": "object", "properties": {}}
    spec = tool_spec(McpTool("mcp__s__t", "s", "t", "", {"type": "object", "required": ["a"]}))
    assert spec.parameters == {"type": "object", "required": ["a"], "properties": {}}
    assert "MCP server 's'" in spec.description
