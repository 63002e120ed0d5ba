"""Textual: key bindings and timers, in order with what the user types."""

from __future__ import annotations

from textual.widget import Widget

# -- Textual: a focused widget's own bindings, in order with typing ------------------------------


async def run_own_key_binding(widget: Widget, key: str) -> bool:
    """Run ``widget``'s own (non-priority) binding for ``key`` now; True if one ran.

    Textual inserts a printable key in the focused widget's ``_on_key``, but a bound key
    (backspace, delete, arrows, ctrl+k) goes on to the app, and its binding runs only there,
    after the event has passed through every ancestor's message queue. A key typed right
    behind it is by then already queued for the widget and is handled first: typing ``a``,
    backspace, ``c`` while the app was busy kept ``a`` and deleted ``c`` (seen under load, one
    key in a few hundred typed during a stream). Called from the widget's ``_on_key``, this
    runs the binding the app would find first for ``key`` (the widget's own, with the app's
    keymap applied) in the key's place in the widget's queue. A no-op if Textual's bindings
    map or keymap moved: then the key takes Textual's path.
    """
    own = getattr(widget, "_bindings", None)
    keymap = getattr(widget.app, "_keymap", None)
    if own is None or keymap is None:
        return False
    bindings = own.copy()
    if keymap:
        bindings.apply_keymap(keymap)
    for binding in bindings.key_to_bindings.get(key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            return True
    return False


def timers_keep_their_slots() -> None:
    """A timer that fell behind ticks at its next slot, not one slot later (all timers).

    Textual's ``Timer`` skips the slots it missed, but to the second one after now: after a
    tick longer than its interval (the screen's 60 Hz update drawing a stream's new lines, 10-25
    ms on a busy machine) the next waited 17-33 ms, and a key typed meanwhile waited for it with
    the loop idle (echo 55-75 ms while a Markdown answer streamed). Idempotent; call it before
    the app starts its timers (a running timer keeps the loop it started with).
    """
    from textual import _time, timer
    from textual.timer import EventTargetGone, Timer

    if getattr(Timer._run, "keeps_slots", False):
        return

    async def run(self: Timer) -> None:
        count = 0
        await self._active.wait()
        start = _time.get_time()
        while self._repeat is None or count <= self._repeat:
            now = _time.get_time()
            if self._skip and start + (count + 1) * self._interval < now:
                count = int((now - start) / self._interval)  # the next slot is after now
            next_timer = start + (count + 1) * self._interval
            # Looked up in Textual's module at each tick, as its own loop does (a test fakes it).
            await vars(timer)["sleep"](max(0.0, next_timer - _time.get_time()))
            count += 1
            await self._active.wait()
            if self._reset:
                start, count, self._reset = _time.get_time(), 0, False
                continue
            try:
                await self._tick(next_timer=next_timer, count=count)
            except EventTargetGone:
                break

    run.keeps_slots = True  # type: ignore[attr-defined]
    run.replaces = Timer._run  # type: ignore[attr-defined]  # upstream's, for the tests
    setattr(Timer, "_run", run)  # noqa: B010 (a method)
