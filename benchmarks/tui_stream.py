"""TUI streaming: the real ChatApp drains a loopback stream, next to pipe mode on the same bytes.

Streams (built from the Markdown unit and the file content of ``pipe_throughput.py``,
served by a loopback HTTP server in 16 KB chunks, unpaced): a 60 KB Markdown answer
(headings, lists, tables, code fences, then one closing line) in 5-character deltas, OpenAI
format; and a 200 KB ``save_file`` call in 4-character argument fragments, Anthropic format,
run by ``approval = "auto"`` and followed by a short text reply. Unpaced, both are over in a
fraction of a second, too short to type into; the third stream ("paced") is a 50 KB
``save_file`` sent in 2 KB reads every 3 ms (about 15 events a read, ~3 s of streaming, far
faster than a model writes), so key echo and stalls are measured over seconds of continuous
work; a fourth ("paced_markdown") sends the Markdown answer in 1 KB reads every 3 ms.

The TUI is the real ``ChatApp`` over ``tui.core.runtime.start`` (the provider pointed at the
server), in a fresh child process attached to a pseudo-terminal: ``App.run_test(headless=
False, size=(120, 40))``, so Textual's Linux driver encodes and writes every frame to the
pty (the parent drains it) while a Pilot presses the keys. Times are CLOCK_MONOTONIC
(``perf_counter``), which the parent and the child share.

* send -> on screen: from pressing Enter (prompt "go") to the first frame written to the
  terminal at which the answer is complete. Markdown: the turn is over (``app.busy`` is
  False, so the answer's last block is final) and the last line the answer's
  ``MarkdownView`` draws holds the closing line. save_file: the card is ``done`` and its
  ``CodeView.line_count`` equals the file's. A frame is a call of ``App._display`` with a
  compositor update (the app's only path to the terminal).
* fragments/s: the wire fragments of the stream's text (Markdown) or arguments (save_file)
  handed to the UI by the turn worker, over the first-to-last delta interval. The provider
  layer coalesces the fragments one network read carried into one event, so events are not
  counted: the characters of text or argument deltas seen by ``StatusBar.observe`` are, and
  divided by the fragment size the stream was served in (5 or 4) they give the fragments.
* max stall: the longest gap seen by an asyncio task on the app's loop that sleeps 5 ms,
  from Enter to on screen (so it includes the final render).
* key echo: while the answer streams, every 50 ms (once the previous key was echoed) a
  letter is pressed with ``pilot.press``; its latency runs from the key event being sent to
  the first frame written after the prompt's ``render_line`` ran with the letter already in
  the prompt's document (key -> TextArea edit -> repaint -> terminal write).
* pipe mode: ``chattui -p go --json --yes``, same config and bytes, timed from the request's
  arrival at the server (its start-up excluded) to the line ending the same work:
  ``finish`` (Markdown) or ``tool_result`` (save_file). Its fragments/s counts the same way:
  characters of ``text`` (Markdown) or ``tool_call_delta`` (save_file) lines / fragment size.

A run whose answer is not on screen after ``--cap`` seconds (15; quick 10) is reported as
"> cap" and not repeated (its child is ended at once). Runs of the TUI and of pipe mode
alternate, so a change in machine load hits both; one pipe run before them warms caches.
``--trace-stalls`` samples the app's stack during stalls (a diagnostic thread);
``--headless`` uses Textual's headless driver instead of the pty.

Budgets: the 60 KB answer on screen within 1 s of sending; on the save_file the TUI within
1.5x of pipe mode and at least 5,000 fragments/s; no stall over 50 ms; key echo under 50 ms.
Run: ``python benchmarks/tui_stream.py [--quick] [--markdown] [--repeats N] [--only NAME]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import table
from _pipe_floor import pipe_run
from _probe import rss, running, stream_once
from _pty import CHILD_TIMEOUT, child_env, child_main, run_child, strip_ansi
from _stream_table import Summary, footer, print_traces, rows, summarize
from _streams import END_LINE, Server, Stream, streams, write_config

THIS = Path(__file__).resolve()


def tui_run(
    stream: Stream,
    server: Server,
    headless: bool,
    trace: bool = False,
    cap: float = 20.0,
    keys: bool = True,
) -> dict[str, Any]:
    """One TUI run of ``stream`` in a fresh child."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        config = write_config(tmp, stream.kind, server.url(stream.kind))
        server.serve(stream)
        spec = {
            "check": stream.check,
            "workspace": str(tmp / "ws"),
            "keys": keys,
            "trace": trace,
            "cap": cap,
        }
        result, output = run_child(THIS, spec, child_env(tmp, config), tmp, headless)
        result["t_request"] = server.arrivals[0] if server.arrivals else None
        if not headless:
            drawn = strip_ansi(output)
            lines = f"{stream.check.get('lines')} lines"
            marker = END_LINE if stream.check["type"] == "markdown" else lines
            result["drawn"] = marker in drawn
        return result


