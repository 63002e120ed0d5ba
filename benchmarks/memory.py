"""Memory: resident set size of the TUI after a big stream, a big resume and many turns.

Every scenario runs in a fresh child process on its own pseudo-terminal (the real
``ChatApp`` through ``App.run_test(headless=False, size=(120, 40))``, as in
``tui_stream.py``), so numbers do not mix. RSS is ``VmRSS`` (now) and ``VmHWM`` (peak)
from ``/proc/self/status``; samples are taken after ``gc.collect()`` and a settled screen,
so they show what is retained.

* first screen: the app started, nothing sent (the floor of the other rows).
* 200 KB save_file: the stream of ``tui_stream.py`` (Anthropic format, loopback server,
  approval auto) until the card is done and the turn is over.
* resume 1,000 turns: the transcript of ``long_session.py`` (``write_transcript``: short
  Markdown answers, every 10th turn a ``save_file`` call, one of 1 MB) in a temporary data
  dir, resumed the way ``chattui --resume`` does it (``tui.core.runtime.start`` with
  ``Options(resume="latest")``).
* 1,000 turns in one session: a ``ScriptedProvider`` (``tests/support/scripted.py``) answers
  each prompt with the same 0.2 KB Markdown answer (a paragraph and a code fence); prompts go
  through ``ChatApp.send``, so each turn takes the real path: the user message and the answer
  mounted, old turns pruned, the session's history and request, the transcript appended, the
  status bar's counts. Sampled every 100 turns with the widget count, the objects the cyclic
  collector tracks (start-up objects are frozen out of it by ``tui.ui.pacing.settle_gc``, so
  this counts what the session made and kept) and the time per turn. Below the table: the
  object types that grew most over the judged turns.

How long it takes, and why the full run is the one ``python3 dev.py bench`` runs: the whole
script takes 5-6.5 minutes at load average 2-9 on a shared 2-core machine, nearly all of it the
1,000-turn session at 120-440 ms a turn. That time is the app's own fixed cost of a turn, not
the answer's: on py-spy profiles of the session, 40-50% of the event loop is the full
collection the app makes once idle after each turn (about 170,000 tracked objects) and 35-43%
the layout of a conversation holding its 200 top-level widgets; streaming the answers in
64-character deltas instead of 4 (4 fragments a turn instead of 53) did not shorten it
(200 turns interleaved, load 2-4: 40 and 48 s against 39 and 54 s). A shorter session
would need fewer turns or turns that skip part of the app's path, and then it would no longer
measure 1,000 turns; ``--quick`` (300 turns, sampled every 50, a 50 KB stream, one run of the
times) is a smoke run whose ratio is RSS after 300 turns over after 100.

Between two turns of the one session the child waits, as a user reading the answer would,
until the app has made the full garbage collection it defers while a turn streams (it makes
it once idle for ``IDLE_COLLECT_DELAY``, here shortened to ``PAUSE`` so 1,000 turns do not
take 8 minutes more). ``--back-to-back`` sends each prompt as soon as the turn is over (as a
queue of prompts does): the app then makes the collection it still owes as the next turn
starts (``tui.ui.pacing.defer_full_collections``).

Budgets: under 300 MB after the 200 KB stream; flat over the turns (old turns leave the
widget tree), judged here as at most 10 MB of growth over the second half of the turns, and
RSS after the last turn at most 1.1x RSS after turn 100 (the floor, printed beside it).
The judged turns must start after the widget tree is full: it grows by design until the
conversation holds ``MAX_TURN_WIDGETS`` (200) top-level widgets, about 100 turns, and for
some 50 turns more RSS still rises while the first pruned turns become garbage that waits
for a full collection (memory the allocator then reuses), so ``--quick`` judges turns 150
to 300.

Above the RSS table: the long-session times of ``long_session.py`` (resume and export of the
1,000-turn transcript, timed from outside beside their floors).
Run: ``python benchmarks/memory.py [--quick] [--back-to-back] [--markdown] [--times]``
(``--times``: only the long-session times).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import table
from _probe import rss, running, wait_until
from _pty import CHILD_TIMEOUT, SIZE, child_main, run_child
from _streams import Server, streams
from long_session import ANSWER, demo_env, session_times, write_transcript
from tui_stream import tui_run

THIS = Path(__file__).resolve()
BUDGET_STREAM = 300 * 2**20
FLAT_GROWTH = 10 * 2**20
RSS_RATIO = 1.1
CHUNK = 4  # characters per delta of each answer (as tui_stream.py's streams)
PAUSE = 0.02  # seconds, the compressed pause between turns (see child_turns)
TURNS_TIMEOUT = 1200.0  # seconds the 1,000-turn child may take


def _mb(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.0f} MB"


# -- children -----------------------------------------------------------------------------


async def _settled(app: Any, pilot: Any, types: bool = False) -> dict[str, Any]:
    """RSS, widget and object counts after the screen settled and a full collection (with
    ``types``: the objects by type too)."""
    await pilot.pause()
    gc.collect()
    objects = gc.get_objects()
    sample: dict[str, Any] = {**rss(), "widgets": len(app.query("*")), "objects": len(objects)}
    if types:
        sample["types"] = dict(Counter(type(obj).__qualname__ for obj in objects))
    del objects
    return sample


async def child_resume(spec: dict[str, Any]) -> dict[str, Any]:
    """Resume the transcript in the data dir; sample once it is on screen."""
    from tui.core.runtime import Options, start
    from tui.ui.app import ChatApp

    start_at = time.perf_counter()
    runtime = start(Options(workspace=Path(spec["workspace"]), resume="latest"))
    app = ChatApp(runtime)
    try:
        async with running(app, spec["headless"]) as pilot:
            await wait_until(lambda: len(app.conversation.children) > 0, 120, "the history")
            sample = await _settled(app, pilot)
            sample["shown_after"] = time.perf_counter() - start_at
            sample["messages"] = len(runtime.session.history)
    finally:
        runtime.transcript.close()
    return sample


def _collected() -> bool:
    """Whether full collections run again (the one deferred during the turn was made)."""
    from tui.ui.pacing import DEFERRED_THRESHOLD

    return gc.get_threshold()[2] != DEFERRED_THRESHOLD


async def child_turns(spec: dict[str, Any]) -> dict[str, Any]:
    """Run ``turns`` scripted turns through ``ChatApp.send``; sample every ``every``."""
    from tests.support.scripted import ScriptedProvider, text_turn
    from tui.core.runtime import Options, start
    from tui.ui.app import ChatApp

    if spec["pause"]:
        import tui.ui.app as app_module

        # The user's pause before the next prompt, compressed: the app makes its owed full
        # collection once idle for IDLE_COLLECT_DELAY (0.5 s), which would add 8 minutes.
        app_module.IDLE_COLLECT_DELAY = PAUSE  # type: ignore[attr-defined]
    runtime = start(Options(workspace=Path(spec["workspace"])))
    answer = ANSWER.format(n="n")
    provider = ScriptedProvider(text_turn(answer, size=CHUNK))
    runtime.provider = runtime.session.provider = provider  # type: ignore[assignment]
    app = ChatApp(runtime)
    samples = []
    try:
        async with running(app, spec["headless"]) as pilot:
            samples.append({"turns": 0, **await _settled(app, pilot), "per_turn": None})
            started = time.perf_counter()
            for turn in range(1, spec["turns"] + 1):
                app.send(f"question {turn}")
                await wait_until(lambda: not app.busy, 60, "the turn to end")
                # The fake provider records every request (each holds the whole history):
                # drop them, or the benchmark itself would grow. Its script repeats anyway.
                provider.requests.clear()
                if spec["pause"]:
                    await wait_until(_collected, 30, "the idle collection")
                if turn % spec["every"] == 0:
                    per_turn = (time.perf_counter() - started) / spec["every"]
                    types = turn in (spec["judged_from"], spec["turns"])
                    sample = await _settled(app, pilot, types)
                    samples.append({"turns": turn, **sample, "per_turn": per_turn})
                    started = time.perf_counter()
            errors = list(app.internal_errors)
    finally:
        runtime.transcript.close()
    return {"samples": samples, "internal_errors": errors}


async def child_work(spec: dict[str, Any]) -> dict[str, Any]:
    """The child's scenario."""
    work = {"resume": child_resume, "turns": child_turns}
    return await work[spec["scenario"]](spec)


