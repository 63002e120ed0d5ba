"""The 60 KB Markdown answer, side by side: chattui next to Textual's own Markdown widget.

The Textual-based peers render a streamed answer with Textual's ``Markdown`` widget fed
through ``Markdown.get_stream()`` (``MarkdownStream``, Textual's recommended way to show
LLM output). This script measures that widget on the same bytes, the same loopback server,
the same provider layer (its merged fragments split again into the 5-character wire
fragments, one ``write`` each, as an SDK delivers them) and the same pseudo-terminal
(120x40) as ``tui_stream.py``: the peer is a minimal app (the widget in an anchored
``VerticalScroll`` above a ``TextArea`` prompt) whose only difference from chattui is how
the answer is rendered. Both are
measured by ``tui_stream.Probe``: send -> answer on screen, stall, key echo while
streaming (a letter every 50 ms into the prompt), frames, widgets, peak RSS.

A run that has not shown the whole answer after ``--cap`` seconds (default 30) is stopped
and reported as "> cap" with how much of the answer the widget had received by then.
Run: ``python benchmarks/markdown_peer.py [--markdown] [--cap SECONDS] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import table
from _probe import Probe, rss, running, stream_once
from _pty import CHILD_TIMEOUT, child_env, child_main, run_child
from _streams import END_LINE, Server, markdown_text, streams
from tui_stream import tui_run

from tests.support.wire import ROUTES

THIS = Path(__file__).resolve()


class PeerProbe(Probe):
    """The answer is complete when the stream has been written and the widget holds it all."""

    def _complete(self) -> bool:
        from textual.widgets import Markdown

        if self.app.busy:
            return False
        return self.app.query_one(Markdown).source.rstrip().endswith(END_LINE)


def peer_app(base_url: str, fragment: int) -> Any:
    """The peer: Textual's Markdown widget streaming the answer, a TextArea prompt."""
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.containers import VerticalScroll
    from textual.widgets import Markdown, TextArea

    from providers import create_provider
    from providers.conversation import ChatRequest, UserMessage
    from providers.events import TextDelta
    from providers.settings import ProviderSettings

    class Observer:
        def observe(self, event: object) -> None:
            """Probe wraps this to count fragments."""

    class PeerApp(App[None]):
        CSS = "#answer { height: 1fr; } #prompt { height: 4; }"
        BINDINGS = [Binding("enter", "send", priority=True)]

        def __init__(self) -> None:
            super().__init__()
            self.busy = False
            self.status_bar = Observer()
            self.internal_errors: list[str] = []
            self.fragment = fragment
            self.settings = ProviderSettings(
                kind="openai", base_url=base_url, model="m", max_retries=0
            )

        def compose(self) -> ComposeResult:
            with VerticalScroll(id="answer"):
                yield Markdown()
            yield TextArea(id="prompt")

        def on_mount(self) -> None:
            self.prompt = self.query_one(TextArea)
            self.prompt.focus()
            self.query_one(VerticalScroll).anchor()

        def action_send(self) -> None:
            text = self.prompt.text
            self.prompt.clear()
            self.busy = True
            self.run_worker(self._stream(text))

        async def _stream(self, text: str) -> None:
            provider = create_provider(self.settings)
            stream = Markdown.get_stream(self.query_one(Markdown))
            try:
                async for event in provider.stream(ChatRequest((UserMessage(text),))):
                    if isinstance(event, TextDelta):
                        self.status_bar.observe(event)
                        # One write per wire fragment, as an SDK hands them to an app (our
                        # provider layer merges the fragments of one read; peers' do not).
                        for i in range(0, len(event.text), self.fragment):
                            await stream.write(event.text[i : i + self.fragment])
            finally:
                await stream.stop()
                await provider.aclose()
                self.busy = False

    return PeerApp()


