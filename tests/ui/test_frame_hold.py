"""A call's completion and its result in one frame (``tui.ui.widgets.hold``), with a cap."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.ui.scripted import (
    Pause,
    ScriptedProvider,
    call_events,
    idle,
    make_app,
    make_runtime,
    text_reply,
    tool_reply,
    wait_for,
)
from tui.core.session import StepStarted
from tui.core.tools.prepared import PreparedCall
from tui.ui import pacing
from tui.ui.widgets import hold
from tui.ui.widgets.card_state import CardState
from tui.ui.widgets.code_view import CodeView
from tui.ui.widgets.conversation import TurnRenderer
from tui.ui.widgets.live_args import LiveArguments
from tui.ui.widgets.tool_card import ToolCard

SIZE = (100, 40)
CONTENT = "def f(x):\n    return x * 2\n" * 200


def frames_by_state(app: Any) -> list[CardState | None]:
    """The card's state at each frame the app draws from now on (None: no card yet)."""
    states: list[CardState | None] = []
    display = app._display

    def counted(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and not app._batch_count:
            cards = app.query(ToolCard)
            states.append(cards.last().state if cards else None)

    app._display = counted
    return states


def save_file_app(
    tmp_path: Any, monkeypatch: Any, approval: str = "auto", pause: Pause | None = None
) -> Any:
    """A save_file call then "Saved."; with ``pause``, the arguments stop half way for it."""
    arguments = {"path": "a.py", "content": CONTENT}
    halfway = {} if pause is None else {"pause_at": len(CONTENT) // 2, "pause": pause}
    call = call_events("save_file", arguments, size=16, **halfway)
    provider = ScriptedProvider(tool_reply(call), text_reply("Saved."))
    return make_app(make_runtime(tmp_path, monkeypatch, provider, approval=approval))


async def test_no_frame_between_a_quick_calls_completion_and_its_result(tmp_path, monkeypatch):
    """The frame after the arguments are complete shows the result: none shows the call
    ready or running (each was a full layout and compositor pass of the screen)."""
    monkeypatch.setattr(hold, "HOLD_SECONDS", 30.0)  # the cap never decides here
    pause = Pause()  # mid-arguments: the live card is drawn (frames are not all held)
    app = save_file_app(tmp_path, monkeypatch, pause=pause)
    async with app.run_test(size=SIZE) as pilot:
        states = frames_by_state(app)
        app.send("write it")
        await wait_for(pilot, lambda: CardState.STREAMING in states, what="the live card")
        pause.release()
        await idle(pilot)
        assert app.query_one(ToolCard).state is CardState.DONE
    assert CardState.DONE in states
    assert not {CardState.READY, CardState.RUNNING} & set(states)


async def test_a_slow_call_is_drawn_running_once_the_hold_lapses(tmp_path, monkeypatch):
    monkeypatch.setattr(hold, "HOLD_SECONDS", 0.05)
    go = asyncio.Event()
    run = PreparedCall.run_async

    async def slow(prepared: PreparedCall, *args: Any, **kwargs: Any) -> Any:
        await go.wait()
        return await run(prepared, *args, **kwargs)

    monkeypatch.setattr(PreparedCall, "run_async", slow)
    app = save_file_app(tmp_path, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        states = frames_by_state(app)
        app.send("write it")
        await wait_for(pilot, lambda: CardState.RUNNING in states, what="the running frame")
        go.set()
        await idle(pilot)
        assert app.query_one(ToolCard).state is CardState.DONE
    assert CardState.DONE in states


async def test_an_approval_question_is_drawn_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(hold, "HOLD_SECONDS", 30.0)
    app = save_file_app(tmp_path, monkeypatch, approval="ask")
    async with app.run_test(size=SIZE) as pilot:
        states = frames_by_state(app)
        app.send("write it")
        await wait_for(pilot, lambda: CardState.APPROVAL in states, what="the question drawn")
        live = app.query_one(ToolCard)
        await wait_for(pilot, lambda: app.focused is live, what="the question's focus")
        await pilot.press("y")
        await idle(pilot)
        assert app.query_one(ToolCard).state is CardState.DONE
    assert CardState.DONE in states


@pytest.mark.parametrize("cap", [30.0, 0.0], ids=["held", "hold lapsed"])
async def test_the_results_frame_is_drawn_before_the_next_request_starts(
    tmp_path, monkeypatch, cap
):
    """The result's frame comes as the call ends, not at the screen timer's next slot after
    the session has started its next request (which pipe mode shows the result before too),
    also when the hold lapsed before the result (a busy machine, a slow tool)."""
    monkeypatch.setattr(hold, "HOLD_SECONDS", cap)
    app = save_file_app(tmp_path, monkeypatch)
    order: list[str] = []
    handle = TurnRenderer.handle

    async def noted(renderer: TurnRenderer, event: Any) -> None:
        if isinstance(event, StepStarted):
            order.append(f"step {event.step}")
        await handle(renderer, event)

    monkeypatch.setattr(TurnRenderer, "handle", noted)
    async with app.run_test(size=SIZE) as pilot:
        states = frames_by_state(app)
        display = app._display

        def frame(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None and states and states[-1] is CardState.DONE:
                order.append("done drawn")

        app._display = frame
        app.send("write it")
        await idle(pilot)
    assert order.index("done drawn") < order.index("step 2")


def as_a_burst(monkeypatch: Any) -> None:
    """No update of the stream's output is due (a burst: ``FrameBudget`` spaces updates by
    ``BURST_FRAME``) and holds never lapse, so what is drawn does not depend on how fast
    this machine runs the test."""
    monkeypatch.setattr(pacing.FrameBudget, "due", lambda budget, fed=0: False)
    monkeypatch.setattr(hold, "HOLD_SECONDS", 30.0)


async def test_a_bursts_card_is_first_drawn_with_its_result(tmp_path, monkeypatch):
    """A call whose arguments all arrive before the next update of the screen (a local
    server, a backlog) is mounted with its completion: no frame lays the card out while the
    burst is read, and its fragments are not parsed on the way (the call holds them)."""
    as_a_burst(monkeypatch)
    parsed: list[Any] = []
    pull = LiveArguments.pull

    def counted(args: LiveArguments) -> Any:
        growth = pull(args)
        if growth:
            parsed.append(growth)
        return growth

    monkeypatch.setattr(LiveArguments, "pull", counted)
    pause = Pause()  # mid-arguments, a key is typed and drawn: the card is not
    app = save_file_app(tmp_path, monkeypatch, pause=pause)
    async with app.run_test(size=SIZE) as pilot:
        states = frames_by_state(app)
        app.send("write it")
        await wait_for(pilot, pause.reached.is_set, what="the pause")
        drawn_before = len(states)
        await pilot.press("x")
        await wait_for(pilot, lambda: len(states) > drawn_before, what="the key's frame")
        pause.release()
        await idle(pilot)
        assert app.prompt.text == "x"
        assert app.query_one(ToolCard).state is CardState.DONE
        assert app.query_one(CodeView).line_count == CONTENT.count("\n")
    drawn = [state for state in states if state is not None]
    assert drawn and set(drawn) == {CardState.DONE}
    assert not parsed


async def test_a_card_made_unmounted_keeps_its_place_before_the_next_block(tmp_path, monkeypatch):
    """Two calls in one burst: each card is mounted before the block after it starts, so the
    cards stand in the order the calls came."""
    as_a_burst(monkeypatch)
    first = call_events("save_file", {"path": "a.py", "content": CONTENT}, index=0, call_id="a")
    second = call_events("save_file", {"path": "b.py", "content": "x = 1\n"}, index=1, call_id="b")
    provider = ScriptedProvider(tool_reply(first, second), text_reply("Saved both."))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider, approval="auto"))
    async with app.run_test(size=SIZE) as pilot:
        app.send("write them")
        await idle(pilot)
        cards = list(app.query(ToolCard))
        assert [card.path for card in cards] == ["a.py", "b.py"]
        assert all(card.state is CardState.DONE for card in cards)


async def test_a_quick_calls_states_are_styled_once_for_the_frame_that_shows_them(
    tmp_path, monkeypatch
):
    """Ready, running and done follow one another inside the hold, and only done is drawn:
    the stylesheet pass for the card's state (card and header) is made once, as the held
    frame is drawn, not once a state."""
    monkeypatch.setattr(hold, "HOLD_SECONDS", 30.0)
    app = save_file_app(tmp_path, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        passes: list[set[str]] = []
        update_nodes = app.stylesheet.update_nodes

        def counted(nodes: Any, animate: bool = False) -> None:
            nodes = list(nodes)
            if any(isinstance(node, ToolCard) for node in nodes):
                passes.append({cls for node in nodes for cls in node.classes})
            update_nodes(nodes, animate=animate)

        monkeypatch.setattr(app.stylesheet, "update_nodes", counted)
        states = frames_by_state(app)
        app.send("write it")
        await idle(pilot)
        live = app.query_one(ToolCard)
        assert live.state is CardState.DONE and live.has_class("-done")
        assert not live.has_class("-ready") and not live.has_class("-running")
    # The passes of the complete call's states (a loaded machine may draw the card while it
    # streams first: that pass is the streaming state's, drawn before the hold).
    complete = [p for p in passes if p & {"-ready", "-running", "-done"}]
    assert len(complete) == 1 and "-done" in complete[0]
    assert CardState.DONE in states
