"""Memory: resident set size of the TUI after a big stream, a big resume and many turns.

Every scenario runs in a fresh child process on its own pseudo-terminal (the real
``ChatApp`` through ``App.run_test(headless=False, size=(120, 40))``, as in
``tui_stream.py``), so numbers do not mix. RSS is ``VmRSS`` (now) and ``VmHWM`` (peak)
from ``/proc/self/status``; samples are taken after ``gc.collect()`` and a settled screen,
so they show what is retained.

* first screen: the app started, nothing sent (the floor of the other rows).
* 200 KB save_file: the stream of ``tui_stream.py`` (Anthropic format, loopback server,
  approval auto) until the card is done and the turn is over.
* resume 1,000 turns: a transcript written with ``TranscriptWriter`` (each turn: the user's
  question and a 0.2 KB Markdown answer, a paragraph and a code fence; every 10th turn also
  a ``save_file`` call of 2 KB and its result, the tenth-last one of 1 MB) in a temporary
  data dir, then resumed the way
  ``chattui --resume`` does it (``tui.core.runtime.start`` with ``Options(resume="latest")`` and
  ``--resume``).
* 1,000 turns in one session: a ``ScriptedProvider`` (``tests/support/scripted.py``) answers
  each prompt with that Markdown answer in 4-character deltas; prompts go through
  ``ChatApp.send``; sampled every 100 turns with the widget count, the objects the cyclic
  collector tracks (start-up objects are frozen out of it by ``tui.ui.pacing.settle_gc``, so
  this counts what the session made and kept) and the time per turn. Below the table: the
  object types that grew most over the judged turns.

Long sessions, timed from outside (first table; medians of 3 runs, ``--quick`` 1): the same
1,000-turn transcript, whose tenth-last turn saves a 1 MB file (so the resumed screen shows
its card), in a fresh data dir.

* resume: ``chattui --resume`` spawned on a pty (120x40) until the status bar, the footer and
  the newest answer are drawn. Floor: a bare Textual app with one ``Input``
  (``startup.BARE_APP``) until its first screen, spawned the same way just before: the
  interpreter, Textual and a first frame, which any Textual client pays before showing
  anything; what chattui adds is reading the file and building the screen of the newest
  turns. (Reading and parsing the file alone is the export's floor below.)
* export: ``chattui export latest --format md|json -o FILE``, process spawn to exit. Floor: a
  Python process that reads the same file and ``json.loads`` every line, the least any
  export of it must do (no output written).

Runs alternate floor and chattui; the ratio is the median of per-run ratios. Budget: each at
most 1 s (the ratio is printed to compare runs on a loaded machine).

Between two turns of the one session the child waits, as a user reading the answer would,
until the app has made the full garbage collection it defers while a turn streams (it makes
it once idle for ``IDLE_COLLECT_DELAY``, here shortened to ``PAUSE`` so 1,000 turns do not
take 8 minutes more). ``--back-to-back`` sends each prompt as soon as the turn is over (as a
queue of prompts does): the deferred collection then never runs, the pruned turns' widgets
wait as garbage for the benchmark's own ``gc.collect()`` every 100 turns, and RSS keeps that
higher mark (82 MB at turn 100, 130 MB from turn 400 on one run under load).

Budgets: under 300 MB after the 200 KB stream; flat over 1,000 turns (old turns leave the
widget tree), judged here as at most 10 MB of growth over the second half of the turns, and
RSS after the last turn at most 1.1x RSS after turn 100 (the floor, printed beside it).
The judged turns must start after the widget tree is full: it grows by design until the
conversation holds ``MAX_TURN_WIDGETS`` (200) top-level widgets, about 100 turns, and for
some 50 turns more RSS still rises while the first pruned turns become garbage that waits
for a full collection (memory the allocator then reuses). So ``--quick`` runs 300 turns,
sampled every 50, and judges turns 150 to 300; it used to run 200 and judge 100 to 200,
exactly the turns in which pruning starts, which read as growth that the full run shows
levelling off.
Run: ``python benchmarks/memory.py [--quick] [--markdown] [--times]`` (``--times``: only the
long-session times).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tui_stream
from _common import chattui_command, table
from startup import _usable, first_screen
from tui_stream import (
    SIZE,
    PtyChild,
    Server,
    child_env,
    child_main,
    rss,
    run_child,
    running,
    streams,
    strip_ansi,
    tui_run,
    wait_until,
)

THIS = Path(__file__).resolve()
BUDGET_STREAM = 300 * 2**20
FLAT_GROWTH = 10 * 2**20
RSS_RATIO = 1.1
CHUNK = 4
BIG_FILE = 2**20  # one save_file of the transcript writes a file this big
PAUSE = 0.02  # seconds, the compressed pause between turns (see child_turns)
TURNS_TIMEOUT = 1200.0  # seconds the 1,000-turn child may take
TIME_BUDGET = 1.0  # seconds, for resume to a usable screen and for export
PARSE_FLOOR = (
    "import json, sys\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    records = [json.loads(line) for line in f]\n"
)
ANSWER = (
    "Answer {n}: the `parse` step is **linear**, and the cache keeps the last result, so a "
    "second call with the same text costs nothing. Here is the shape of it:\n\n"
    "```python\ndef parse(text):\n    return text.split()\n```\n"
)
DEMO_CONFIG = '[providers.demo]\nkind = "demo"\n[tools]\nworkspace = "{workspace}"\n'


def _mb(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.0f} MB"


# -- children -----------------------------------------------------------------------------


async def _settled(app: Any, pilot: Any, types: bool = False) -> dict[str, Any]:
    """RSS, widget and object counts after the screen settled and a full collection (with
    ``types``: the objects by type too)."""
    await pilot.pause()
    gc.collect()
    objects = gc.get_objects()
    sample = {**rss(), "widgets": len(app.query("*")), "objects": len(objects)}
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
    provider = ScriptedProvider(text_turn(ANSWER.format(n="n"), size=CHUNK))
    runtime.provider = runtime.session.provider = provider  # type: ignore[assignment]
    app = ChatApp(runtime)
    samples = []
    try:
        async with running(app, spec["headless"]) as pilot:
            samples.append({"turns": 0, **await _settled(app, pilot), "per_turn": None})
            started = time.perf_counter()
            for turn in range(1, spec["turns"] + 1):
                sent = app.send(f"question {turn}")
                if inspect.isawaitable(sent):  # ChatApp.send was a coroutine before
                    await sent
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


def write_transcript(data_dir: Path, workspace: Path, turns: int) -> Path:
    """A ``turns``-turn conversation saved the way chattui saves one."""
    from providers.conversation import AssistantMessage, TextPart, ToolCall, ToolResult
    from providers.conversation import UserMessage as UserMsg
    from tui.core import locations
    from tui.core.transcript import TranscriptWriter

    directory = locations.transcripts_dir({"CHATTUI_DATA_DIR": str(data_dir)})
    line = "def handler(event):\n    return {'ok': True}\n"
    source, big = line * 50, line * (BIG_FILE // len(line))
    with TranscriptWriter.create(
        directory, provider="demo", model="demo", workspace=str(workspace)
    ) as writer:
        for turn in range(1, turns + 1):
            writer.append_user(UserMsg(f"question {turn}"))
            if turn % 10 == 0:
                content = big if turn == turns - 10 else source
                arguments = {"path": f"f{turn}.py", "content": content}
                call = ToolCall(f"call_{turn}", "save_file", arguments, json.dumps(arguments))
                writer.append(AssistantMessage((call,), "demo", "tool_calls"))
                writer.append(ToolResult(call.id, "save_file", f"wrote f{turn}.py"))
            writer.append(AssistantMessage((TextPart(ANSWER.format(n=turn)),), "demo", "stop"))
        return writer.path


def _demo_env(tmp: Path) -> dict[str, str]:
    workspace = tmp / "ws"
    workspace.mkdir(exist_ok=True)
    config = tmp / "config.toml"
    config.write_text(DEMO_CONFIG.format(workspace=workspace), encoding="utf-8")
    return child_env(tmp, config)


def run_resume(turns: int) -> dict[str, Any]:
    """The resume scenario in a fresh child."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env = _demo_env(tmp)
        path = write_transcript(tmp / "data", tmp / "ws", turns)
        size = path.stat().st_size
        spec = {"scenario": "resume", "workspace": str(tmp / "ws")}
        result, _ = run_child(THIS, spec, env, tmp)
    return {**result, "file": size}


