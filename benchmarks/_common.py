"""Shared helpers for the benchmark scripts: timing, tables, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], markdown: bool = False) -> str:
    """A plain-text (or Markdown) table."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    fmt = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(cells[0]), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells[1:]])


def machine() -> str:
    """One line describing this machine."""
    cpus = os.cpu_count()
    python = platform.python_version()
    return f"{platform.machine()}, {cpus} cores, Python {python}, {platform.system()}"


def ms(seconds: float) -> str:
    """Seconds as milliseconds, 1 decimal."""
    return f"{seconds * 1000:.1f} ms"


def chattui_command() -> list[str]:
    """How to start the installed ``chattui`` (the venv's console script if present)."""
    script = Path(sys.executable).parent / "chattui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
