"""Pilot tests of ChatApp: every user flow, against a scripted provider or the offline demo."""

from __future__ import annotations

import asyncio
import gc
import importlib
import io
import itertools
import json
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from providers.conversation import ToolResult
from providers.conversation import UserMessage as UserMsg
from providers.errors import RateLimitError, ServerError
from providers.events import (
    Finish,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
)
from tests.support.spy import spy
from tests.ui.scripted import (
    Pause,
    ScriptedProvider,
    call_events,
    count_parses,
    idle,
    make_app,
    make_runtime,
    paused_answer,
    pieces,
    screen_text,
    search_palette,
    text_reply,
    texts,
    tool_reply,
    wait_for,
)
from tui.cli import build_parser
from tui.core.session import StepStarted
from tui.core.transcript import load
from tui.ui import app as app_module
from tui.ui import pacing
from tui.ui.app import ChatApp
from tui.ui.widgets import conversation as conversation_module
from tui.ui.widgets.code_view import CodeView
from tui.ui.widgets.footer import ChatFooter
from tui.ui.widgets.messages import (
    AssistantText,
    AssistantTurn,
    ErrorNote,
    ReasoningBlock,
    TurnNote,
    UserMessage,
)
from tui.ui.widgets.prompt import Prompt
from tui.ui.widgets.tool_card import ToolCard

SIZE = (100, 40)
LIFE = "import sys\n\n\ndef main():\n    print('life')\n    return 0\n\n\nsys.exit(main())\n"


async def type_and_send(pilot, text: str) -> None:
    await pilot.click(Prompt)
    for char in text:
        await pilot.press("space" if char == " " else char)
    await pilot.press("enter")
    # The prompt is cleared by the handler that starts (or queues) the turn.
    await wait_for(pilot, lambda: pilot.app.prompt.text == "", what="the prompt to be sent")


def card(app) -> ToolCard:
    return app.query(ToolCard).last()


# -- send and stream ---------------------------------------------------------------------------


async def test_send_streams_text_reasoning_and_a_code_fence(tmp_path, monkeypatch):
    answer = "Here is code:\n\n```python\nprint('hi')\n```\n\nDone."
    provider = ScriptedProvider(text_reply(answer, reasoning="Let me think about it."))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hi")
        await idle(pilot)
        assert [m.source for m in app.query(UserMessage)] == ["hi"]
        assert app.query_one(AssistantText).raw == answer
        assert "print('hi')" in texts(app.query(AssistantText))  # the fence, drawn
        reasoning = app.query_one(ReasoningBlock)
        assert reasoning.source == "Let me think about it."
        assert reasoning.collapsed and reasoning.title == "Reasoning"
        assert app.status_bar.state == "idle"
        assert "in 12" in str(app.status_bar.render())
        assert provider.requests[0].messages[-1] == UserMsg("hi")
        assert app.internal_errors == []


STREAMED = (
    "# Title\n\nThis is the **offline demo**: no API key and no network, but every byte goes\n"
    "through the same streaming parser as a real model.\n\nWhat to watch for:\n\n"
    "- **Tool calls render live.** The card shows the file.\n- **Nothing runs** without you.\n"
)


async def test_markdown_is_right_while_it_streams(tmp_path, monkeypatch):
    pause = Pause()
    cut = STREAMED.index("Nothing")  # mid list item: its "- **" shows as typed so far
    events = [TextDelta(p) for p in pieces(STREAMED[:cut], 3)]
    provider = ScriptedProvider([*events, pause, TextDelta(STREAMED[cut:]), Finish("stop")])
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "go")
        await wait_for(pilot, pause.reached.is_set)
        await wait_for(pilot, lambda: "card shows" in texts(app.query(AssistantText)))
        await pilot.pause(0.1)
        shown = texts(app.query(AssistantText)).replace("•", " ")  # wrapped lines, bullets
        plain = " ".join(STREAMED.replace("**", "").split())
        lines = [" ".join(line.split()) for line in shown.splitlines() if line.strip()]
        assert " ".join(lines).startswith(
            "Title This is the offline demo: no API key and no network, but every byte goes "
            "through the same streaming parser as a real model. What to watch for:"
        )
        assert all(line in plain for line in lines[:-1]), lines
        pause.release()
        await idle(pilot)


async def test_reasoning_is_open_while_it_streams(tmp_path, monkeypatch):
    pause = Pause()
    provider = ScriptedProvider(
        [
            *text_reply("", reasoning="thinking hard")[:-2],
            pause,
            TextDelta("answer"),
            Finish("stop"),
        ]
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "q")
        await wait_for(pilot, pause.reached.is_set)
        await wait_for(
            pilot,
            lambda: (
                app.query(ReasoningBlock) and "thinking hard" in texts(app.query(ReasoningBlock))
            ),
        )
        assert not app.query_one(ReasoningBlock).collapsed
        pause.release()
        await idle(pilot)
        assert app.query_one(ReasoningBlock).collapsed


async def test_text_after_a_tool_card_starts_a_new_block_in_order(tmp_path, monkeypatch):
    provider = ScriptedProvider(
        tool_reply(call_events("list_files", {"path": "."}), text="Looking."),
        text_reply("Found nothing."),
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "list")
        await idle(pilot)
        turn = app.query_one(AssistantTurn)
        kinds = [type(child).__name__ for child in turn.children]
        assert kinds == ["AssistantText", "ToolCard", "AssistantText"]
        assert card(app).state == "done"  # read-only tools run without approval
        assert isinstance(provider.requests[1].messages[-1], ToolResult)


# -- the live save_file card -------------------------------------------------------------------


async def test_save_file_card_shows_path_and_content_before_the_call_completes(
    tmp_path, monkeypatch
):
    pause = Pause()
    call = call_events(
        "save_file", {"path": "src/life.py", "content": LIFE}, size=6, pause_at=60, pause=pause
    )
    provider = ScriptedProvider(tool_reply(call))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "write it")
        await wait_for(pilot, pause.reached.is_set, what="the pause")
        await wait_for(pilot, lambda: app.query(CodeView), what="the card (by the next frame)")
        view = app.query_one(CodeView)
        await wait_for(pilot, lambda: "def main" in view.text, what="partial content")
        live = card(app)
        assert live.state == "streaming"
        assert LIFE.startswith(view.text) and view.text != LIFE  # partial, in order
        header = str(live.query_one("#header").render())
        assert "src/life.py" in header and "streaming" in header and "lines" in header
        assert view.language == "Python"
        assert not view.is_complete
        assert not (tmp_path / "ws" / "src" / "life.py").exists()
        pause.release()
        await wait_for(pilot, lambda: live.state == "approval", what="approval")
        assert view.text == LIFE.rstrip("\n") + "\n" or view.text == LIFE
        assert view.is_complete
        app.action_cancel()
        await idle(pilot)