def run_turns(turns: int, every: int, judged_from: int, pause: bool = True) -> dict[str, Any]:
    """The many-turns scenario in a fresh child."""
    # 1,000 turns take 2-5 minutes on a loaded 2-core machine, past the cap that
    # ``run_child`` puts on the stream scripts' children (which read it from the module).
    tui_stream.CHILD_TIMEOUT = max(tui_stream.CHILD_TIMEOUT, TURNS_TIMEOUT)
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
        result, _ = run_child(THIS, spec, _demo_env(tmp), tmp)
    return result


# -- long sessions: resume and export times, from outside --------------------------------------


def _resume_screen(tmp: Path, turns: int) -> float:
    """Seconds from spawning ``chattui --resume`` on a pty to a usable screen showing the
    newest answer."""
    newest = f"Answer {turns}:"

    def shown(output: bytes) -> bool:
        return newest in strip_ansi(output) and _usable(output)

    command = [*chattui_command(), "--workspace", str(tmp / "ws"), "--resume"]
    child = PtyChild(command, _demo_env(tmp), watch=shown)
    child.event.wait(60.0)
    seen = child.seen
    child.finish(5.0, kill=True)
    if seen is None:
        raise RuntimeError(f"resume not shown: {strip_ansi(bytes(child.output))[-300:]!r}")
    return seen - child.started


