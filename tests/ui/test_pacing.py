"""FrameBudget: buffered output is applied at most as often as its frames allow; paced: the
turn worker lets the loop run between slices."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tui.ui import pacing
from tui.ui.pacing import BURST_FRAME, BURST_RATE, FRAME, FRAME_SHARE, FrameBudget


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(pacing, "perf_counter", fake)
    return fake


def test_cheap_frames_keep_the_frame_rate(clock: FakeTime) -> None:
    budget = FrameBudget()
    assert budget.due()
    started = budget.start()
    clock.now += 0.002  # update and frame: 2 ms
    budget.drawn(started)
    clock.now = started + FRAME - 0.001
    assert not budget.due()
    clock.now = started + FRAME
    assert budget.due()


def test_a_costly_frame_spaces_the_next_update_by_its_cost(clock: FakeTime) -> None:
    budget = FrameBudget()
    started = budget.start()
    clock.now += 0.060  # a 60 ms frame: the next update waits until it is half the time
    budget.drawn(started)
    next_at = started + 0.060 / FRAME_SHARE
    clock.now = next_at - 0.001
    assert not budget.due()
    clock.now = next_at
    assert budget.due()


def test_until_drawn_the_next_update_waits_a_frame(clock: FakeTime) -> None:
    budget = FrameBudget()
    started = budget.start()
    clock.now = started + FRAME / 2
    assert not budget.due()
    clock.now = started + FRAME
    assert budget.due()  # a frame that never reports (nothing to draw) does not stop updates


def test_turns_back_to_back_make_the_collection_the_last_one_owed(monkeypatch) -> None:
    collections: list[int] = []
    monkeypatch.setattr(pacing.gc, "collect", lambda *a: collections.append(1) or 0)
    before = gc.get_threshold()
    try:
        pacing.defer_full_collections()  # a turn starts: nothing owed yet
        assert collections == [] and gc.get_threshold()[2] == pacing.DEFERRED_THRESHOLD
        pacing.defer_full_collections()  # the next turn, with no idle moment between
        assert collections == [1]  # the first turn's garbage is collected between the two
        assert gc.get_threshold()[2] == pacing.DEFERRED_THRESHOLD
        pacing.collect_deferred()  # idle at last
        assert collections == [1, 1] and gc.get_threshold() == before
    finally:
        pacing.collect_deferred()
        gc.set_threshold(*before)


def test_a_burst_is_updated_every_burst_frame_a_model_stream_every_frame(
    clock: FakeTime,
) -> None:
    budget = FrameBudget()
    started = budget.start()
    budget.drawn(started)  # a cheap frame: the next one is due a frame later
    clock.now = started + FRAME
    model = int(10_000 * FRAME)  # the fastest models: about 10,000 characters a second
    assert budget.due(model)
    burst = int(BURST_RATE * FRAME) + 1  # a backlog arriving faster than BURST_RATE
    assert not budget.due(burst)
    clock.now = started + BURST_FRAME - 0.001
    assert not budget.due(int(BURST_RATE * BURST_FRAME))
    clock.now = started + BURST_FRAME + 1e-9  # (100.0 + 0.1 - 100.0 < 0.1 in floats)
    assert budget.due(10 * burst)  # a burst still gets its update every BURST_FRAME


async def _consume_slowly(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch, events: list[str], ending: set[str]
) -> list[str]:
    """What ``paced`` did when each event took two slices to handle: "turns" where it let
    the loop run."""
    log: list[str] = []

    async def source() -> AsyncIterator[str]:
        for event in events:
            yield event

    async def turns() -> None:
        log.append("turns")

    monkeypatch.setattr(pacing, "let_others_run", turns)
    async for event in pacing.paced(source(), lambda e: e in ending):
        log.append(event)
        clock.now += pacing.PUMP_SLICE * 2
    return log


async def test_the_loop_runs_between_slices_but_not_before_the_turn_ends(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = await _consume_slowly(clock, monkeypatch, ["a", "b", "usage", "end"], {"usage", "end"})
    # The end comes right after the answer's last event: no frame of a turn still running.
    assert log == ["a", "turns", "b", "usage", "end"]


async def test_without_ending_events_every_slice_lets_the_loop_run(
    clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = await _consume_slowly(clock, monkeypatch, ["a", "b", "c"], set())
    assert log == ["a", "turns", "b", "turns", "c"]


async def test_what_a_session_sends_after_the_answer_ends_is_handed_on_without_a_frame(
    tmp_path: Path,
) -> None:
    # A local server's answer with usage: Usage, then the notice that it has no price, then
    # the turn's end. A frame between them drew the turn still running, and the frame
    # showing it ended waited for the next refresh (about 20 ms on each first answer).
    from providers.events import Finish, TextDelta, Usage
    from tests.support.scripted import ScriptedProvider
    from tui.core.pricing import Pricer
    from tui.core.session import PriceUnknown, Session
    from tui.core.tools.registry import ToolRegistry
    from tui.core.transcript import TranscriptWriter
    from tui.ui.turns import _ending

    workspace = tmp_path / "ws"
    workspace.mkdir()
    transcript = TranscriptWriter.create(
        tmp_path / "data", provider="p", model="m", workspace=str(workspace)
    )
    provider = ScriptedProvider([TextDelta("Hi."), Usage(12, 3), Finish("stop")])
    pricer = Pricer("local-model", "http://127.0.0.1:9/v1")
    session = Session(provider, ToolRegistry(workspace), transcript, pricer=pricer)
    events = [e async for e in session.send("hello")]
    after = events[[type(e) for e in events].index(Finish) + 1 :]
    assert PriceUnknown in {type(e) for e in after}
    assert all(_ending(e) for e in after), after


def _updates(clock: FakeTime, chars_per_second: float, seconds: float = 1.0) -> int:
    """Updates ``FrameBudget`` allows while output arrives at ``chars_per_second`` (cheap
    frames, 1 ms ticks)."""
    budget = FrameBudget()
    updates, fed, start = 0, 0.0, clock.now
    while clock.now - start < seconds:
        clock.now += 0.001
        fed += chars_per_second * 0.001
        if budget.due(int(fed)):
            budget.drawn(budget.start())
            updates, fed = updates + 1, 0.0
    return updates


def test_a_burst_gets_one_update_per_burst_frame_a_model_stream_its_frame_rate(
    clock: FakeTime,
) -> None:
    # A local server sending a finished answer: each update is a screenful rendered and laid
    # out, scrolled away unread by the next.
    assert 4 <= _updates(clock, 1_000_000) <= 6  # about one per 0.2 s
    # The fastest models write about 10,000 characters a second: every frame.
    assert _updates(clock, 10_000) >= round(1 / FRAME) - 1