async def test_call_delivered_in_one_piece_shows_receiving_then_renders(tmp_path, monkeypatch):
    pause = Pause()
    provider = ScriptedProvider(
        [
            ToolCallStart(0, "c1", "list_files"),
            pause,
            ToolCallDelta(0, '{"path": ".", "pattern": "*.py"}'),
            ToolCallEnd(0),
            Finish("tool_calls"),
        ],
        then=text_reply("ok"),
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "ls")
        await wait_for(pilot, pause.reached.is_set)
        await wait_for(pilot, lambda: app.query(ToolCard))
        await pilot.pause(0.1)
        live = card(app)
        assert live.state == "receiving"
        assert live.query_one("#receiving").display
        assert "receiving" in str(live.query_one("#header").render())
        pause.release()
        await idle(pilot)
        assert not live.query_one("#receiving").display
        shown = texts([live.query_one("#args")])
        assert '"pattern": "*.py"' in shown


# -- approval ----------------------------------------------------------------------------------


def save_then_text(path: str = "demo/out.py", content: str = LIFE, text: str = "Saved."):
    return (
        tool_reply(call_events("save_file", {"path": path, "content": content})),
        text_reply(text),
    )


async def test_approve_with_y_writes_the_file_and_returns_focus(tmp_path, monkeypatch):
    provider = ScriptedProvider(*save_then_text())
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "save")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause()
        live = card(app)
        assert app.focused is live  # so y cannot land in the prompt
        assert "Approve?" in screen_text(app)
        assert app.status_bar.state == "approval"
        target = tmp_path / "ws" / "demo" / "out.py"
        assert not target.exists()  # nothing runs before approval
        await pilot.press("y")
        await idle(pilot)
        assert target.read_text() == LIFE
        assert live.state == "done"
        assert app.prompt.text == ""
        assert app.focused is app.prompt
        assert "created" in texts(live.query(".result"))
        assert "Saved." in app.query(AssistantText).last().raw


async def test_approve_with_the_mouse(tmp_path, monkeypatch):
    provider = ScriptedProvider(*save_then_text())
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "save")
        await wait_for(pilot, lambda: app.query("#yes"))
        await pilot.pause()
        await pilot.click("#yes")
        await idle(pilot)
        assert (tmp_path / "ws" / "demo" / "out.py").read_text() == LIFE


async def test_refuse_with_n_and_a_reason_that_reaches_the_model(tmp_path, monkeypatch):
    provider = ScriptedProvider(*save_then_text(text="Understood."))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "save")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause()
        await pilot.press("n")
        await wait_for(pilot, lambda: app.query("#reason"))
        await pilot.pause()
        assert isinstance(app.focused, Input)
        for key in "not now":
            await pilot.press("space" if key == " " else key)
        assert card(app).state == "approval"  # y/n/a typed in the reason are just text
        await pilot.press("enter")
        await idle(pilot)
        result = provider.requests[1].messages[-1]
        assert isinstance(result, ToolResult) and result.is_error
        assert "not now" in result.content
        assert not (tmp_path / "ws" / "demo" / "out.py").exists()
        assert card(app).state == "refused"
        assert app.focused is app.prompt


async def test_refuse_with_escape_sends_no_reason(tmp_path, monkeypatch):
    provider = ScriptedProvider(*save_then_text())
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "save")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause()
        await pilot.press("n")
        await wait_for(pilot, lambda: app.query("#reason"))
        await pilot.pause()
        await pilot.press("escape")
        await idle(pilot)
        result = provider.requests[1].messages[-1]
        assert result.content == "the user refused this call"
        assert app.query(AssistantTurn).last().status == "stop"  # Escape did not cancel


async def test_always_with_a_stops_asking_for_that_tool(tmp_path, monkeypatch):
    first = save_then_text("a.txt", "one\n")
    second = save_then_text("b.txt", "two\n")
    provider = ScriptedProvider(*first, *second)
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "first")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause()
        await pilot.press("a")
        await idle(pilot)
        await type_and_send(pilot, "second")
        await idle(pilot)
        assert (tmp_path / "ws" / "a.txt").read_text() == "one\n"
        assert (tmp_path / "ws" / "b.txt").read_text() == "two\n"
        assert [c.state for c in app.query(ToolCard)] == ["done", "done"]


async def test_keys_typed_as_the_question_appears_do_not_answer_it(tmp_path, monkeypatch):
    """y / n / a within the grace after the question (or after a key ignored) answer nothing."""
    now = [100.0]
    provider = ScriptedProvider(*save_then_text("a.txt", "one\n"))
    app = make_app(
        make_runtime(tmp_path, monkeypatch, provider), clock=lambda: now[0], approval_grace=0.4
    )
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "first")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.press("a")  # typed as the question took focus
        now[0] += 0.3
        await pilot.press("y")  # 0.3 s after it appeared: still part of the burst
        now[0] += 0.3
        await pilot.press("n")  # 0.6 s after it appeared, but 0.3 s after the last key
        await pilot.pause()
        assert card(app).state == "approval" and not app.query("#reason")
        assert not (tmp_path / "ws" / "a.txt").exists()
        now[0] += 0.5  # a pause, then a deliberate key
        await pilot.press("y")
        await idle(pilot)
        assert card(app).state == "done"
        assert (tmp_path / "ws" / "a.txt").read_text() == "one\n"
        assert app.runtime.session.tools.needs_approval("save_file")  # "a" was never taken


async def test_existing_file_shows_the_diff_before_approval(tmp_path, monkeypatch):
    runtime = make_runtime(tmp_path, monkeypatch)
    (tmp_path / "ws" / "demo").mkdir()
    (tmp_path / "ws" / "demo" / "out.py").write_text(LIFE.replace("life", "old"))
    provider = ScriptedProvider(*save_then_text())
    runtime.provider = runtime.session.provider = provider
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "save")
        await wait_for(pilot, lambda: app.query("#diff"))
        diff = texts(app.query("#diff"))
        assert "-    print('old')" in diff and "+    print('life')" in diff
        await pilot.press("y")
        await idle(pilot)


# -- cancel, queue, retry, errors ---------------------------------------------------------------


