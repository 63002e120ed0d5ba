"""Idle CPU: what chattui costs while it waits, against a bare Textual app waiting too.

An idle terminal app should cost about nothing: a laptop's battery pays for every wake-up.
Each run spawns the real ``chattui`` (offline demo, temporary config, data dir and workspace)
on a fresh pseudo-terminal (120x40), and reads the CPU time of all its threads
(``/proc/PID/task/*/schedstat``) over ``--window`` seconds at two moments:

- **idle**: after the first screen (and a second to settle), nothing typed;
- **after a turn**: after the demo's whole turn at its own pace (10-15 s), typed as a person
  would: ``hello``, Enter, ``y`` at the approval question (sent again until the answer shows:
  the question ignores keys for a moment after it appears), then a second to settle once the
  status bar says idle.

The floor, in the same run: the bare Textual app of ``startup.py`` (one ``Input``, its cursor
blinking, as chattui's prompt's does), idle on the same pty. A turn's leftovers once kept
chattui at 100% of a core for good (a hidden Markdown view laying the screen out in a loop:
143x the floor here before the fix), and a 30 Hz frame timer ticked while idle (3-5x): these
rows are there to see that neither comes back.

Budget (ours, not an issue's): each at most 2x the floor, median of ``--repeats`` rounds.
Run: ``python benchmarks/idle_cpu.py [--markdown] [--repeats N] [--window S]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _common import chattui_command, table
from _pty import PtyChild, child_env, strip_ansi
from startup import BARE_APP, _bare_drawn, _usable, cpu_seconds

BUDGET = 2.0
SETTLE = 1.0
"""Seconds left after a screen appears before the window opens."""
STEP_TIMEOUT = 60.0
APPROVAL = "Approve?"
ANSWERED = re.compile(r"Done:.*demo · demo\s+idle", re.DOTALL)


def _wait(child: PtyChild, done: Callable[[str], bool], what: str, nudge: bytes = b"") -> None:
    """Wait until ``done`` holds for the child's output so far (sending ``nudge`` every half
    second meanwhile); raises after ``STEP_TIMEOUT``."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while not done(strip_ansi(bytes(child.output))):
        if time.monotonic() > deadline or child.proc.poll() is not None:
            tail = strip_ansi(bytes(child.output))[-300:]
            raise RuntimeError(f"no {what}: {tail!r}")
        if nudge:
            child.send(nudge)
        time.sleep(0.5)


def cpu_share(pid: int, window: float) -> float:
    """The share of one core that ``pid``'s threads used over the next ``window`` seconds."""
    start, started = cpu_seconds(pid), time.perf_counter()
    time.sleep(window)
    return (cpu_seconds(pid) - start) / (time.perf_counter() - started)


def bare_idle(window: float) -> float:
    """The floor: the bare Textual app's share of a core, idle."""
    with tempfile.TemporaryDirectory() as name:
        command = [sys.executable, "-c", BARE_APP]
        child = PtyChild(command, child_env(Path(name), None), watch=_bare_drawn)
        try:
            _wait(child, lambda text: child.seen is not None, "bare screen")
            time.sleep(SETTLE)
            return cpu_share(child.proc.pid, window)
        finally:
            child.finish(5.0, kill=True)


def chattui_idle(window: float) -> tuple[float, float]:
    """chattui's share of a core idle before any turn, and after the demo's turn."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "ws").mkdir()
        config = tmp / "config.toml"
        config.write_text('[providers.demo]\nkind = "demo"\n', encoding="utf-8")
        command = [*chattui_command(), "--workspace", str(tmp / "ws")]
        env = child_env(tmp, config)
        env.pop("CHATTUI_DEMO_DELAY")  # the demo at its own pace, as a person sees it
        child = PtyChild(command, env, watch=_usable)
        try:
            _wait(child, lambda text: child.seen is not None, "first screen")
            time.sleep(SETTLE)
            before = cpu_share(child.proc.pid, window)
            child.send(b"hello\r")
            _wait(child, lambda text: APPROVAL in text, "approval question")
            seen = len(strip_ansi(bytes(child.output)))
            _wait(child, lambda text: ANSWERED.search(text, seen) is not None, "answer", b"y")
            time.sleep(SETTLE)
            return before, cpu_share(child.proc.pid, window)
        finally:
            child.finish(5.0, kill=True)


def _cell(share: list[float], floor: list[float]) -> str:
    ratio = statistics.median(s / f for s, f in zip(share, floor, strict=True) if f)
    verdict = "met" if ratio <= BUDGET else "MISSED"
    return f"{statistics.median(share):.1%} of a core: {ratio:.1f}x ({verdict}, <= {BUDGET:g}x)"


def rows(repeats: int, window: float) -> list[list[str]]:
    """Floor and chattui, interleaved in each round; medians and per-round ratios."""
    floor: list[float] = []
    idle: list[float] = []
    after: list[float] = []
    for _ in range(repeats):
        floor.append(bare_idle(window))
        before, later = chattui_idle(window)
        idle.append(before)
        after.append(later)
    return [
        ["bare Textual app with one Input, idle (floor)", f"{statistics.median(floor):.1%}"],
        ["chattui idle, first screen, nothing typed", _cell(idle, floor)],
        ["chattui idle after the demo's turn (approved, answered)", _cell(after, floor)],
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the idle CPU table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window", type=float, default=5.0, help="seconds measured")
    ns = parser.parse_args(argv)
    print(table(["idle CPU", "share of a core"], rows(ns.repeats, ns.window), ns.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
