"""The status bar's token counts and cost, from the session's one usage per request."""

from __future__ import annotations

from providers.events import Usage
from tui.core.session import StepStarted
from tui.ui.widgets.status import StatusBar

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


def test_no_cost_is_shown_for_an_unpriced_model() -> None:
    bar = _bar()
    bar.observe(StepStarted(1))
    bar.observe(CACHED)
    line = str(bar.render_status())
    assert "in 12.3k (9.8k cached) · out 640" in line and "$" not in line