async def test_escape_cancels_keeps_the_partial_and_the_next_prompt_works(tmp_path, monkeypatch):
    pause = Pause()
    provider = ScriptedProvider(
        [TextDelta("partial "), TextDelta("answer"), pause, TextDelta(" never"), Finish("stop")],
        text_reply("second one"),
    )
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "first")
        await wait_for(pilot, pause.reached.is_set)
        await pilot.pause(0.1)
        await pilot.press("escape")
        await idle(pilot)
        assert provider.cancelled == 1 and provider.closed == 1  # the stream was closed
        turn = app.query(AssistantTurn).first()
        assert turn.status == "cancelled"
        assert turn.source == "partial answer"
        assert "cancelled" in texts(turn.query(TurnNote))
        assert app.status_bar.state == "cancelled"
        entries = load(runtime.transcript.path).entries
        assert entries[-1].status == "cancelled" and entries[-1].message.text == "partial answer"
        await type_and_send(pilot, "again")
        await idle(pilot)
        assert app.query(AssistantTurn).last().source == "second one"


async def test_escape_while_waiting_for_approval_cancels_without_running(tmp_path, monkeypatch):
    provider = ScriptedProvider(*save_then_text())
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "save")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause()
        await pilot.press("escape")
        await idle(pilot)
        assert card(app).state == "cancelled"
        assert not app.query("#approval")
        assert not (tmp_path / "ws" / "demo" / "out.py").exists()
        assert app.focused is app.prompt


async def test_prompt_sent_while_busy_is_queued_then_sent(tmp_path, monkeypatch):
    pause, provider = paused_answer(text_reply("two"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "first")
        await wait_for(pilot, pause.reached.is_set)
        await type_and_send(pilot, "second")
        await pilot.pause()
        queued = app.query("#queue UserMessage")
        assert [q.source for q in queued] == ["second"] and queued.first().has_class("-queued")
        assert app.queue == ["second"] and len(provider.requests) == 1
        pause.release()
        await idle(pilot)
        assert not app.query("#queue UserMessage")
        assert provider.requests[1].messages[-1] == UserMsg("second")
        assert [m.source for m in app.query("#conversation UserMessage")] == ["first", "second"]


async def test_queued_prompt_goes_back_to_the_input_after_cancel(tmp_path, monkeypatch):
    pause, provider = paused_answer()
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "first")
        await wait_for(pilot, pause.reached.is_set)
        await type_and_send(pilot, "later")
        await pilot.press("escape")
        await idle(pilot)
        assert app.prompt.text == "later"  # typed text is never lost
        assert len(provider.requests) == 1


async def test_error_note_then_retry(tmp_path, monkeypatch):
    provider = ScriptedProvider(
        [TextDelta("half"), ServerError("server error 500", status=500)], text_reply("recovered")
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "go")
        await idle(pilot)
        note = app.query_one(ErrorNote)
        shown = texts([note])
        assert "server error 500" in shown and "retry" in shown and "\n" not in shown.strip()
        assert app.status_bar.state == "error"
        await pilot.press("ctrl+r")
        await idle(pilot)
        assert app.query(AssistantTurn).last().source == "recovered"
        assert [m for m in provider.requests[1].messages if isinstance(m, UserMsg)] == [
            UserMsg("go")
        ]
        assert app.status_bar.state == "idle"


class RequestNoting(ScriptedProvider):
    """Sets ``requested`` as a request is made."""

    def __init__(self, *scripts) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*scripts)
        self.requested = asyncio.Event()

    def stream(self, request):  # type: ignore[no-untyped-def]
        self.requested.set()
        return super().stream(request)


