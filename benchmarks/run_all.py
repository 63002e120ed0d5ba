"""Runs every benchmark and prints its table: ``python3 dev.py bench`` (``--quick``: smoke run).

Each script also runs alone (``python benchmarks/NAME.py --markdown``). The
numbers, the machine and the date go into README's Performance section.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402

# (module, arguments for a full run, arguments for --quick)
SUITE = [
    ("startup", [], ["--repeats", "3"]),
    ("idle_cpu", [], ["--repeats", "1", "--window", "2"]),
    ("partial_json", [], ["--quick"]),
    ("code_view", [], ["--quick"]),
    ("live_edit", [], ["--quick"]),
    ("pipe_throughput", [], ["--repeats", "1"]),
    ("tui_stream", [], ["--quick"]),
    ("fine_streams", [], ["--quick"]),
    ("echo", [], ["--quick"]),
    ("markdown_peer", [], ["--repeats", "1", "--cap", "10"]),
    ("memory", [], ["--quick"]),
    ("fuzz", [], ["--quick"]),
    ("transcript_sync", [], ["--rounds", "20"]),
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; a script that is missing or fails is reported and skipped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    ns = parser.parse_args(argv)
    print(f"chattui benchmarks, {datetime.date.today()}, {machine()}\n")
    failed = 0
    for name, full, quick in SUITE:
        print(f"## {name}\n")
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            print(f"(not available: {exc})\n")
            continue
        args = (quick if ns.quick else full) + (["--markdown"] if ns.markdown else [])
        try:
            module.main(args)
        except Exception as exc:  # noqa: BLE001 - one broken script must not hide the others
            failed += 1
            print(f"(failed: {type(exc).__name__}: {exc})")
        print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
