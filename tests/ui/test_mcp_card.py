"""An MCP tool call in the TUI: live card, approval, the real server, the result to the model.

The server is tests/support/mcp_server.py, a separate process started by chattui; the model
is a scripted provider (the wire formats are covered by tests/cli/test_pipe_mcp.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from providers.conversation import ToolResult
from tests.ui.scripted import (
    Pause,
    ScriptedProvider,
    call_events,
    idle,
    make_app,
    make_runtime,
    screen_text,
    text_reply,
    texts,
    tool_reply,
    wait_for,
)
from tests.ui.test_app import SIZE, card, type_and_send
from tui.ui.widgets.code_view import CodeView

SERVER = Path(__file__).resolve().parents[1] / "support" / "mcp_server.py"
BODY = "".join(f"line {n}: some text the model writes\n" for n in range(40))


def server_table(name: str = "t", command: str = sys.executable, extra: str = "") -> str:
    return (
        f"\n[mcp.servers.{name}]\ncommand = {json.dumps(command)}\n"
        f"args = [{json.dumps(str(SERVER))}]\n{extra}"
    )


async def test_a_call_streams_live_asks_runs_on_the_server_and_returns(tmp_path, monkeypatch):
    pause = Pause()
    arguments = {"path": "notes/todo.txt", "content": BODY}
    call = call_events("mcp__t__write_file", arguments, pause_at=400, pause=pause)
    provider = ScriptedProvider(tool_reply(call), text_reply("Written."))
    runtime = make_runtime(tmp_path, monkeypatch, provider, extra=server_table())
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        assert runtime.mcp is not None
        await wait_for(pilot, lambda: runtime.mcp.counts() == (1, 1), what="the server")
        await wait_for(pilot, lambda: "mcp 0/1" not in screen_text(app), what="status bar")
        await type_and_send(pilot, "write it")
        await wait_for(pilot, lambda: pause.reached.is_set(), what="the pause")
        await wait_for(pilot, lambda: app.query(CodeView), what="the card (by the next frame)")
        live = card(app)
        # The JSON beside the code view is drawn at its height after a layout: wait for both.
        await wait_for(
            pilot,
            lambda: "line 5: some" in texts([live]) and "todo.txt" in texts(live.query("#args")),
            what="live arguments",
        )
        assert live.state == "streaming" and "mcp__t__write_file" in texts([live])
        assert "line 30" not in texts([live])  # not yet sent by the model
        # The long string argument grows in the code view, the others as JSON beside it.
        code = live.query_one(CodeView)
        assert code.display and code.text.startswith("line 0: some text")
        args = texts(live.query("#args"))
        assert "notes/todo.txt" in args and "line 0" not in args
        pause.release()
        await wait_for(pilot, lambda: live.state == "approval", what="approval")
        assert "Approve?" in screen_text(app)
        await wait_for(pilot, lambda: app.focused is live, what="the card to have focus")
        await pilot.press("y")
        await idle(pilot)
        assert live.state == "done" and code.text == BODY
        assert f"notes/todo.txt: {len(BODY)} characters" in texts([live])
    first, second = provider.requests
    assert "mcp__t__write_file" in {tool.name for tool in first.tools}
    result = second.messages[-1]
    assert isinstance(result, ToolResult) and not result.is_error
    assert result.content == f"notes/todo.txt: {len(BODY)} characters"


async def test_a_server_that_fails_to_start_is_reported_and_its_call_fails(tmp_path, monkeypatch):
    call = call_events("mcp__gone__anything", {"x": 1})
    provider = ScriptedProvider(tool_reply(call), text_reply("ok"))
    extra = server_table("gone", "/nonexistent/mcp-server")
    app = make_app(make_runtime(tmp_path, monkeypatch, provider, extra=extra))
    async with app.run_test(size=SIZE) as pilot:

        def noted() -> str:
            return " ".join(note.message for note in app._notifications)

        await wait_for(pilot, lambda: "command not found" in noted(), what="a notice")
        assert "MCP server 'gone' is not available: command not found" in noted()
        assert "mcp 0/1" in screen_text(app)
        await type_and_send(pilot, "go")
        await idle(pilot)
        assert card(app).state == "failed"
    result = provider.requests[1].messages[-1]
    assert isinstance(result, ToolResult) and result.is_error and "gone" in result.content


async def test_escape_cancels_a_running_call_on_the_server(tmp_path, monkeypatch):
    marker = tmp_path / "slow-started"
    extra = server_table(extra=f'approval = "auto"\nenv = {{ SLOW_MARKER = "{marker}" }}\n')
    call = call_events("mcp__t__slow", {"steps": -1})
    provider = ScriptedProvider(tool_reply(call), text_reply("ok"))
    runtime = make_runtime(tmp_path, monkeypatch, provider, extra=extra)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        assert runtime.mcp is not None
        await wait_for(pilot, lambda: runtime.mcp.counts() == (1, 1), what="the server")
        await type_and_send(pilot, "wait")
        await wait_for(pilot, marker.exists, what="the call to run on the server")
        assert card(app).state == "running"
        await pilot.press("escape")
        await idle(pilot)
        assert card(app).state == "cancelled"
        # The server is still up and answers the next call.
        echo = runtime.mcp.find("mcp__t__echo")
        assert echo is not None
        again = await runtime.mcp.call(echo, {"text": "still here"}, "c2", print)
        assert again.content == "still here"