async def test_the_request_leaves_before_the_prompt_and_the_turn_are_mounted(tmp_path, monkeypatch):
    """The mount (and the frame showing it) overlaps the request's round trip: here the
    mount cannot finish until the request is made (a request waiting for it would never
    be); what the reply brings still lands in the turn, after the prompt."""
    provider = RequestNoting(text_reply("the answer"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        add = app.conversation.add

        async def add_once_requested(*widgets):  # type: ignore[no-untyped-def]
            await asyncio.wait_for(provider.requested.wait(), 10)
            await add(*widgets)

        app.conversation.add = add_once_requested  # type: ignore[method-assign]
        app.send("hi")
        await idle(pilot)
        shown = app.conversation.children[-2:]
        assert isinstance(shown[0], UserMessage) and isinstance(shown[1], AssistantTurn)
        assert shown[1].source == "the answer"
        assert app.internal_errors == []


async def test_a_request_that_fails_at_once_is_noted_after_the_prompt(tmp_path, monkeypatch):
    provider = ScriptedProvider([ServerError("server error 500", status=500)])
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        app.send("go")
        await idle(pilot)
        kinds = [type(widget) for widget in app.conversation.children[-2:]]
        assert kinds == [UserMessage, ErrorNote]  # the empty turn removed, the note after
        assert app.internal_errors == []


async def test_escape_before_the_turn_is_mounted_cancels_cleanly(tmp_path, monkeypatch):
    pause = Pause()
    provider = ScriptedProvider([pause, TextDelta("never"), Finish("stop")])
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        app.send("go")
        await wait_for(pilot, pause.reached.is_set)  # the request is out: maybe not the mount
        app.action_cancel()
        await idle(pilot)
        assert app.status_bar.state == "cancelled"
        assert isinstance(app.conversation.children[-1], AssistantTurn | UserMessage)
        assert app.internal_errors == []
        assert not app.busy


async def test_escape_while_an_event_waits_for_the_mount_still_ends_the_turn(tmp_path, monkeypatch):
    # The reply's first event that needs the turn came before its mount was done, and the
    # worker was cancelled while waiting for it: the mount must not be cancelled with it (the
    # turn's end waits for the mount, and a cancelled one skipped the end: no "cancelled").
    provider = ScriptedProvider(text_reply("partial"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        add, gate, waiting = app.conversation.add, asyncio.Event(), asyncio.Event()

        async def add_when_let(*widgets):  # type: ignore[no-untyped-def]
            waiting.set()
            await gate.wait()
            await add(*widgets)

        app.conversation.add = add_when_let  # type: ignore[method-assign]
        app.send("go")
        # The reply's first text has reached the pump (the status bar saw it), which waits
        # for the mount before the text's block can start.
        await wait_for(pilot, lambda: app.status_bar.state == "streaming", what="the text")
        await pilot.pause()
        assert waiting.is_set() and not gate.is_set() and app.busy
        app.action_cancel()
        await pilot.pause()
        gate.set()
        await idle(pilot)
        assert app.status_bar.state == "cancelled"
        turn = app.conversation.children[-1]
        assert isinstance(turn, AssistantTurn) and "cancelled" in texts(turn.query(TurnNote))
        assert app.internal_errors == [] and app._renderer is None


async def test_escape_handled_before_the_turn_worker_ran_unsends_the_prompt(tmp_path, monkeypatch):
    # Enter and Escape read from the terminal together are handled in one go, before the
    # worker's first step. Before: Textual leaves a worker cancelled then RUNNING for good,
    # and the app stayed busy (every later prompt queued, never sent).
    provider = ScriptedProvider(text_reply("never"), text_reply("second answer"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        app.prompt.load_text("typed after")
        app.send("first")
        app.action_cancel()
        await wait_for(pilot, lambda: not app.busy, what="the turn to end")
        assert provider.requests == [] and app.status_bar.state == "cancelled"
        assert app.prompt.text == "first\n\ntyped after"  # nothing typed is lost
        assert not app.query(UserMessage)
        app.prompt.clear()
        await type_and_send(pilot, "again")
        await idle(pilot)
        assert app.query(AssistantTurn).last().source == "never"  # the next prompt is sent


async def test_r_on_the_focused_error_note_retries(tmp_path, monkeypatch):
    provider = ScriptedProvider([RateLimitError("rate limited", status=429)], text_reply("ok!"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "go")
        await idle(pilot)
        await pilot.click(ErrorNote)
        await pilot.press("r")
        await idle(pilot)
        assert app.query(AssistantTurn).last().source == "ok!"


async def test_unexpected_exception_in_the_worker_becomes_a_note(tmp_path, monkeypatch):
    provider = ScriptedProvider([TextDelta("x"), RuntimeError("kaboom")], text_reply("fine"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "go")
        await idle(pilot)
        assert "internal error: RuntimeError: kaboom" in texts(app.query(ErrorNote))
        assert app.is_running
        await type_and_send(pilot, "again")
        await idle(pilot)
        assert app.query(AssistantTurn).last().source == "fine"


async def test_retrying_shows_in_the_status_bar(tmp_path, monkeypatch):
    pause = Pause()
    provider = ScriptedProvider(
        [Retrying(1, 7.0, "HTTP 429 rate limited"), pause, *text_reply("ok")]
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "go")
        await wait_for(pilot, pause.reached.is_set)
        await wait_for(pilot, lambda: "retrying" in str(app.status_bar.render()))
        assert "rate limited — retrying in 7 s" in str(app.status_bar.render())
        pause.release()
        await idle(pilot)


# -- prompt, keys, palette ---------------------------------------------------------------------


async def test_up_and_down_recall_earlier_prompts(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("a"), text_reply("b"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "one")
        await idle(pilot)
        await type_and_send(pilot, "two")
        await idle(pilot)
        for key in "dra":
            await pilot.press(key)
        await pilot.press("up")
        assert app.prompt.text == "two"
        await pilot.press("up")
        assert app.prompt.text == "one"
        await pilot.press("down")
        assert app.prompt.text == "two"
        await pilot.press("down")
        assert app.prompt.text == "dra"  # the draft comes back


async def test_shift_enter_and_ctrl_j_insert_newlines(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("a"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c")
        assert app.prompt.text == "a\nb\nc"
        await pilot.press("enter")
        await idle(pilot)
        assert provider.requests[0].messages[-1] == UserMsg("a\nb\nc")


async def test_typing_while_streaming_is_kept(tmp_path, monkeypatch):
    pause, provider = paused_answer()
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "first")
        await wait_for(pilot, pause.reached.is_set)
        await pilot.press("n", "e", "x", "t")
        pause.release()
        await idle(pilot)
        assert app.prompt.text == "next"


async def test_ctrl_n_starts_a_new_conversation(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("a"))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await idle(pilot)
        old = runtime.transcript.id
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert [type(w).__name__ for w in app.query("#conversation > *")] == ["Welcome"]
        assert runtime.transcript.id != old and runtime.session.history == []


async def test_ctrl_y_copies_the_last_answer(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("first"), text_reply("**second** `x`"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "a")
        await idle(pilot)
        await type_and_send(pilot, "b")
        await idle(pilot)
        await pilot.press("ctrl+y")
        assert app.clipboard == "**second** `x`"


async def test_ctrl_y_on_a_focused_card_copies_the_file(tmp_path, monkeypatch):
    provider = ScriptedProvider(*save_then_text())
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "save")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause()
        await pilot.press("ctrl+y")
        assert app.clipboard == LIFE
        await pilot.press("y")
        await idle(pilot)


async def palette(pilot, query: str) -> None:
    await search_palette(pilot, query)
    await pilot.press("enter")
    await pilot.pause()


async def test_palette_export_writes_markdown_into_the_workspace(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("exported answer"))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await idle(pilot)
        await palette(pilot, "export markdown")
        target = tmp_path / "ws" / f"{runtime.transcript.id}.md"
        await wait_for(pilot, target.exists)
        assert "exported answer" in target.read_text()


async def test_palette_switches_provider(tmp_path, monkeypatch):
    runtime = make_runtime(tmp_path, monkeypatch)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        assert "demo · demo" in str(app.status_bar.render())
        await palette(pilot, "switch provider backup")
        assert runtime.provider_config.name == "backup"
        assert "backup · demo" in str(app.status_bar.render())


async def test_palette_toggles_reasoning(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("a", reasoning="hmm"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "q")
        await idle(pilot)
        assert app.query_one(ReasoningBlock).display
        await palette(pilot, "toggle reasoning")
        assert not app.query_one(ReasoningBlock).display


async def reopen(pilot, runtime) -> None:
    """Start a new conversation, then open the one before it again from the palette."""
    saved = runtime.transcript.id
    await pilot.press("ctrl+n")
    await pilot.pause()
    await palette(pilot, f"open transcript {saved}")
    await wait_for(pilot, lambda: runtime.transcript.id == saved, what="resume")
    await pilot.pause()


async def test_palette_opens_a_saved_transcript_and_resumes_it(tmp_path, monkeypatch):
    provider = ScriptedProvider(
        *save_then_text("notes.md", "# notes\n", "Wrote notes."), text_reply("continuing")
    )
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "remember this")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause()
        await pilot.press("y")
        await idle(pilot)
        await reopen(pilot, runtime)
        assert [m.source for m in app.query(UserMessage)] == ["remember this"]
        resumed = card(app)
        assert resumed.state == "done" and "notes.md" in str(resumed.query_one("#header").render())
        assert app.query(AssistantText).last().raw == "Wrote notes."
        await type_and_send(pilot, "more")
        await idle(pilot)
        sent = provider.requests[-1].messages
        assert sent[0] == UserMsg("remember this") and sent[-1] == UserMsg("more")
        assert len(load(runtime.transcript.path).entries) > 4


async def test_a_call_cut_short_shows_what_had_streamed_when_resumed(tmp_path, monkeypatch):
    # Before: the resumed card said "invalid arguments · 0 B · 0 lines", though the
    # transcript holds the arguments that had streamed when the turn was cancelled.
    pause = Pause()
    arguments = {"path": "life.py", "content": LIFE}
    call = call_events(
        "save_file", arguments, pause_at=len(json.dumps(arguments)) - 20, pause=pause
    )
    runtime = make_runtime(tmp_path, monkeypatch, ScriptedProvider(tool_reply(call)))
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "write it")
        await wait_for(pilot, pause.reached.is_set)
        await wait_for(pilot, lambda: app.query(CodeView), what="the card (by the next frame)")
        await wait_for(pilot, lambda: "print('life')" in card(app).query_one(CodeView).text)
        live = card(app).query_one(CodeView)
        live_text, live_lines = live.text, live.line_count
        await pilot.press("escape")
        await idle(pilot)
        await reopen(pilot, runtime)
        resumed = card(app)
        header = str(resumed.query_one("#header").render())
        assert resumed.state == "cancelled" and "life.py" in header and "invalid" not in header
        view = resumed.query_one(CodeView)
        assert (view.text, view.line_count) == (live_text, live_lines)
        assert f"{live_lines} lines" in header


async def test_demo_end_to_end(tmp_path, monkeypatch):
    runtime = make_runtime(tmp_path, monkeypatch)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        assert "demo/life.py" in str(card(app).query_one("#header").render())
        await pilot.pause()
        await pilot.press("y")
        await idle(pilot)
        assert (tmp_path / "ws" / "demo" / "life.py").exists()
        assert "Done:" in app.query(AssistantText).last().raw
        assert app.internal_errors == []


async def test_answering_the_approval_keeps_following_the_output(tmp_path, monkeypatch):
    app = make_app(make_runtime(tmp_path, monkeypatch))  # the demo: taller than the screen
    async with app.run_test(size=(80, 24)) as pilot:
        await type_and_send(pilot, "hello")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause(0.1)
        assert app.conversation.following
        await pilot.press("n")
        await wait_for(pilot, lambda: app.query("#reason"))
        await pilot.press("x", "enter")
        await idle(pilot)
        await pilot.pause(0.2)
        conv = app.conversation
        assert conv.following and conv.scroll_y == conv.max_scroll_y > 0
        assert not app.query_one("#new-below").display
        assert "No problem" in app.query(AssistantText).last().raw


# -- scrolling and memory ------------------------------------------------------------------------


async def test_scrolling_up_stops_following_and_shows_a_hint(tmp_path, monkeypatch):
    pause = Pause()
    long = "\n\n".join(f"Paragraph {i}." for i in range(60))
    provider = ScriptedProvider(
        [*[TextDelta(p) for p in long.split(" ")], pause, TextDelta("\n\nMore."), Finish("stop")]
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "long")
        await wait_for(pilot, pause.reached.is_set)
        conv = app.conversation
        await wait_for(pilot, lambda: conv.max_scroll_y > 0, what="a scrollable answer")
        assert conv.following
        await pilot.press("pageup")  # from the prompt: scrolls the conversation
        await wait_for(pilot, lambda: not conv.following, what="not following")
        assert app.focused is app.prompt
        pause.release()
        await idle(pilot)
        await wait_for(pilot, lambda: app.query_one("#new-below").display, what="the hint")
        assert conv.scroll_y < conv.max_scroll_y  # it did not jump
        await pilot.click("#new-below")
        await wait_for(pilot, lambda: conv.scroll_y == conv.max_scroll_y, what="the end")
        assert conv.following and not app.query_one("#new-below").display


async def test_old_turn_widgets_leave_the_dom(tmp_path, monkeypatch):
    monkeypatch.setattr(conversation_module, "MAX_TURN_WIDGETS", 6)
    provider = ScriptedProvider(*[text_reply(f"answer {i}") for i in range(6)])
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        for i in range(6):
            await type_and_send(pilot, f"q{i}")
            await idle(pilot)
        assert len(app.conversation.children) == 6
        assert [m.source for m in app.query(UserMessage)] == ["q3", "q4", "q5"]
        assert len(load(runtime.transcript.path).entries) == 12  # all kept on disk


async def test_old_turns_leave_the_dom_when_over_the_widget_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(conversation_module, "MAX_MOUNTED_WIDGETS", 8)  # 3 per turn
    answer = "\n\n".join(f"Paragraph {i}." for i in range(12))  # one MarkdownView
    provider = ScriptedProvider(*[text_reply(answer) for _ in range(5)])
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        for i in range(5):
            await type_and_send(pilot, f"q{i}")
            await idle(pilot)
            assert len(app.conversation.query("*")) <= 8 + 3  # the newest turn may exceed it
        assert [m.source for m in app.query(UserMessage)][-1] == "q4"
        assert len(app.query(UserMessage)) < 5


async def test_footer_follows_each_turn_and_leaves_no_keys_behind(tmp_path, monkeypatch):
    """Escape "Cancel" shows while a turn runs, so the footer recomposes twice a turn. Textual
    keeps a watcher (and so the whole widget) for every key a recompose removed: over many
    turns neither the footer's watchers nor the live FooterKey objects may grow."""
    turns = 10
    pauses = [Pause() for _ in range(turns)]
    provider = ScriptedProvider(*[[p, *text_reply(f"answer {i}")] for i, p in enumerate(pauses)])
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))

    def live_keys() -> int:
        gc.collect()
        return sum(isinstance(obj, FooterKey) for obj in gc.get_objects())

    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(ChatFooter)

        def actions() -> set[str]:
            return {key.action for key in footer.query(FooterKey)}

        samples = []
        for turn, pause in enumerate(pauses):
            app.send(f"q{turn}")
            await wait_for(pilot, lambda: "cancel" in actions(), what="Cancel in the footer")
            pause.release()
            await idle(pilot)
            await wait_for(pilot, lambda: "cancel" not in actions(), what="Cancel to go")
            # From the third turn: up to two removed keys stay alive (0, 1, 2, then 2 for
            # good) when this app is the first in the process (its start-up keys are frozen
            # by settle_gc and not counted); a leak grows each turn.
            if turn in (2, turns - 1):
                # A recompose may be under way at any one reading (new keys bound, the old
                # not yet pruned): the least of a few readings is the settled footer.
                readings = []
                for _ in range(4):
                    await pilot.pause(0.02)
                    readings.append((footer.watcher_count, live_keys()))
                samples.append(tuple(min(values) for values in zip(*readings, strict=True)))
        assert samples[-1] == samples[0]  # 7 more turns (14 recomposes) left nothing behind
        assert samples[-1][0] <= len(footer.query(FooterKey))  # one binding per key shown


async def test_the_footer_has_its_keys_at_mount_and_keeps_them_while_they_stay_the_same(
    tmp_path, monkeypatch
):
    """Start-up: Textual's footer composed no key until the bindings changed, then recomposed
    three times before the first key was typed; ours has its keys when the app mounts and
    recomposes only when what it shows changes."""
    at_mount: list[list[str]] = []
    mount = ChatApp.on_mount

    async def on_mount(self: ChatApp) -> None:
        at_mount.append([key.action for key in self.query(FooterKey)])
        await mount(self)

    monkeypatch.setattr(ChatApp, "on_mount", on_mount)
    pause = Pause()
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider([pause, *text_reply("a")])))
    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(ChatFooter)
        keys = list(footer.query(FooterKey))
        assert at_mount == [[key.action for key in keys]]
        assert "new_conversation" in at_mount[0] and "command_palette" in at_mount[0]
        for _ in range(3):
            app.refresh_bindings()
            await pilot.pause()
        assert list(footer.query(FooterKey)) == keys  # the same widgets: no recompose
        app.send("go")  # Escape "Cancel" shows: a change
        await wait_for(pilot, lambda: "cancel" in [k.action for k in footer.query(FooterKey)])
        pause.release()
        await idle(pilot)


async def test_start_up_objects_leave_the_collector_once_after_the_first_screen(
    tmp_path, monkeypatch
):
    """gc.freeze() after the first screen, once per process, after one collection; the
    collector is on again after it."""
    calls: list[object] = []
    fake = {
        "collect": lambda *args: calls.append(("collect", app.conversation.is_mounted)) or 0,
        "freeze": lambda: calls.append("freeze"),
        "enable": lambda: calls.append("enable"),
        "get_freeze_count": lambda: calls.count("freeze"),
        "set_threshold": lambda *values: calls.append(values),
    }
    for name, function in fake.items():
        monkeypatch.setattr(pacing.gc, name, function)
    for _ in range(2):  # a second app in the same process changes nothing
        app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider()))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: calls, what="the collector to be settled")
            await pilot.pause()
    # Collections back on first (the command line turns them off for start-up).
    assert calls == ["enable", ("collect", True), "freeze", pacing.GC_THRESHOLDS, "enable"]


async def test_no_full_collection_while_a_turn_streams_and_one_when_idle_after(
    tmp_path, monkeypatch
):
    """A full collection landing on a frame mid-stream made 52 ms stalls: none while the turn
    runs (the third threshold is raised), the owed one once the turn is over."""
    collected: list[bool] = []
    during: list[int] = []
    monkeypatch.setattr(pacing, "IDLE_COLLECT_DELAY", 0.05)
    monkeypatch.setattr(app_module, "IDLE_COLLECT_DELAY", 0.05)
    streaming = [False]
    monkeypatch.setattr(
        pacing.gc, "collect", lambda *a: collected.append(streaming[0] or app.busy) or 0
    )

    class Watching(ScriptedProvider):
        async def stream(self, request):  # type: ignore[no-untyped-def]
            during.append(gc.get_threshold()[2])
            streaming[0] = True
            async for event in super().stream(request):
                yield event
            streaming[0] = False

    app = make_app(make_runtime(tmp_path, monkeypatch, Watching(text_reply("hi"))))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = gc.get_threshold()
        collected.clear()  # the start-up collection (settle_gc)
        app.send("go")
        await idle(pilot)
        assert during == [pacing.DEFERRED_THRESHOLD]
        await wait_for(pilot, lambda: collected, what="the owed collection")
        assert gc.get_threshold() == before  # restored only once the owed one was made
    assert collected == [False]


async def test_a_burst_of_buffered_events_lets_the_loop_run_between_slices(tmp_path, monkeypatch):
    """Events already read from the network come without a wait: the worker must still let
    other tasks (keys, frames) run once its slice (PUMP_SLICE) is used up."""
    clock = itertools.count(0.0, 0.001)  # every reading is 1 ms later
    monkeypatch.setattr(pacing, "perf_counter", lambda: next(clock))
    loop_turns = 0
    seen: list[int] = []  # loop turns by the time each event was produced
    events = [*(TextDelta("abcd") for _ in range(400)), Finish("stop")]

    class Burst(ScriptedProvider):
        async def stream(self, request):  # type: ignore[no-untyped-def]
            self.requests.append(request)
            for event in events:  # no await: all of it was buffered
                seen.append(loop_turns)
                yield event

    async def spin() -> None:
        nonlocal loop_turns
        while True:
            loop_turns += 1
            await asyncio.sleep(0)

    app = make_app(make_runtime(tmp_path, monkeypatch, Burst()))
    async with app.run_test(size=SIZE) as pilot:
        spinner = asyncio.create_task(spin())
        app.send("go")
        await idle(pilot)
        spinner.cancel()
        assert app.query_one(AssistantText).raw == "abcd" * 400
    ran_between = sum(b > a for a, b in itertools.pairwise(seen))
    slice_events = pacing.PUMP_SLICE / 0.001
    assert ran_between >= len(events) / (slice_events + 2), ran_between  # about once a slice
    # Several loop turns each time, so that a chain of steps (a key's echo) gets through.
    turns = [b - a for a, b in itertools.pairwise(seen) if b > a]
    assert sorted(turns)[len(turns) // 2] >= pacing.PUMP_YIELDS, turns


async def test_highlighting_is_warmed_up_in_a_thread_after_the_first_screen(tmp_path, monkeypatch):
    on_main_thread: list[bool] = []
    monkeypatch.setattr(
        "tui.ui.widgets.code_view.warm_up",
        lambda: on_main_thread.append(threading.current_thread() is threading.main_thread()),
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider()))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: on_main_thread, what="the warm-up")
        assert on_main_thread == [False]


async def test_what_the_first_screen_leaves_out_is_imported_in_a_thread_after_it(
    tmp_path, monkeypatch
):
    """The modules left out of the first screen's imports are imported in the warm-up thread
    right after it, so that the first answer or palette does not import them on the loop."""
    imported: list[tuple[str, bool]] = []
    real = importlib.import_module

    def recording(name: str, package: str | None = None) -> object:
        if name in app_module.LATER_MODULES:
            imported.append((name, threading.current_thread() is threading.main_thread()))
        return real(name, package)

    monkeypatch.setattr(app_module.importlib, "import_module", recording)
    monkeypatch.setattr("tui.ui.widgets.code_view.warm_up", lambda: None)
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider()))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(imported) == len(app_module.LATER_MODULES))
    assert imported == [(name, False) for name in app_module.LATER_MODULES]


