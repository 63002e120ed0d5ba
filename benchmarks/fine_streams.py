"""Fine-grained streams: pipe mode and the TUI beside a plain httpx read of the same bytes.

The 60 KB Markdown answer of ``tui_stream.py`` (5-character text deltas, about 12,000 events)
is served by a loopback HTTP server in OpenAI and Anthropic framing, each two ways: one SSE
event per network write (as real servers send, thousands of writes a second) and in 64 KiB
writes (the network coalesced it). For each of the four:

* floor: a plain httpx read of the same bytes from the same server, in a child process of
  its own (``--floor URL``): ``client.stream`` + ``aiter_bytes`` and nothing else, timed from
  the request's arrival at the server to the last byte read (its start-up not counted).
* pipe: ``chattui -p go --json --yes``, from the request's arrival to the ``finish`` line
  (``tui_stream.pipe_run``).
* TUI: the real app in a pty, from Enter to the first frame with the answer's last line on
  screen (``tui_stream.tui_run``), with keys typed every 50 ms for the echo figures.

Runs alternate floor, pipe and TUI (so a change in load hits all three); each figure is the
median of ``--repeats`` runs and each ratio is the median of the per-run ratios. Budgets:
pipe at most 1.5x the floor and TUI at most 2x the floor, one event per write; key echo
median at most 30 ms. On a loaded machine every figure grows, the floor too: the ratios
are the figures to compare, not the times.
Run: ``python benchmarks/fine_streams.py [--markdown] [--repeats N] [--only KEY]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from _common import table
from _pipe_floor import pipe_run
from _streams import END_LINE, Server, Stream, markdown_text
from tui_stream import tui_run

from tests.support.wire import ROUTES, text_body

THIS = Path(__file__).resolve()
PIPE_BUDGET, TUI_BUDGET, ECHO_BUDGET = 1.5, 2.0, 0.030
BIG_WRITE = 65536


def fine_streams(size: int = 60_000) -> list[Stream]:
    """The Markdown answer in both framings, one event per write and in 64 KiB writes."""
    markdown = markdown_text(size)
    check = {"type": "markdown", "last": END_LINE, "size": 5}
    out = []
    for kind in ("openai", "anthropic"):
        base = Stream(
            f"{kind}_events",
            f"markdown {len(markdown) // 1000} KB ({kind}), one event per write",
            kind,
            (text_body(kind, markdown, 5),),
            -(-len(markdown) // 5),
            check,
            chunk=0,
        )
        out.append(base)
        name = f"markdown {len(markdown) // 1000} KB ({kind}), 64 KiB writes"
        out.append(replace(base, key=f"{kind}_64k", name=name, chunk=BIG_WRITE))
    return out


def floor_run(stream: Stream, server: Server) -> float:
    """Seconds from the request's arrival to the last byte, for a plain httpx read."""
    server.serve(stream)
    url = server.loopback.base_url + ROUTES[stream.kind][1]
    out = subprocess.run(
        [sys.executable, str(THIS), "--floor", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    end = float(json.loads(out.stdout)["end"])
    return end - server.arrivals[0]


async def _plain_read(url: str) -> dict[str, float]:
    import httpx

    reads = 0
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", url, json={}) as response:
            async for _ in response.aiter_bytes():
                reads += 1
    return {"end": time.perf_counter(), "reads": reads}


def measure(stream: Stream, server: Server, repeats: int, cap: float) -> dict[str, Any]:
    """Interleaved runs of the three; medians of the times and of the per-run ratios."""
    pipe_run(stream, server)  # warm-up: caches, not counted
    runs: list[tuple[float, float, dict[str, Any]]] = []
    for _ in range(repeats):
        floor = floor_run(stream, server)
        pipe = pipe_run(stream, server)["done"]
        tui = tui_run(stream, server, headless=False, cap=cap)
        runs.append((floor, pipe, tui))
    med = statistics.median
    screens = [t["t_done"] - t["t_send"] if t["t_done"] else cap for _, _, t in runs]
    echoes = sorted(e for _, _, t in runs for e in t["echoes"])
    return {
        "floor": med(f for f, _, _ in runs),
        "pipe": med(p for _, p, _ in runs),
        "tui": med(screens),
        "pipe_ratio": med(p / f for f, p, _ in runs),
        "tui_ratio": med(s / f for (f, _, _), s in zip(runs, screens, strict=True)),
        "capped": sum(bool(t["capped"]) for _, _, t in runs),
        "echo": (med(echoes), echoes[-1], len(echoes)) if echoes else None,
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def row(stream: Stream, s: dict[str, Any]) -> list[str]:
    """One table row: the three times, the two ratios (with verdicts), key echo."""
    per_event = stream.chunk == 0
    pipe = f"{s['pipe_ratio']:.2f}x"
    tui = f"{'> ' if s['capped'] else ''}{s['tui_ratio']:.2f}x"
    if per_event:
        pipe += f" ({_verdict(s['pipe_ratio'] <= PIPE_BUDGET)})"
        tui += f" ({_verdict(s['tui_ratio'] <= TUI_BUDGET and not s['capped'])})"
    echo = "no sample"
    if s["echo"] is not None:
        median, worst, n = s["echo"]
        echo = f"{median * 1000:.0f} / {worst * 1000:.0f} ms, n={n}"
        if per_event:
            echo += f" ({_verdict(median <= ECHO_BUDGET)})"
    return [
        stream.name,
        f"{s['floor'] * 1000:,.0f} ms",
        f"{s['pipe'] * 1000:,.0f} ms",
        pipe,
        f"{s['tui'] * 1000:,.0f} ms",
        tui,
        echo,
    ]


HEADERS = [
    "stream",
    "floor: plain httpx read",
    "pipe: request -> finish",
    "pipe / floor (<= 1.5x)",
    "TUI: Enter -> last line",
    "TUI / floor (<= 2x)",
    "key echo median / max (<= 30 ms)",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (or, with ``--floor URL``, be the plain reader)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a 20 KB answer, one run")
    parser.add_argument("--only", help="one stream key (openai_events, anthropic_64k, ...)")
    parser.add_argument("--cap", type=float, default=20.0, help="seconds a TUI run may take")
    parser.add_argument("--floor", metavar="URL", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    if ns.floor:
        print(json.dumps(asyncio.run(_plain_read(ns.floor))))
        return 0
    repeats = 1 if ns.quick else ns.repeats
    chosen = [s for s in fine_streams(20_000 if ns.quick else 60_000) if ns.only in (None, s.key)]
    rows = []
    with Server() as server:
        for stream in chosen:
            rows.append(row(stream, measure(stream, server, repeats, ns.cap)))
    print(table(HEADERS, rows, ns.markdown))
    print(
        f"\nmedian of {repeats} run(s), interleaved; ratios are medians of per-run ratios; "
        "budgets apply to one event per write."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
