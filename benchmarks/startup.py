"""Start-up: ``chattui --version`` / ``--help`` and import times of the packages.

Budget: ``chattui --version`` median at most 0.15 s, and neither ``--version``
nor ``--help`` imports Textual or httpx (checked here and by a test).
Run: ``python benchmarks/startup.py [--markdown] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence

from _common import chattui_command, median_time, ms, table

MODULES = ["providers", "providers.openai", "tui.session", "tui.partial_json", "tui.app"]


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


def main(argv: Sequence[str] | None = None) -> int:
    """Print the start-up table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--repeats", type=int, default=9)
    ns = parser.parse_args(argv)
    print(table(["what", "median"], rows(ns.repeats), ns.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