async def test_the_first_answer_and_tool_card_mount_without_parsing_the_stylesheet(
    tmp_path, monkeypatch
):
    """Their default CSS is loaded after the first screen (Textual parses the stylesheet
    again when a class's first widget mounts: on the loop, as the first answer streams)."""
    call = call_events("save_file", {"path": "a.py", "content": LIFE}, size=40)
    provider = ScriptedProvider(tool_reply(call, text="Writing it."), text_reply("Done."))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider, approval="auto"))
    async with app.run_test(size=SIZE) as pilot:
        sources = app.stylesheet.source
        await wait_for(pilot, lambda: any("ToolCard" in where for _, where in sources))
        parses = count_parses(app, monkeypatch)
        app.send("write it")
        await idle(pilot)
        assert card(app).state == "done" and app.query(AssistantText)
    assert parses == [0]


async def test_the_running_tool_check_is_made_for_events_other_than_fragments(
    tmp_path, monkeypatch
):
    """Whether a card runs its call is checked per event that can change a card's state,
    not per streamed fragment (it looped over the step's cards, reading a reactive each)."""
    checks = 0
    real = conversation_module.TurnRenderer.running_tool

    def counted(renderer):  # type: ignore[no-untyped-def]
        nonlocal checks
        checks += 1
        return real.fget(renderer)

    monkeypatch.setattr(conversation_module.TurnRenderer, "running_tool", property(counted))
    call = call_events("save_file", {"path": "a.py", "content": LIFE * 20}, size=4)
    provider = ScriptedProvider(tool_reply(call, text="Writing it."), text_reply("Done."))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider, approval="auto"))
    events = fragments = 0
    async with app.run_test(size=SIZE) as pilot:
        observe = app.status_bar.observe

        def counting(event):  # type: ignore[no-untyped-def]
            nonlocal events, fragments
            events += 1
            fragments += isinstance(event, TextDelta | ToolCallDelta)
            observe(event)

        app.status_bar.observe = counting  # type: ignore[method-assign]
        app.send("write it")
        await idle(pilot)
        assert card(app).state == "done"
    assert fragments > 400
    assert checks == events - fragments


