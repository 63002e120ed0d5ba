"""Benchmark: per-frame cost of the live code view while a file streams in.

A `CodeView` (Python highlighting, 100x40 terminal) runs headless inside `App.run_test()`. It is
first filled to 10 KB, 100 KB and 1 MB of Python source in 4-character chunks, then each
measured frame appends one frame's worth of chunks (32 by default, about what a fast model
sends in 1/60 s when replayed), applies the batched update and calls `render_lines` for the
whole view, as the compositor does after the view scrolls to the new tail (every row is
dirty). The table gives p50 and p99 of that per-frame time, the p99 of lines given to the
lexer per frame, the mean cost of one `append` during the fill (no rendering), and the one-off
wall time of `complete()` until its full-file re-highlight is installed (sliced over frames,
the first slice `FINAL_DELAY_SECONDS` after the call, so this includes that wait and the
frames in between).

The per-frame columns should stay flat across sizes: cost follows what is visible. The p99
column includes the interpreter's cyclic garbage collection pauses (the whole process, not this
widget), so it is noisy on a loaded machine; the lexed-lines column is the deterministic measure
of highlighting work.

Usage:
    python benchmarks/code_view.py [--quick] [--markdown] [--frames N] [--chunks-per-frame N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.app import App, ComposeResult
from textual.geometry import Region

try:
    from tui.ui.widgets.code_view import CodeView
except ImportError:  # run from a checkout without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tui.ui.widgets.code_view import CodeView

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
CHUNK_CHARS = 4
TERMINAL = (100, 40)
SOURCE = '''class Handler{n}(Base):
    """Serve request {n}.

    Long docstrings keep the lexer inside a string across lines.
    """

    retries = {n}  # how often to try again

    def handle(self, request, *, timeout=30.0):
        path = f"data/{{request.id}}/{n}.json"
        /* not python, but lexers must cope */
        if not request.ok or timeout < 0:
            raise ValueError("bad request: %r" % (request,))
        return {{"id": {n}, "tags": ["a", "b"], "path": path}}

'''


@dataclass(frozen=True)
class Row:
    """One line of the table.

    Attributes:
        size: Content size before the measured frames, in characters.
        lines: Line count before the measured frames.
        frame_p50_ms: Median time of one frame (appends + visible render).
        frame_p99_ms: 99th percentile of the same.
        lexed_p99: 99th percentile of lines given to the lexer in one frame.
        append_us: Mean time of one `append` call during the fill.
        complete_ms: Wall time from `complete()` until the final highlight is installed.
    """

    size: int
    lines: int
    frame_p50_ms: float
    frame_p99_ms: float
    lexed_p99: float
    append_us: float
    complete_ms: float


def make_source(chars: int) -> str:
    """Deterministic Python-like source of at least `chars` characters."""
    parts: list[str] = []
    total = 0
    n = 0
    while total < chars:
        block = SOURCE.format(n=n)
        parts.append(block)
        total += len(block)
        n += 1
    return "".join(parts)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class BenchApp(App[None]):
    CSS = "CodeView { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield CodeView("bench.py")


async def measure(size: int, frames: int, chunks_per_frame: int) -> Row:
    """Fill a view to `size` characters, then time `frames` frames of streaming."""
    step = CHUNK_CHARS
    text = make_source(size + frames * chunks_per_frame * step)
    app = BenchApp()
    async with app.run_test(size=TERMINAL) as pilot:
        view = app.query_one(CodeView)
        started = time.perf_counter()
        for start in range(0, size, step):
            view.append(text[start : min(start + step, size)])
        append_us = (time.perf_counter() - started) / (size / step) * 1e6
        await pilot.pause()  # layout, scroll to the tail, first real render
        gc.collect()  # every size starts its measured frames from the same GC state
        lines = view.line_count
        times: list[float] = []
        lexed: list[float] = []
        position = size
        for _ in range(frames):
            view.lexed_lines = 0
            started = time.perf_counter()
            for _ in range(chunks_per_frame):
                view.append(text[position : position + step])
                position += step
            view._sync()  # what the queued once-per-batch callback does
            view.render_lines(Region(0, 0, *view.region.size))  # the compositor's call
            times.append(time.perf_counter() - started)
            lexed.append(view.lexed_lines)
        await pilot.pause()
        started = time.perf_counter()
        view.complete()
        while not view.is_highlight_final:
            await asyncio.sleep(0)
        complete_ms = (time.perf_counter() - started) * 1e3
    return Row(
        size=size,
        lines=lines,
        frame_p50_ms=statistics.median(times) * 1e3,
        frame_p99_ms=percentile(times, 0.99) * 1e3,
        lexed_p99=percentile(lexed, 0.99),
        append_us=append_us,
        complete_ms=complete_ms,
    )


def human(size: int) -> str:
    return f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1_000} KB"


HEADERS = (
    "content",
    "lines",
    "frame p50 (ms)",
    "frame p99 (ms)",
    "lexed lines/frame p99",
    "append (us/chunk)",
    "complete() (ms, once)",
)


def format_table(rows: list[Row], markdown: bool = False) -> str:
    """Render rows as aligned text or as a Markdown table."""
    cells = [
        (
            human(r.size),
            f"{r.lines:,}",
            f"{r.frame_p50_ms:.2f}",
            f"{r.frame_p99_ms:.2f}",
            f"{r.lexed_p99:.0f}",
            f"{r.append_us:.1f}",
            f"{r.complete_ms:.0f}",
        )
        for r in rows
    ]
    if markdown:
        out = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        out += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(out)
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(HEADERS)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(HEADERS, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


async def run(sizes: Sequence[int], frames: int, chunks_per_frame: int) -> list[Row]:
    return [await measure(size, frames, chunks_per_frame) for size in sizes]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1 MB size")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--frames", type=int, default=300, help="measured frames per size")
    parser.add_argument("--chunks-per-frame", type=int, default=32, help="appends per frame")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    rows = asyncio.run(run(sizes, args.frames, args.chunks_per_frame))
    print(
        f"CodeView, Python, {TERMINAL[0]}x{TERMINAL[1]} terminal, {CHUNK_CHARS}-char chunks, "
        f"{args.chunks_per_frame} chunks/frame, {args.frames} frames per size"
    )
    print(format_table(rows, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
