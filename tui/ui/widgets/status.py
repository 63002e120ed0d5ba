"""The status bar: provider and model, state, time to first token, tokens/s, token counts."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import StrEnum

from rich.text import Text
from textual.widgets import Static

from providers.events import (
    Finish,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)
from tui.core.session import ApprovalNeeded, RequestFailed, SessionEvent, StepStarted, ToolRan
from tui.ui.widgets.safe import one_line


class BarState(StrEnum):
    """What the status bar says the app is doing."""

    IDLE = "idle"
    WAITING = "waiting"
    STREAMING = "streaming"
    APPROVAL = "approval"
    RUNNING = "running"
    RETRYING = "retrying"
    ERROR = "error"
    CANCELLED = "cancelled"


LABELS = {
    BarState.IDLE: "idle",
    BarState.WAITING: "waiting",
    BarState.STREAMING: "streaming",
    BarState.APPROVAL: "waiting for approval",
    BarState.RUNNING: "running tool",
    BarState.RETRYING: "retrying",
    BarState.ERROR: "error",
    BarState.CANCELLED: "cancelled",
}
"""The word shown for each state (retrying with a known delay shows a countdown instead)."""


class StatusBar(Static):
    """One line under the prompt, updated at most once a frame (``tick``).

    Args:
        label: ``provider · model``.
        clock: seconds (tests pass a fixed clock so snapshots are stable).
    """

    DEFAULT_CSS = """
    StatusBar { height: 1; }
    """

    def __init__(
        self, label: str, *, clock: Callable[[], float] = time.monotonic, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.clock = clock
        self.state = BarState.IDLE
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self._request_at: float | None = None
        self._first_at: float | None = None
        self._last_at: float | None = None
        self._chars = 0
        self._finished = False
        self._retry_until: float | None = None
        self._retry_reason = ""
        self._shown: Text | None = None

    def on_mount(self) -> None:
        self.tick()

    def set_state(self, state: BarState) -> None:
        """Set the state (drawn by the next ``tick``)."""
        self.state = state
        if state is not BarState.RETRYING:
            self._retry_until = None

    def observe(self, event: SessionEvent) -> None:
        """Update counters from one session event (cheap; drawn by ``tick``)."""
        now = self.clock()
        match event:
            case StepStarted():
                self._request_at, self._first_at, self._last_at = now, None, None
                self._chars = 0
                self._finished = False
                self.output_tokens = None
                self.set_state(BarState.WAITING)
            case TextDelta(text=text) | ReasoningDelta(text=text) | ToolCallDelta(arguments=text):
                self._output(now, len(text))
            case ToolCallStart():
                self._output(now, 0)
            case Usage(input_tokens=inp, output_tokens=out):
                self.input_tokens = inp if inp is not None else self.input_tokens
                self.output_tokens = out if out is not None else self.output_tokens
            case Retrying(delay=delay, reason=reason):
                self.set_state(BarState.RETRYING)
                self._retry_until = now + delay
                self._retry_reason = one_line(reason, 80)
            case Finish():
                self._last_at = now
                self._finished = True
            case ApprovalNeeded():
                self.set_state(BarState.APPROVAL)
            case ToolRan():
                self.set_state(BarState.WAITING)
            case RequestFailed():
                self.set_state(BarState.ERROR)

    def _output(self, now: float, chars: int) -> None:
        if self._first_at is None:
            self._first_at = now
        self._last_at = now
        self._chars += chars
        if self.state in (BarState.WAITING, BarState.RETRYING):
            self.set_state(BarState.STREAMING)

    def tick(self) -> None:
        """Redraw if anything shown changed."""
        text = self.render_status()
        if text != self._shown:
            self._shown = text
            # One row, always: no layout of the screen for it (the rate changes every frame).
            self.update(text, layout=False)

    def render_status(self) -> Text:
        """The status line as ``Text`` (literal: no markup)."""
        line = Text(one_line(self.label, 80), style="bold")
        line.append("  ")
        line.append(self._state_text(), style="italic")
        if self._request_at is not None and self._first_at is not None:
            line.append(f"  ttft {self._first_at - self._request_at:.2f}s")
        rate = self._rate()
        if rate:
            line.append(f"  {rate}")
        if self.input_tokens is not None or self.output_tokens is not None:
            line.append(f"  in {_count(self.input_tokens)} · out {_count(self.output_tokens)}")
        return line

    def _state_text(self) -> str:
        if self.state is BarState.RETRYING and self._retry_until is not None:
            left = max(0, math.ceil(self._retry_until - self.clock()))
            limited = "429" in self._retry_reason or "rate" in self._retry_reason.lower()
            prefix = "rate limited — " if limited else ""
            return f"{prefix}retrying in {left} s ({self._retry_reason})"
        return LABELS[self.state]

    def _rate(self) -> str:
        if self._first_at is None or self._last_at is None:
            return ""
        elapsed = self._last_at - self._first_at
        if elapsed < 0.05:
            return ""
        if self._finished and self.output_tokens:  # mid-stream counts lag: estimate until the end
            return f"{self.output_tokens / elapsed:.0f} tok/s"
        return f"~{self._chars / 4 / elapsed:.0f} tok/s"


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"