@asynccontextmanager
async def reasoning_text_and_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, arguments: dict[str, str]
) -> AsyncIterator[ChatApp]:
    """A turn run to its end: reasoning, ``text``, a save_file call (4-char fragments,
    approved) and the reply "Done."; yields the app, still running, once it is idle."""
    call = call_events("save_file", arguments, size=4)
    reply = [*text_reply("", reasoning="thinking " * 30)[:-2], *tool_reply(call, text=text)]
    provider = ScriptedProvider(reply, text_reply("Done."))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider, approval="auto"))
    async with app.run_test(size=SIZE) as pilot:
        app.send("write it")
        await idle(pilot)
        assert card(app).state == "done"
        yield app


async def test_a_fragment_of_a_block_already_streaming_is_buffered_without_a_coroutine(
    tmp_path, monkeypatch
):
    """The intake is plain code per fragment: ``handle`` (a coroutine) runs only for events
    that start a block or are not fragments, and nothing streamed is lost."""
    handled: list[type] = []
    real = conversation_module.TurnRenderer.handle

    async def counted(renderer, event):  # type: ignore[no-untyped-def]
        handled.append(type(event))
        await real(renderer, event)

    monkeypatch.setattr(conversation_module.TurnRenderer, "handle", counted)
    text = "Some **bold** text and a list:\n\n- one\n- two\n\n" * 20
    arguments = {"path": "a.py", "content": LIFE}
    async with reasoning_text_and_call(tmp_path, monkeypatch, text, arguments) as app:
        assert app.query(AssistantText).first().raw == text
        assert app.query(ReasoningBlock).first().source == "thinking " * 30
    fragments = [t for t in handled if t in (TextDelta, ReasoningDelta, ToolCallDelta)]
    assert fragments.count(TextDelta) == 2  # the first of each text block only
    assert fragments.count(ReasoningDelta) == 1 and ToolCallDelta not in fragments