async def child_stream(spec: dict[str, Any]) -> dict[str, Any]:
    """The child's work for one stream: start the app, stream, report."""
    from tui.core.runtime import Options, start
    from tui.ui.app import ChatApp

    runtime = start(Options(workspace=Path(spec["workspace"])))
    app = ChatApp(runtime)
    try:
        async with running(app, spec["headless"]) as pilot:
            await pilot.pause()
            before = rss()
            probe = await stream_once(
                app,
                pilot,
                spec["check"],
                spec.get("keys", True),
                spec.get("trace", False),
                spec.get("cap", CHILD_TIMEOUT / 2),
            )
            result = probe.result()
            result["rss_before"] = before
            gc.collect()
            result["rss_after"] = rss()
            result["widgets"] = len(app.query("*"))
            result["internal_errors"] = list(app.internal_errors)
            if probe.capped:  # the app is still busy for a long time: leave at once
                Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
                os._exit(0)
    finally:
        runtime.transcript.close()
    return result


def measure(stream: Stream, server: Server, ns: argparse.Namespace, repeats: int) -> Summary:
    """Runs of the TUI and of pipe mode on ``stream``, alternating; their summary."""
    tui: list[dict[str, Any]] = []
    pipe: list[dict[str, Any]] = []
    pipe_run(stream, server)  # warm-up (cold caches), not counted
    for _ in range(repeats):  # interleaved, so a change in machine load hits both
        pipe.append(pipe_run(stream, server))
        if not (tui and tui[-1]["capped"]):  # a capped run is not repeated
            tui.append(tui_run(stream, server, ns.headless, ns.trace_stalls, ns.cap))
    if ns.trace_stalls:
        print_traces(stream, tui)
    return summarize(stream, tui, pipe, ns.cap)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options (``--cap`` defaulted by ``--quick``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smaller streams, one run")
    parser.add_argument("--repeats", type=int, default=None, help="runs per stream (default 3)")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="Textual's headless driver instead of a pty (no terminal writes)",
    )
    parser.add_argument("--only", choices=("markdown", "save_file", "paced_markdown", "paced"))
    parser.add_argument(
        "--trace-stalls",
        action="store_true",
        help="sample the app's stack during stalls over 30 ms and print it",
    )
    parser.add_argument(
        "--cap",
        type=float,
        default=None,
        help="seconds a run may take to show its answer (default 15, quick 10)",
    )
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    ns.cap = ns.cap or (10.0 if ns.quick else 15.0)
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    """Print the TUI streaming table (or, with ``--child``, be the measured child)."""
    ns = parse_args(argv)
    if ns.child:
        return child_main(ns.child, child_stream)
    repeats = ns.repeats or (1 if ns.quick else 3)
    names = {s.key: s.name for s in streams(ns.quick)}
    results: dict[str, Summary] = {}
    with Server() as server:
        for stream in streams(ns.quick):
            if ns.only in (None, stream.key):
                results[stream.key] = measure(stream, server, ns, repeats)
    table_rows = rows(results, names)
    print(table(table_rows[0], table_rows[1:], ns.markdown))
    print(footer(results, repeats, ns.cap, ns.headless))
    return 0


if __name__ == "__main__":
    sys.exit(main())