async def peer_child(spec: dict[str, Any]) -> dict[str, Any]:
    """The child's work: start the peer, stream, report (as ``tui_stream.child_stream``)."""
    from textual.widgets import Markdown

    app = peer_app(spec["base_url"], spec["check"]["size"])
    async with running(app, spec["headless"]) as pilot:
        await pilot.pause()
        probe = await stream_once(
            app, pilot, spec["check"], keys=True, cap=spec["cap"], probe_class=PeerProbe
        )
        result = probe.result()
        result["received"] = len(app.query_one(Markdown).source)
        result["rss_after"] = rss()
        result["widgets"] = len(app.query("*"))
        result["internal_errors"] = []
        if probe.capped:  # the widget would keep the process busy for minutes: leave now
            Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
            os._exit(0)
    return result


def peer_run(stream: Any, server: Server, cap: float) -> dict[str, Any]:
    """One peer run in a fresh child under a pty."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        server.serve(stream)
        spec = {
            "check": stream.check,
            "base_url": server.loopback.base_url + ROUTES[stream.kind][0],
            "cap": cap,
        }
        result, _ = run_child(THIS, spec, child_env(tmp, None), tmp)
        return result


def summary(runs: list[dict[str, Any]], cap: float, total: int) -> dict[str, str]:
    """The cells of one column: medians over runs, echo pooled, stall worst."""
    capped = [r for r in runs if r["capped"]]
    if capped:
        got = min(r["received"] for r in capped)
        screen = f"> {cap:.0f} s: not on screen ({got * 100 // total}% of the answer received)"
    else:
        screen = f"{statistics.median(r['t_done'] - r['t_send'] for r in runs) * 1000:,.0f} ms"
    echoes = sorted(e for r in runs for e in r["echoes"])
    worst = max(runs, key=lambda r: r["max_gap"])
    spans = [(r["t_done"] or r["t_send"] + cap) - r["t_send"] for r in runs]
    fps = statistics.median(r["frames"] / span for r, span in zip(runs, spans, strict=True))
    ms = [e * 1000 for e in echoes]
    return {
        "screen": screen,
        "stall": f"{worst['max_gap'] * 1000:,.0f} ms, {worst['stalls']} over 50 ms",
        "echo": (
            f"{statistics.median(ms):,.0f} / {ms[-1]:,.0f} ms, n={len(ms)}"
            if ms
            else "no key echoed"
        ),
        "fps": f"{fps:.0f}",
        "memory": (
            f"{max(r['widgets'] for r in runs):,} / "
            f"{max(r['rss_after']['VmHWM'] for r in runs) / 2**20:.0f} MB"
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print the side-by-side table (or, with ``--child``, be the peer)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--cap", type=float, default=30.0, help="seconds a run may take")
    parser.add_argument("--repeats", type=int, default=3, help="chattui runs (the peer: 1)")
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    if ns.child:
        return child_main(ns.child, peer_child)
    stream = streams(quick=False)[0]
    total = len(markdown_text(60_000))
    with Server() as server:
        ours = [tui_run(stream, server, headless=False, cap=ns.cap) for _ in range(ns.repeats)]
        peer = [peer_run(stream, server, min(ns.cap, CHILD_TIMEOUT / 2))]
        while len(peer) < ns.repeats and not peer[-1]["capped"]:
            peer.append(peer_run(stream, server, ns.cap))
    a, b = summary(ours, ns.cap, total), summary(peer, ns.cap, total)
    labels = {
        "screen": "send -> whole answer on screen",
        "stall": "longest event-loop stall",
        "echo": "key echo median / max",
        "fps": "frames written/s",
        "memory": "widgets in the DOM / peak RSS",
    }
    rows = [[label, a[key], b[key]] for key, label in labels.items()]
    headers = [stream.name, "chattui", "Textual Markdown + MarkdownStream"]
    print(table(headers, rows, ns.markdown))
    print(f"\npty 120x40; chattui: median of {len(ours)} runs; peer: {len(peer)} run(s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