# -- parent -------------------------------------------------------------------------------


def run_resume(turns: int) -> dict[str, Any]:
    """The resume scenario in a fresh child."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env = demo_env(tmp)
        path = write_transcript(tmp / "data", tmp / "ws", turns)
        size = path.stat().st_size
        spec = {"scenario": "resume", "workspace": str(tmp / "ws")}
        result, _ = run_child(THIS, spec, env, tmp)
    return {**result, "file": size}


def run_turns(turns: int, every: int, judged_from: int, pause: bool = True) -> dict[str, Any]:
    """The many-turns scenario in a fresh child."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        spec = {
            "scenario": "turns",
            "workspace": str(tmp / "ws"),
            "turns": turns,
            "every": every,
            "judged_from": judged_from,
            "pause": pause,
        }
        # 1,000 turns take 2-5 minutes on a loaded 2-core machine, past the cap that
        # ``run_child`` puts on the stream scripts' children by default.
        timeout = max(CHILD_TIMEOUT, TURNS_TIMEOUT)
        result, _ = run_child(THIS, spec, demo_env(tmp), tmp, timeout=timeout)
    return result


def run_stream(quick: bool) -> dict[str, Any]:
    """The save_file stream of ``tui_stream.py`` in a fresh child (no key presses)."""
    stream = next(s for s in streams(quick) if s.key == "save_file")
    with Server() as server:
        result = tui_run(stream, server, headless=False, keys=False, cap=60.0)
    return {**result, "name": stream.name}


