"""Screen updates held back for a moment: one frame for a call's completion and its result.

When a tool call's arguments are complete, its card changes (the file's tail, its state) and
the session saves the answer and runs the call; a quick tool (``save_file`` writing 200 KB
takes a few ms) answers within a frame. Drawn as they come, that is two frames of the whole
screen (a layout and a compositor pass each: 7-15 ms at 120x40) taken from the work between
them; held, it is one, with the result in it. The hold has a cap, so a slow tool shows its
running state after at most ``HOLD_SECONDS`` (and a key typed meanwhile is echoed by then).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from textual.app import App
from textual.timer import Timer
from textual.widget import Widget

from tui.ui.compat import draw_now
from tui.ui.pacing import FRAME

HOLD_SECONDS = FRAME
"""Longest that screen updates are held: one frame, so a key typed during a hold is echoed
within about two frames, as while a stream draws."""


class FrameHold:
    """Holds the app's screen updates (Textual's ``batch_update``) until ``release`` or
    ``HOLD_SECONDS``, whichever comes first.

    Args:
        widget: a widget of the app whose screen updates are held (its app is looked up
            when a hold begins: the widget need not be mounted before).
        before_release: called as a hold ends (by ``release`` or the cap), before the held
            updates are drawn: what was kept back for the hold is applied there.
    """

    def __init__(self, widget: Widget, before_release: Callable[[], None] | None = None) -> None:
        self._widget = widget
        self._before_release = before_release
        self._app: App[Any] | None = None
        self._batch: AbstractContextManager[None] | None = None
        self._timer: Timer | None = None

    @property
    def held(self) -> bool:
        """Whether updates are held now."""
        return self._batch is not None

    def hold(self, seconds: float | None = None) -> None:
        """Hold updates for at most ``seconds`` (default ``HOLD_SECONDS``; no-op while
        already held)."""
        if self._batch is not None or not self._widget.is_attached:
            return
        app = self._app = self._widget.app
        self._batch = app.batch_update()
        self._batch.__enter__()
        cap = HOLD_SECONDS if seconds is None else seconds
        self._timer = app.set_timer(cap, self.release, name="frame-hold")

    def release(self, now: bool = False) -> None:
        """Let the held updates be drawn (the next frame has them all); no-op when not held.

        Args:
            now: draw them at once (``compat.draw_now``), not at the screen timer's next slot.
        """
        batch, timer = self._batch, self._timer
        self._batch = self._timer = None
        if timer is not None:
            timer.stop()
        if batch is None or self._app is None:
            return
        if self._before_release is not None:
            self._before_release()
        batch.__exit__(None, None, None)
        if now:
            draw_now(self._app.screen)
        else:  # the screen skipped its updates while held: its next idle draws them
            self._app.screen.check_idle()
