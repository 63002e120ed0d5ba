"""Pilot tests of the run_command card: live output, approval, Escape stopping the group."""

from __future__ import annotations

import os
import time

from tests.ui.scripted import (
    ScriptedProvider,
    call_events,
    idle,
    make_app,
    make_runtime,
    text_reply,
    texts,
    tool_reply,
    wait_for,
)
from tui.core.tools.registry import ToolRegistry
from tui.ui.widgets.code_view import CodeView
from tui.ui.widgets.tool_card import ToolCard

SIZE = (100, 40)


def command_app(tmp_path, monkeypatch, line: str, *, allow: tuple[str, ...] = ()):
    provider = ScriptedProvider(
        tool_reply(call_events("run_command", {"command": line, "timeout": 60})),
        text_reply("Ran it."),
    )
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    # The command tool is off by default: turn it on as `[tools] enabled` would.
    tools = runtime.session.tools
    runtime.session.tools = ToolRegistry(
        tmp_path / "ws",
        enabled=(*tools.enabled, "run_command"),
        approval=tools.approval,
        command_allow=allow,
    )
    return make_app(runtime)


async def approve(pilot) -> ToolCard:
    app = pilot.app
    await wait_for(
        pilot, lambda: app.query(ToolCard) and app.query_one(ToolCard).state == "approval"
    )
    card = app.query_one(ToolCard)
    await wait_for(pilot, lambda: app.focused is card, what="the card to take focus")
    assert "run_command" in texts(card.query("#approval-title"))
    assert "every command is asked" in texts(card.query("#approve-prompt"))
    # Every command is asked: no "Always", as a button, in the footer or on `a`.
    assert [button.id for button in card.query("#approve-buttons Button")] == ["yes", "no"]
    assert "Always" not in [
        shown.binding.description for shown in app.active_bindings.values() if shown.enabled
    ]
    await pilot.press("a")
    await pilot.pause()
    assert card.state == "approval"
    await pilot.press("y")
    return card


async def test_output_shows_line_by_line_while_the_command_runs(tmp_path, monkeypatch):
    go = tmp_path / "ws" / "go"
    line = "echo first; while [ ! -e go ]; do sleep 0.02; done; echo second >&2; exit 4"
    app = command_app(tmp_path, monkeypatch, line)
    async with app.run_test(size=SIZE) as pilot:
        app.send("run it")
        card = await approve(pilot)
        output = card.query_one("#output", CodeView)
        await wait_for(pilot, lambda: "first" in output.text, what="the first line")
        assert card.state == "running" and "second" not in output.text
        header = str(card.query_one("#header").render())
        assert "running · 0.0 s · 6 B of output" in header  # the test app's clock stands still
        go.touch()
        await idle(pilot)
        assert output.text == "first\nsecond\n"
        assert card.state == "failed"  # a non-zero exit status
        assert "exit status 4" in texts(card.query(".result"))


async def test_escape_stops_the_command_and_its_children(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    line = (
        "trap '' TERM; echo $$ > pid; (trap '' TERM; sleep 300) & echo $! > child; "
        "echo started; wait"
    )
    app = command_app(tmp_path, monkeypatch, line)
    async with app.run_test(size=SIZE) as pilot:
        app.send("run it")
        card = await approve(pilot)
        output = card.query_one("#output", CodeView)
        await wait_for(pilot, lambda: "started" in output.text, timeout=30, what="the output")
        pids = [int((ws / name).read_text()) for name in ("pid", "child")]
        await pilot.press("escape")
        await idle(pilot)
        assert card.state == "cancelled"
        for pid in pids:
            assert gone(pid), f"process {pid} still runs"
        last = app.runtime.session.history[-1]
        assert last.content == "cancelled by the user; not run"


async def test_an_allow_listed_command_runs_without_asking(tmp_path, monkeypatch):
    app = command_app(tmp_path, monkeypatch, "echo hello", allow=("echo",))
    async with app.run_test(size=SIZE) as pilot:
        app.send("run it")
        await idle(pilot)
        card = app.query_one(ToolCard)
        assert card.state == "done"
        assert card.query_one("#output", CodeView).text == "hello\n"
        assert not app.query("#approval")


def gone(pid: int, limit: float = 20.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as f:  # a zombie nobody reaps is gone
                if f.read().rsplit(")", 1)[-1].split()[0] == "Z":
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.02)
    return False