async def test_every_character_streamed_is_counted_once_for_the_frame_budget(tmp_path, monkeypatch):
    """``TurnRenderer.fed`` (what ``FrameBudget.due`` weighs) counts each streamed character
    of text, reasoning and call arguments once, up to the flush that applies it."""
    applied: list[int] = []
    real = conversation_module.TurnRenderer.flush

    async def counted(renderer):  # type: ignore[no-untyped-def]
        applied.append(renderer.fed)
        await real(renderer)
        assert renderer.fed == 0

    monkeypatch.setattr(conversation_module.TurnRenderer, "flush", counted)
    text = "Some **bold** text.\n\n" * 30
    arguments = {"path": "a.py", "content": LIFE}
    async with reasoning_text_and_call(tmp_path, monkeypatch, text, arguments):
        pass
    streamed = len(text) + len("thinking " * 30) + len(json.dumps(arguments)) + len("Done.")
    assert sum(applied) == streamed


async def test_the_status_line_is_redrawn_without_a_screen_layout(tmp_path, monkeypatch):
    """The rate changes every frame while streaming; the status line is one row: a repaint."""
    clock = itertools.count(100.0, 0.1)
    app = ChatApp(make_runtime(tmp_path, monkeypatch), clock=lambda: next(clock))
    async with app.run_test(size=SIZE) as pilot:
        status = app.status_bar
        requests: list[bool] = []
        refresh = status.refresh

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            requests.append(bool(kwargs.get("layout")))
            return refresh(*args, **kwargs)

        status.refresh = counting  # type: ignore[method-assign]
        status.observe(StepStarted(1))
        for _ in range(5):  # what the frame timer does while text streams in
            status.observe(TextDelta("word " * 8))
            status.tick()
        await pilot.pause()
        assert len(requests) >= 5 and not any(requests)  # a new rate each frame, no layout
        assert status.size.height == 1
        assert "tok/s" in str(status.render())


