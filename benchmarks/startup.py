"""Start-up: ``chattui --version`` / ``--help``, import times, and time to a usable screen.

Time to first usable screen: the real ``chattui`` (offline demo, a temporary config, data
dir and workspace) starts on a fresh pseudo-terminal (120x40, TERM=xterm-256color); the
parent reads its raw output until the status bar ("demo · demo" then "idle") and the
footer ("palette") have been drawn, notes the time since the process was spawned, and
kills it. Median of 5 (``--screens``).

Budgets: ``chattui --version`` median at most 0.15 s, and neither ``--version`` nor
``--help`` imports Textual or httpx (checked here and by a test); first usable screen at
most 1 s.
Run: ``python benchmarks/startup.py [--markdown] [--repeats N] [--screens N]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _common import chattui_command, median_time, ms, table
from tui_stream import PtyChild, child_env, strip_ansi

MODULES = [
    "providers",
    "providers.openai",
    "tui.core.session",
    "tui.core.partial_json",
    "tui.ui.app",
]
SCREEN_TIMEOUT = 20.0
STATUS_DRAWN = re.compile(r"demo · demo\s+idle")


def _usable(output: bytes) -> bool:
    text = strip_ansi(output)
    return "palette" in text and STATUS_DRAWN.search(text) is not None


def first_screen() -> float:
    """Seconds from spawning ``chattui`` on a pty until its prompt, status and footer show."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "ws").mkdir()
        config = tmp / "config.toml"
        config.write_text('[providers.demo]\nkind = "demo"\n', encoding="utf-8")
        child = PtyChild(
            [*chattui_command(), "--workspace", str(tmp / "ws")],
            child_env(tmp, config),
            watch=_usable,
        )
        child.event.wait(SCREEN_TIMEOUT)
        seen = child.seen
        child.finish(5.0, kill=True)
    if seen is None:
        raise RuntimeError(f"no usable screen: {strip_ansi(bytes(child.output))[-300:]!r}")
    return seen - child.started


def _run(args: Sequence[str]) -> None:
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def rows(repeats: int) -> list[list[str]]:
    """Measured rows: command or import, median time."""
    out = []
    bare = median_time(lambda: _run([sys.executable, "-c", "pass"]), repeats)
    out.append(["python -c pass (interpreter floor)", ms(bare)])
    for flag in ("--version", "--help"):
        t = median_time(lambda f=flag: _run([*chattui_command(), f]), repeats)
        out.append([f"chattui {flag}", ms(t)])
    for module in MODULES:
        t = median_time(lambda m=module: _run([sys.executable, "-c", f"import {m}"]), repeats)
        out.append([f"import {module} (minus floor)", ms(max(t - bare, 0.0))])
    return out


def screen_row(repeats: int) -> list[str]:
    """Time to first usable screen, median of ``repeats``, against the 1 s budget."""
    median = statistics.median(first_screen() for _ in range(repeats))
    verdict = "ok" if median <= 1.0 else "MISSED"
    return ["time to first usable screen (pty 120x40, demo)", f"{ms(median)} ({verdict}, <= 1 s)"]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the start-up table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--screens", type=int, default=5, help="first-screen runs (median)")
    ns = parser.parse_args(argv)
    print(table(["what", "median"], [*rows(ns.repeats), screen_row(ns.screens)], ns.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
