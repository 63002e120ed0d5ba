"""The status bar's token counts and cost, from the session's one usage per request."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.conversation import ToolCall, ToolResult
from providers.events import TextDelta, ToolCallDelta, Usage
from tests.ui.scripted import (
    ScriptedProvider,
    idle,
    make_app,
    make_runtime,
    search_palette,
    text_reply,
    wait_for,
)
from tests.ui.test_app import type_and_send
from tui.core.pricing import Price, Pricer
from tui.core.session import StepStarted, ToolRan
from tui.ui.widgets.status import BarState, StatusBar

CACHED = Usage(input_tokens=12_300, output_tokens=640, cached_tokens=9_800)


def _bar() -> StatusBar:
    return StatusBar("claude · claude-sonnet-4-5", clock=lambda: 0.0)


def test_cached_tokens_and_the_cost_of_the_turn_and_conversation() -> None:
    bar = _bar()
    bar.reset_counts(total_cost=1.0)  # a resumed conversation that cost $1 before
    for step, cost in ((1, 0.0125), (2, 0.0075)):
        bar.observe(StepStarted(step))
        bar.observe(Usage(12_300, 640, cached_tokens=9_800, cost_usd=cost))
    line = str(bar.render_status())
    assert "in 12.3k (9.8k cached) · out 640" in line
    assert "$0.02 turn · $1.02 total" in line
    bar.observe(StepStarted(1))  # the next prompt starts its own turn cost
    assert "$1.02" in str(bar.render_status()) and "turn" not in str(bar.render_status())


def test_fragments_set_streaming_the_time_to_first_token_and_the_rate() -> None:
    now = [10.0]
    bar = StatusBar("m", clock=lambda: now[0])
    bar.observe(StepStarted(1))
    assert bar.state is BarState.WAITING
    now[0] = 10.5
    bar.observe(TextDelta("x" * 400))
    assert bar.state is BarState.STREAMING
    now[0] = 11.5
    bar.observe(ToolCallDelta(0, "y" * 400))  # call arguments are output too
    line = str(bar.render_status())
    assert "streaming" in line and "ttft 0.50s" in line and "~200 tok/s" in line
    call = ToolCall("c1", "save_file", {})
    bar.observe(ToolRan(0, call, ToolResult("c1", "save_file", "saved")))
    assert bar.state is BarState.WAITING
    bar.observe(TextDelta("z"))  # the stream goes on: streaming again
    assert bar.state is BarState.STREAMING


def test_no_cost_is_shown_for_an_unpriced_model() -> None:
    bar = _bar()
    bar.observe(StepStarted(1))
    bar.observe(CACHED)
    line = str(bar.render_status())
    assert "in 12.3k (9.8k cached) · out 640" in line and "$" not in line


async def test_the_app_shows_a_priced_models_cost_and_none_for_an_unknown_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = ScriptedProvider(text_reply("One."), text_reply("Two."))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    runtime.session.pricer = Pricer("m", "http://127.0.0.1:9", Price(input=1e6, output=1e6))
    app = make_app(runtime)
    async with app.run_test(size=(120, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await idle(pilot)
        usage = runtime.session.history[-1].usage  # type: ignore[union-attr]
        assert usage is not None and usage.cost_usd
        # A million dollars per million tokens: the cost is the token count in dollars.
        tokens = (usage.input_tokens or 0) + (usage.output_tokens or 0)
        assert f"${tokens:,}.00" in str(app.status_bar.render())
        runtime.session.pricer = Pricer("unknown-model", "http://127.0.0.1:9")
        app.status_bar.reset_counts()
        await type_and_send(pilot, "again")
        await idle(pilot)
        assert "$" not in str(app.status_bar.render())
        assert [n.message for n in app._notifications if n.title == "cost"] == [
            "no price is known for model 'unknown-model' at http://127.0.0.1:9 (a local server):"
            " no cost is"
            " shown (set price = { input = …, output = … })"
        ]


async def test_the_palette_sets_the_reasoning_effort_for_the_next_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = ScriptedProvider(text_reply("One."), text_reply("Two."))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=(120, 30)) as pilot:
        await type_and_send(pilot, "hi")
        await idle(pilot)
        await search_palette(pilot, "reasoning effort: high")
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.session.reasoning == "high", what="the setting")
        await type_and_send(pilot, "again")
        await idle(pilot)
    assert [r.reasoning for r in provider.requests] == [None, "high"]


async def test_the_price_table_starts_loading_after_the_first_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before any prompt: else a fast first answer's end waits for the table to load."""
    runtime = make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("One.")))
    pricer = runtime.session.pricer = Pricer("claude-sonnet-4-5", "https://api.anthropic.com")
    warmed: list[bool] = []
    monkeypatch.setattr(pricer, "warm", lambda: warmed.append(True))
    app = make_app(runtime)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: warmed, what="the table to start loading")
        assert not runtime.session.history  # no prompt was sent
