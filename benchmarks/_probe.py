"""In-app probes of the TUI benchmarks: hooks in a running ChatApp that time what it does.

``Probe`` wraps the app's terminal write (frames), the status bar's ``observe`` (the
fragments the turn worker hands to the UI) and the prompt's ``render_line`` (key echo); a
heartbeat task notes loop stalls. ``stream_once`` sends "go" and waits with it until the
answer is on screen. All of it runs in the measured child, on the app's loop.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from _pty import CHILD_TIMEOUT, SIZE

HEARTBEAT = 0.005
KEY_INTERVAL = 0.05
STALL_BUDGET = 0.05


class Probe:
    """Hooks into a running ChatApp that time frames, fragments, stalls and key echoes."""

    def __init__(self, app: Any, check: dict[str, Any]) -> None:
        self.app = app
        self.check = check
        self.t_send: float | None = None
        self.t_done: float | None = None
        self.t_idle: float | None = None
        self.capped = False
        self.chars = 0  # of the counted deltas: / check["size"] = wire fragments
        self.t_first: float | None = None
        self.t_last: float | None = None
        self.frames = 0
        self.max_gap = 0.0
        self.max_gap_at = 0.0
        self.stalls = 0
        self.echoes: list[float] = []
        self.key_sent: float | None = None
        self.key_expect = 0
        self.painted = 0
        self._target: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.beat = time.perf_counter()
        self.traces: dict[float, dict[str, Any]] = {}  # by the beat before the stall

    def trace_stalls(self, after: float = 0.02, every: float = 0.005) -> None:
        """Sample the loop thread's stack while the heartbeat is late (a diagnostic thread)."""
        loop_thread = threading.get_ident()

        def watch() -> None:
            while True:
                time.sleep(every)
                beat = self.beat
                if time.perf_counter() - beat < after or self.t_send is None:
                    continue
                frame = sys._current_frames().get(loop_thread)
                stack = traceback.format_stack(frame, limit=40) if frame is not None else []
                trace = self.traces.setdefault(beat, {"at": beat - self.t_send, "samples": []})
                trace["samples"].append([line.strip().replace("\n", " | ") for line in stack])

        threading.Thread(target=watch, daemon=True).start()

    def install(self) -> None:
        """Wrap the app's terminal write, the status bar's observe and the prompt's paint."""
        self._wrap_display()
        self._wrap_observe()
        self._wrap_render_line()

    def _wrap_display(self) -> None:
        display = self.app._display

        def _display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self._frame()

        self.app._display = _display

    def _wrap_observe(self) -> None:
        from providers.events import TextDelta, ToolCallDelta

        status = self.app.status_bar
        observe = status.observe
        # Only the stream under test: not the short text reply after the tool ran.
        counted = TextDelta if self.check["type"] == "markdown" else ToolCallDelta

        def _observe(event: Any) -> None:
            if isinstance(event, counted):
                now = time.perf_counter()
                self.chars += len(event.text if counted is TextDelta else event.arguments)
                self.t_first = self.t_first or now
                self.t_last = now
            observe(event)

        status.observe = _observe

    def _wrap_render_line(self) -> None:
        prompt = self.app.prompt
        render_line = prompt.render_line

        def _render_line(y: int) -> Any:
            self.painted = len(prompt.text)
            return render_line(y)

        prompt.render_line = _render_line

    def _frame(self) -> None:
        now = time.perf_counter()
        if self.t_send is None:
            return
        if self.t_done is None:
            self.frames += 1
        if self.t_idle is None and self.t_last is not None and not self.app.busy:
            self.t_idle = now
        if self.key_sent is not None and self.painted >= self.key_expect:
            self.echoes.append(now - self.key_sent)
            self.key_sent = None
        if self.t_done is None and self._complete():
            self.t_done = now

    def _complete(self) -> bool:
        from tui.ui.widgets.code_view import CodeView
        from tui.ui.widgets.messages import AssistantText
        from tui.ui.widgets.tool_card import ToolCard

        app = self.app
        if self.check["type"] == "markdown":
            if app.busy:
                return False
            texts = app.query(AssistantText)
            if not texts:
                return False
            document = texts.last().document
            return self.check["last"] in document.line_text(document.height - 1)
        if self._target is None:
            cards = app.query(ToolCard)
            if not cards:
                return False
            self._target = cards.last()
        card = self._target
        return card.state == "done" and card.query_one(CodeView).line_count == self.check["lines"]

    async def heartbeat(self) -> None:
        """Note the longest gap between 5 ms sleeps while the answer is on its way."""
        last = time.perf_counter()
        while True:
            await asyncio.sleep(HEARTBEAT)
            now = time.perf_counter()
            gap, last, before = now - last, now, self.beat
            self.beat = now
            if before in self.traces:
                self.traces[before]["gap"] = gap
            if self.t_send is not None and self.t_done is None:
                if gap > self.max_gap:
                    self.max_gap, self.max_gap_at = gap, now - self.t_send
                self.stalls += gap > STALL_BUDGET

    async def type_keys(self, pilot: Any) -> None:
        """Press a letter every 50 ms (after the previous one was echoed) while streaming."""
        while self.t_first is None and self.t_done is None:
            await asyncio.sleep(0.002)
        letters = "abcdefghijklmnopqrstuvwxyz"
        count = 0
        while self.t_done is None:
            await asyncio.sleep(KEY_INTERVAL)
            if self.t_done is not None or self.key_sent is not None:
                continue
            self.key_expect = len(self.app.prompt.text) + 1
            self.key_sent = time.perf_counter()
            self.spawn(pilot.press(letters[count % 26]))
            count += 1

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` as a task kept until it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def result(self) -> dict[str, Any]:
        """The measurements as JSON-able values."""
        return {
            "t_send": self.t_send,
            "t_done": self.t_done,
            "fragments": self.chars / self.check["size"],
            "t_idle": self.t_idle,
            "capped": self.capped,
            "t_first": self.t_first,
            "t_last": self.t_last,
            "frames": self.frames,
            "max_gap": self.max_gap,
            "max_gap_at": self.max_gap_at,
            "stalls": self.stalls,
            "echoes": self.echoes,
            "unechoed": self.key_sent is not None,
            "traces": sorted(self.traces.values(), key=lambda t: -t.get("gap", 0))[:4],
        }


def rss() -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident set size, in bytes."""
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` every 5 ms."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@asynccontextmanager
async def running(app: Any, headless: bool) -> AsyncIterator[Any]:
    """``app.run_test`` at ``SIZE``; an error of the body is not hidden by one at shutdown."""
    inner: list[str] = []
    try:
        async with app.run_test(headless=headless, size=SIZE) as pilot:
            try:
                yield pilot
            except BaseException:
                inner.append(traceback.format_exc())
                raise
    except BaseException:
        if inner:
            raise RuntimeError(f"in the benchmark:\n{inner[0]}") from None
        raise


async def stream_once(
    app: Any,
    pilot: Any,
    check: dict[str, Any],
    keys: bool,
    trace: bool = False,
    cap: float = CHILD_TIMEOUT / 2,
    probe_class: type[Probe] = Probe,
) -> Probe:
    """Send "go" with Enter and wait until the answer is on screen; returns the probe.

    After ``cap`` seconds the probe is returned with ``capped`` set (the turn still runs).
    ``probe_class`` lets another app (``markdown_peer.py``) say when its answer is complete.
    """
    probe = probe_class(app, check)
    probe.install()
    if trace:
        probe.trace_stalls()
    probe.spawn(probe.heartbeat())
    app.prompt.load_text("go")
    await pilot.pause()
    probe.t_send = time.perf_counter()
    probe.spawn(pilot.press("enter"))
    if keys:
        probe.spawn(probe.type_keys(pilot))
    try:
        await wait_until(lambda: probe.t_done is not None, cap, "the answer")
    except TimeoutError:
        probe.capped = True
        return probe
    await wait_until(lambda: probe.key_sent is None, 5.0, "the last key's echo")
    await wait_until(lambda: not app.busy, 30.0, "the turn to end")
    await pilot.pause()
    return probe
