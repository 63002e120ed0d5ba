"""How the UI keeps up with a stream: frame rate, worker slices, collector, first-use costs.

A fast server (or a backlog after a pause) delivers thousands of events with no wait
between them, and the Python loop is single-threaded: whatever the turn worker does, keys
and frames wait for. These are the knobs that keep a key's echo and the next frame
prompt while the worker drains, each with what it was measured to cost.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from time import perf_counter
from typing import TypeVar

T = TypeVar("T")

FRAME = 1 / 30
"""Buffered stream output is applied to the widgets once a frame (``ChatApp._tick``)."""
FRAME_SHARE = 0.3
"""Most of the loop's time that applying buffered output and drawing the frame it causes may
take. A frame that follows a growing answer redraws the whole conversation (it scrolled):
when that costs more than this share of a ``FRAME`` (a slow or busy machine), the next update
waits until the frame's cost is at most this share of the time since the last one. Without
it, on a stream sent one event per network write, frames took 88% of the loop and the turn
worker read the stream in the gaps: a 20 KB answer drew in 6 s where pipe mode took 0.3 s.
At 0.5 the 60 KB answer, one event per write, took 2.56x a plain read of it to its last
line; at 0.3, 2.28x (8 interleaved runs each, load 2)."""
BURST_RATE = 50_000
"""Characters a second of streamed output past which it is a burst (a backlog after a pause,
a replay, a local server sending a finished answer): the fastest models write about 10,000.
Nobody reads a burst as it comes: it is updated every ``BURST_FRAME`` seconds."""
BURST_FRAME = 0.2
"""Seconds between updates while output arrives faster than ``BURST_RATE``. Each update of a
burst is a render of the screenful it ends with and a frame laying out the grown answer
(10-15 ms together at 120x40), taken from reading the rest, and the rows of all but the last
are scrolled away unread. The 60 KB answer sent one event per write (a burst for its
whole 0.1-0.2 s), at 0.1 and 0.2, 8 interleaved runs each (load 2-2.7): the TUI's CPU from
Enter to the last line 247 -> 218 ms (Anthropic framing) and 240 -> 212 ms (OpenAI), its time
2.08 -> 1.89x and 2.02 -> 1.66x a plain read of the bytes, key echo median 24 -> 13-17 ms."""
PUMP_SLICE = 0.004
"""Longest the turn worker hands buffered events to the UI before it lets the loop run: one
network read can hold thousands of events, and the generator only waits when it needs
bytes, so without this a worker step ran 22-39 ms (keys and frames waited behind it)."""
PUMP_YIELDS = 8
"""Loop turns the worker gives away after a slice. A key's echo is a chain of steps (key
event, screen, prompt, idle, repaint, terminal write), each waiting for a turn of the loop;
with one turn per slice it waited about a slice per step (echo median 24 ms while a file
streamed); eight turns cost microseconds when nothing waits and let the chain through."""
GC_THRESHOLDS = (700, 10, 40)
"""Cyclic GC thresholds once the first screen is up: Python's default is (700, 10, 10); a
larger third value makes full collections (the only long pauses) rarer while streaming."""
DEFERRED_THRESHOLD = 1_000_000
"""Third GC threshold while a turn runs. With 40, a fast Markdown stream (paced, 1 KB every
3 ms) met a full collection about every 1.5 s, landing on a layout frame: 52 ms stalls. The
collection owed is made when the app is idle (``collect_deferred``)."""
IDLE_COLLECT_DELAY = 0.5
"""Seconds after a turn ends before the owed full collection (15-25 ms), if none started."""
FIRST_REQUEST_MODULES = ("anyio._backends._asyncio",)
"""Imported by the HTTP client's first request (httpcore's connection backend): 20-50 ms on
the loop at the first send, once a stall over 50 ms."""


async def paced(
    events: AsyncIterator[T], ending: Callable[[T], bool] = lambda _: False
) -> AsyncGenerator[T, None]:
    """``events`` as they come, with ``PUMP_YIELDS`` loop turns after each ``PUMP_SLICE``.

    The slice counts the consumer's time too (the generator resumes after the consumer has
    handled an event). An event for which ``ending`` holds (the turn's last ones) is handed
    on at once: the loop turns before it drew a frame of the answer still running (the last
    block's final render had used up the slice), and the frame showing the turn ended then
    waited for Textual's next 60 Hz refresh: 12-15 ms later, with one more frame drawn.
    Closing this generator closes ``events``.
    """
    deadline = perf_counter() + PUMP_SLICE
    async with aclosing(events) as stream:  # type: ignore[type-var]
        async for event in stream:
            if perf_counter() > deadline and not ending(event):
                await let_others_run()
                deadline = perf_counter() + PUMP_SLICE
            yield event


class FrameBudget:
    """When the next buffered-output update may be applied (see ``FRAME_SHARE`` and
    ``BURST_RATE``).

    ``start`` is called as an update begins, ``drawn`` once the frame it caused is on screen;
    ``due`` says whether the next may start. Real time (``perf_counter``), not the app's clock:
    this is about the CPU, and a test's frozen clock must not stop updates.
    """

    def __init__(self) -> None:
        self._started = 0.0
        self._next = 0.0

    def due(self, fed: int = 0) -> bool:
        """Whether an update may start now, ``fed`` characters of output waiting for it."""
        now = perf_counter()
        if now < self._next:
            return False
        since = now - self._started
        return since >= BURST_FRAME or fed <= BURST_RATE * since

    def start(self) -> float:
        """An update begins; returns its start time, for ``drawn``."""
        self._started = perf_counter()
        self._next = self._started + FRAME  # until ``drawn`` says more
        return self._started

    def drawn(self, started: float) -> None:
        """The update that began at ``started`` is on screen: space the next one by its cost."""
        cost = perf_counter() - started
        self._next = started + max(FRAME, cost / FRAME_SHARE)


async def let_others_run() -> None:
    """Give the loop ``PUMP_YIELDS`` turns: what a key's echo needs between two slices of work."""
    for _ in range(PUMP_YIELDS):
        await asyncio.sleep(0)


class _Deferral:
    """The third GC threshold put aside while full collections are deferred (or None)."""

    saved: int | None = None


def defer_full_collections() -> None:
    """No full garbage collection until ``collect_deferred`` (young ones still run).

    Called as a turn starts. A collection still owed from the last turn (turns ran back to
    back, a queue of prompts: the app was never idle) is made first, here, between two
    turns, so garbage never piles up for more than one turn.
    """
    collect_deferred()
    first, second, _Deferral.saved = gc.get_threshold()
    gc.set_threshold(first, second, DEFERRED_THRESHOLD)


def collect_deferred() -> None:
    """Make the deferred full collection now, then collect as usual again.

    Restoring the threshold alone would not do: the next young collection would find the
    oldest generation long overdue and collect it then, mid-frame (a 60 ms stall as the
    answer's last block rendered).
    """
    if _Deferral.saved is None:
        return
    gc.collect()
    first, second, _ = gc.get_threshold()
    gc.set_threshold(first, second, _Deferral.saved)
    _Deferral.saved = None


def pay_first_use_costs() -> None:
    """The HTTP stack's first-request imports, paid in a thread at start-up (the app warms
    syntax highlighting beside it: ``code_view.warm_up``)."""
    for name in FIRST_REQUEST_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # another version of the HTTP stack: nothing to warm
            pass


def settle_gc() -> None:
    """Keep garbage-collection pauses short while answers stream (once per process).

    A full collection walks every object the collector tracks, and after start-up there are
    about 60,000 (Textual, Rich, the stylesheet, our modules), all living as long as the
    process: mid-stream, a full collection took 30-41 ms, a visible stall. ``gc.freeze()``
    moves them to the permanent generation, which collections skip (measured: 15-23 ms, and
    with the higher third threshold none during a 200 KB stream). One collection first, so
    that start-up garbage is freed rather than kept for good. Collections were off until now
    (``tui.cli`` turns them off for start-up): back on.
    """
    gc.enable()
    if gc.get_freeze_count():  # already done (another app in this process, or the host)
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