def _timed(argv: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def session_times(turns: int, repeats: int) -> list[list[str]]:
    """Resume and export of a ``turns``-turn transcript beside their floors, alternated."""
    runs: dict[str, list[tuple[float, float]]] = {"resume": [], "md": [], "json": []}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env = _demo_env(tmp)
        path = write_transcript(tmp / "data", tmp / "ws", turns)
        parse = [sys.executable, "-c", PARSE_FLOOR, str(path)]
        for _ in range(repeats):
            runs["resume"].append((first_screen(bare=True), _resume_screen(tmp, turns)))
            for fmt in ("md", "json"):
                export = [*chattui_command(), "export", "latest", "--format", fmt]
                out = ["-o", str(tmp / f"out.{fmt}")]
                runs[fmt].append((_timed(parse, env), _timed(export + out, env)))
        size = path.stat().st_size
    med = statistics.median
    labels = {
        "resume": (
            f"resume {turns:,} turns ({size / 1e6:.1f} MB) to a usable screen",
            "bare Textual app's first screen",
        ),
        "md": ("chattui export --format md of that transcript", "read + json.loads each line"),
        "json": ("chattui export --format json", "read + json.loads each line"),
    }
    out = []
    for key, pairs in runs.items():
        label, floor_name = labels[key]
        ours, ratio = med(o for _, o in pairs), med(o / f for f, o in pairs)
        verdict = "met" if ours <= TIME_BUDGET else "MISSED"
        floor = f"{floor_name}: {med(f for f, _ in pairs) * 1000:,.0f} ms"
        out.append([label, floor, f"{ours * 1000:,.0f} ms", f"{ratio:.2f}x", verdict])
    return out


def run_stream(quick: bool) -> dict[str, Any]:
    """The save_file stream of ``tui_stream.py`` in a fresh child (no key presses)."""
    stream = next(s for s in streams(quick) if s.key == "save_file")
    with Server() as server:
        result = tui_run(stream, server, headless=False, keys=False, cap=60.0)
    return {**result, "name": stream.name}


def rows(quick: bool, pause: bool = True) -> tuple[list[list[str]], str]:
    """Run the scenarios; one row per sample, and the types that grew over the judged turns."""
    turns, every, resumed = (300, 50, 200) if quick else (1000, 100, 1000)
    stream = run_stream(quick)
    out = [
        [
            "first screen (nothing sent)",
            _mb(stream["rss_before"]["VmRSS"]),
            _mb(stream["rss_before"]["VmHWM"]),
            "",
            "",
            "",
        ],
    ]
    after = stream["rss_after"]
    ok = "ok" if after["VmRSS"] < BUDGET_STREAM and not stream["capped"] else "MISSED"
    out.append(
        [
            f"after {stream['name']}",
            f"{_mb(after['VmRSS'])} ({ok}, < 300 MB)",
            _mb(after["VmHWM"]),
            f"{stream.get('widgets', 0):,}",
            "",
            "not on screen by the cap" if stream["capped"] else "",
        ]
    )
    resume = run_resume(resumed)
    out.append(
        [
            f"after resuming a {resumed:,}-turn transcript",
            _mb(resume["VmRSS"]),
            _mb(resume["VmHWM"]),
            f"{resume['widgets']:,}",
            "",
            f"{resume['file'] / 1e6:.1f} MB file; shown {resume['shown_after']:.2f} s after start",
        ]
    )
    session = run_turns(turns, every, judged_from=turns // 2, pause=pause)
    samples = session["samples"]
    for sample in samples:
        per_turn = sample["per_turn"]
        note = "" if per_turn is None else f"{per_turn * 1000:.0f} ms/turn"
        out.append(
            [
                f"one session, {sample['turns']:,} turns",
                _mb(sample["VmRSS"]),
                _mb(sample["VmHWM"]),
                f"{sample['widgets']:,}",
                f"{sample['objects']:,}",
                note,
            ]
        )
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