# -- startup -----------------------------------------------------------------------------------


def test_startup_error_is_printed_and_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CHATTUI_DATA_DIR", str(tmp_path))
    ns = build_parser().parse_args(
        ["--config", str(tmp_path / "missing.toml"), "--workspace", str(tmp_path)]
    )
    assert app_module.run_app(ns) == 2
    err = capsys.readouterr().err
    assert err.startswith("chattui: ") and err.count("\n") == 1


async def test_resume_at_startup_shows_the_conversation(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("first answer"))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "first question")
        await idle(pilot)
    runtime.transcript.close()
    from tui.core.runtime import Options, start

    again = start(Options(workspace=tmp_path / "ws", resume="latest"))
    app = make_app(again)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert [m.source for m in app.query(UserMessage)] == ["first question"]
        assert app.query_one(AssistantText).raw == "first answer"


# -- hostile text --------------------------------------------------------------------------------

HOSTILE = "[bold]b[/] [@click=app.quit]x[/] [TODO] [/ [link=http://e]l x[/]"
ESCAPES = "A\x1b]52;c;cHduZWQ=\x07B\x1b]0;T\x1b\\C\x1b[2J\x9b31mD"


async def test_hostile_text_is_shown_literally_and_fires_nothing(tmp_path, monkeypatch):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "evil.txt").write_text(HOSTILE + "\n" + ESCAPES + "\n")
    provider = ScriptedProvider(
        tool_reply(call_events("read_file", {"path": "evil.txt"}), text=HOSTILE + " " + ESCAPES),
        [TextDelta("ok"), BadRequest(HOSTILE + " [/INST] " + ESCAPES)],
    )
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "read")
        await idle(pilot)
        shown = screen_text(app)
        assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
        assert "[@click=app.quit]x[/]" in texts(app.query(ToolCard))  # the tool result
        assert "ABCD" in texts(app.query(ToolCard))
        assert HOSTILE.split(" [link")[0] in app.query(AssistantText).first().raw
        note = texts(app.query(ErrorNote))
        assert "[@click=app.quit]x[/]" in note and "[/INST]" in note and "[TODO]" in note
        for widget in [*app.query(ErrorNote), *app.query(".result")]:
            await pilot.click(widget, offset=(2, 0))
            await pilot.click(widget, offset=(20, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert app.internal_errors == []


async def test_hostile_file_name_and_content_in_the_card(tmp_path, monkeypatch):
    name = "[bold]x[/]\u202etxt.py"
    content = "print('[@click=app.quit]q[/]')\n\x1b[31mred\n"
    provider = ScriptedProvider(*save_then_text(name, content))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "save")
        await wait_for(pilot, lambda: app.query(ToolCard) and card(app).state == "approval")
        await pilot.pause()
        live = card(app)
        header = str(live.query_one("#header").render())
        assert "[bold]x[/]\\u202etxt.py" in header  # bidi override made visible
        view = live.query_one(CodeView)
        assert "[@click=app.quit]q[/]" in view.text and "\\x1b[31mred" in view.text
        assert "\\u202e" in texts(live.query("#approval-title"))
        await pilot.press("y")
        await idle(pilot)
        assert (tmp_path / "ws" / name).read_text() == content
        assert app.is_running


class BadRequest(ServerError):
    """A 400-ish error whose message carries hostile text."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=400)


async def test_markdown_links_from_the_model_open_only_web_urls(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("see [docs](app.quit) and [web](https://example.com)"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "links")
        await idle(pilot)
        block = app.query_one(AssistantText)
        block.post_message(AssistantText.LinkClicked(block, "app.quit"))
        block.post_message(AssistantText.LinkClicked(block, "https://example.com"))
        await pilot.pause()
        assert opened == ["https://example.com"] and app.is_running


async def test_ctrl_q_mid_stream_quits_and_saves_the_partial(tmp_path, monkeypatch):
    pause = Pause()
    provider = ScriptedProvider([TextDelta("half an answer"), pause, Finish("stop")])
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "go")
        await wait_for(pilot, pause.reached.is_set)
        await pilot.press("ctrl+q")
    assert provider.cancelled == 1
    entries = load(runtime.transcript.path).entries
    assert entries[-1].status == "cancelled" and entries[-1].message.text == "half an answer"


async def test_a_crash_outside_the_worker_prints_no_local_variables(tmp_path, monkeypatch):
    app = make_app(make_runtime(tmp_path, monkeypatch))

    monkeypatch.setenv("CHATTUI_TEST_FAKE_KEY", "sk-very-secret-123")

    def explode() -> None:
        api_key = os.environ["CHATTUI_TEST_FAKE_KEY"]  # noqa: F841 - must not be printed
        raise RuntimeError("boom")

    shown: list[str] = []
    real_panic = app.panic

    def panic(*renderables) -> None:
        console = Console(file=io.StringIO(), width=120)
        for renderable in renderables:
            console.print(renderable)
        shown.append(console.file.getvalue())
        real_panic(*renderables)

    monkeypatch.setattr(app, "action_copy", explode)
    monkeypatch.setattr(app, "panic", panic)
    with pytest.raises(RuntimeError, match="boom"):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+y")  # handled in the app's loop: Textual's crash path
            await pilot.pause()
    printed = "".join(shown)
    assert "RuntimeError" in printed and "explode" in printed
    assert "sk-very-secret-123" not in printed


async def test_after_the_demo_turn_the_app_does_no_work_of_its_own(tmp_path, monkeypatch):
    """An idle chattui waits: no worker runs, the frame timer sleeps, nothing is laid out.
    (A 30 Hz frame timer ticked while idle; in the real app a collapsed reasoning block's
    view once laid the screen out in a loop, see test_markdown_view's hidden view.)"""
    app = make_app(make_runtime(tmp_path, monkeypatch))
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.cursor_blink = False  # the blink's frames are not the app's own work
        app.prompt.load_text("hello")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.query("#approve-buttons"), what="the question")
        await pilot.press("y")
        await idle(pilot)
        await wait_for(pilot, lambda: not [w for w in app.workers if w.is_running], what="idle")
        layouts = spy(monkeypatch, app.screen, "_refresh_layout")
        for _ in range(50):
            await pilot.pause()
        assert not [w for w in app.workers if w.is_running]
        assert not app._frame_timer._active.is_set()
        assert len(layouts) <= 1