def rows(quick: bool, pause: bool = True) -> tuple[list[list[str]], str]:
    """Run the scenarios; one row per sample, and the types that grew over the judged turns."""
    turns, every, resumed = (300, 50, 200) if quick else (1000, 100, 1000)
    out = stream_rows(run_stream(quick))
    resume = run_resume(resumed)
    note = f"{resume['file'] / 1e6:.1f} MB file; shown {resume['shown_after']:.2f} s after start"
    out.append(_sample_row(f"after resuming a {resumed:,}-turn transcript", resume, note))
    session = run_turns(turns, every, judged_from=turns // 2, pause=pause)
    session_out, grown = session_rows(session, turns)
    return out + session_out, grown


def _sample_row(label: str, sample: dict[str, Any], note: str, objects: str = "") -> list[str]:
    """A table row of one sample: RSS, peak RSS, widgets."""
    widgets = f"{sample['widgets']:,}"
    return [label, _mb(sample["VmRSS"]), _mb(sample["VmHWM"]), widgets, objects, note]


def stream_rows(stream: dict[str, Any]) -> list[list[str]]:
    """The first screen's row and the row after the big stream."""
    before, after = stream["rss_before"], stream["rss_after"]
    ok = "ok" if after["VmRSS"] < BUDGET_STREAM and not stream["capped"] else "MISSED"
    return [
        ["first screen (nothing sent)", _mb(before["VmRSS"]), _mb(before["VmHWM"]), "", "", ""],
        [
            f"after {stream['name']}",
            f"{_mb(after['VmRSS'])} ({ok}, < 300 MB)",
            _mb(after["VmHWM"]),
            f"{stream.get('widgets', 0):,}",
            "",
            "not on screen by the cap" if stream["capped"] else "",
        ],
    ]


def session_rows(session: dict[str, Any], turns: int) -> tuple[list[list[str]], str]:
    """One row per sample of the one session, its growth over the judged turns and the ratio."""
    samples = session["samples"]
    out = []
    for sample in samples:
        per_turn = sample["per_turn"]
        note = "" if per_turn is None else f"{per_turn * 1000:.0f} ms/turn"
        label = f"one session, {sample['turns']:,} turns"
        out.append(_sample_row(label, sample, note, f"{sample['objects']:,}"))
    half, last = next(s for s in samples if s["turns"] == turns // 2), samples[-1]
    growth = last["VmRSS"] - half["VmRSS"]
    verdict = "ok" if growth <= FLAT_GROWTH else "MISSED"
    errors = len(session["internal_errors"])
    note = f"flat: {verdict} (<= +10 MB)" + (f"; {errors} internal errors" if errors else "")
    judged = f"turns {half['turns']:,} -> {turns:,}"
    objects = f"{last['objects'] - half['objects']:+,}"
    out.append([f"growth, {judged}", f"{growth / 2**20:+.1f} MB", "", "", objects, note])
    out.append(rss_ratio_row(samples, turns))
    return out, f"objects that grew over {judged}: {_grown(half['types'], last['types'])}"


def rss_ratio_row(samples: list[dict[str, Any]], turns: int) -> list[str]:
    """RSS after the last turn over RSS after turn 100 (the floor), against ``RSS_RATIO``."""
    base = next((s for s in samples if s["turns"] == 100), None)
    if base is None:
        return ["RSS at the last turn / at turn 100", "not sampled", "", "", "", ""]
    ratio = samples[-1]["VmRSS"] / base["VmRSS"]
    verdict = "met" if ratio <= RSS_RATIO else "MISSED"
    label = f"RSS after {turns:,} turns / after 100 turns (floor {_mb(base['VmRSS'])})"
    return [label, f"{ratio:.2f}x", "", "", "", f"{verdict} (<= {RSS_RATIO}x)"]


def _grown(before: dict[str, int], after: dict[str, int], top: int = 8) -> str:
    changes = {name: after.get(name, 0) - before.get(name, 0) for name in {*before, *after}}
    grown = sorted((n, name) for name, n in changes.items() if n > 0)[::-1][:top]
    return ", ".join(f"{name} {n:+,}" for n, name in grown) or "none"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the memory table (or, with ``--child``, be the measured child)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--quick", action="store_true", help="50 KB stream, 300 turns")
    parser.add_argument("--times", action="store_true", help="only resume and export times")
    parser.add_argument(
        "--back-to-back",
        action="store_true",
        help="one session's turns without the pause in which the app collects garbage",
    )
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    if ns.child:
        return child_main(ns.child, child_work)
    headers = ["long session", "floor, same run", "chattui", "/ floor", "<= 1 s"]
    print(table(headers, session_times(1000, 1 if ns.quick else 3), ns.markdown) + "\n")
    if ns.times:
        return 0
    headers = ["scenario", "RSS", "peak RSS", "widgets", "objects", "note"]
    lines, grown = rows(ns.quick, pause=not ns.back_to_back)
    print(table(headers, lines, ns.markdown))
    print(f"\n{grown}")
    print(f"pty {SIZE[0]}x{SIZE[1]}; RSS after gc.collect(); each scenario in a fresh process.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
