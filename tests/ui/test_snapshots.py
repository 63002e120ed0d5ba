"""Snapshots of the key screens (pytest-textual-snapshot; update with --snapshot-update).

The clock is fixed (no rates, time to first token 0.00s) and the prompt's cursor does not
blink, so the screens are stable.
"""

from __future__ import annotations

import json

from tests.ui.scripted import (
    Pause,
    ScriptedProvider,
    call_events,
    idle,
    make_app,
    make_runtime,
    settled,
    text_reply,
    tool_reply,
    wait_for,
)
from tui.ui.app import ChatApp
from tui.ui.widgets.code_view import CodeView
from tui.ui.widgets.diff_view import DiffView
from tui.ui.widgets.tool_card import ToolCard

SIZE = (110, 42)
SOURCE = "".join(
    f'def step_{i}(board):\n    """Advance the board by rule {i}."""\n'
    f"    return [row[:] for row in board]  # rule {i}\n\n\n"
    for i in range(12)
)


async def send(pilot, text: str) -> None:
    app = pilot.app
    assert isinstance(app, ChatApp)
    app.prompt.cursor_blink = False
    app.prompt.load_text(text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.prompt.text == "")


async def approval_shown(pilot) -> ToolCard:
    app = pilot.app
    await wait_for(
        pilot,
        lambda: (
            app.query(ToolCard)
            and app.query(ToolCard).last().state == "approval"
            and app.query("#approve-buttons")
        ),
        what="the approval prompt",
    )
    card = app.query(ToolCard).last()
    await wait_for(pilot, lambda: card.query_one(CodeView).is_highlight_final)
    await settled(pilot)
    return card


def test_demo_welcome_answer_finished(snap_compare, tmp_path, monkeypatch):
    app = make_app(make_runtime(tmp_path, monkeypatch))

    async def run_before(pilot) -> None:
        await send(pilot, "hello")
        await approval_shown(pilot)
        await pilot.press("y")
        await idle(pilot)
        await settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_save_file_streaming_mid_way(snap_compare, tmp_path, monkeypatch):
    pause = Pause()
    call = call_events(
        "save_file",
        {"path": "game/rules.py", "content": SOURCE},
        size=9,
        pause_at=len(SOURCE) // 2,
        pause=pause,
    )
    provider = ScriptedProvider(tool_reply(call, text="Writing the rules module now."))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))

    async def run_before(pilot) -> None:
        await send(pilot, "write the rules module")
        await wait_for(pilot, pause.reached.is_set)
        await wait_for(pilot, lambda: app.query(CodeView))  # mounted by the next frame
        await wait_for(pilot, lambda: "rule 3" in app.query_one(CodeView).text)
        await settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    pause.release()


def test_approval_prompt_with_a_diff(snap_compare, tmp_path, monkeypatch):
    runtime = make_runtime(tmp_path, monkeypatch)
    (tmp_path / "ws" / "notes.md").write_text("# Notes\n\n- buy milk\n- call Bob\n")
    new = "# Notes\n\n- buy oat milk\n- call Bob\n- [TODO] write tests\n"
    provider = ScriptedProvider(
        tool_reply(call_events("save_file", {"path": "notes.md", "content": new}))
    )
    runtime.provider = runtime.session.provider = provider
    app = make_app(runtime)

    async def run_before(pilot) -> None:
        await send(pilot, "update my notes")
        await approval_shown(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_error_note(snap_compare, tmp_path, monkeypatch):
    from providers.errors import ServerError

    provider = ScriptedProvider(
        [
            *text_reply("Let me check")[:-2],
            ServerError("server error 503: overloaded [/INST]", status=503),
        ]
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))

    async def run_before(pilot) -> None:
        await send(pilot, "hi")
        await idle(pilot)
        app.clear_notifications()
        await settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_edit_file_diff_streaming_mid_way(snap_compare, tmp_path, monkeypatch):
    runtime = make_runtime(tmp_path, monkeypatch)
    (tmp_path / "ws" / "rules.py").write_text(SOURCE)
    old = '    """Advance the board by rule 6."""\n    return [row[:] for row in board]  # rule 6\n'
    new = (
        '    """Advance the board by rule 6: cells with three neighbours live."""\n'
        "    size = len(board)\n"
        "    counts = [[neighbours(board, r, c) for c in range(size)] for r in range(size)]\n"
        "    return [[count == 3 for count in row] for row in counts]  # rule 6\n"
    )
    pause = Pause()
    arguments = {"path": "rules.py", "old_string": old, "new_string": new}
    prefix = len(json.dumps(arguments)) - len(json.dumps(new)) - 1
    call = call_events("edit_file", arguments, size=9, pause_at=prefix + 150, pause=pause)
    provider = ScriptedProvider(tool_reply(call, text="Rule 6 becomes Life's birth rule."))
    runtime.provider = runtime.session.provider = provider
    app = make_app(runtime)

    async def run_before(pilot) -> None:
        await send(pilot, "make rule 6 the birth rule")
        await wait_for(pilot, pause.reached.is_set)
        await wait_for(pilot, lambda: app.query(DiffView))  # mounted by the next frame
        view = app.query_one(DiffView)
        await wait_for(pilot, lambda: "counts" in str(view.rows()))
        await settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    pause.release()
