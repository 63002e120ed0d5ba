"""Benchmark: the live diff of an ``edit_file`` call, per fragment, as the file grows.

A scripted ``edit_file`` call edits the middle of a Python file of 500, 5,000 and 50,000 lines:
``old_string`` is 3 lines, ``new_string`` 4 KB, the arguments cut into 8-character fragments.
The card's path is timed: each fragment pushed to ``PartialJSON``, parsed and routed to
``LiveEdit`` (which locates ``old_string`` once, then turns each fragment of ``new_string`` into
diff operations), and the operations taken once per 16 fragments (a frame).

Columns: the one-time locate (read and search the file), and the mean cost per fragment of
``new_string`` after that. The claim checked: per-fragment cost is flat in file size (the
50,000-line row within 2x of the 500-line row).

Usage:
    python benchmarks/live_edit.py [--quick] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import table

from tui.core.partial_json import PartialJSON
from tui.core.tools.edit import open_for_edit
from tui.core.tools.live_edit import LiveEdit
from tui.core.tools.paths import Workspace

FRAGMENT = 8
FRAME = 16


def make_file(lines: int) -> str:
    return "".join(f"def step_{i}(board):\n    return board[{i}]\n\n" for i in range(lines // 3))


def run_once(workspace: Path, text: str) -> tuple[float, float]:
    """Seconds to locate, and mean seconds per fragment of new_string after it."""
    (workspace / "big.py").write_text(text)
    index = text.count("\n", 0, len(text) // 2) // 3  # a function in the middle
    old = f"def step_{index}(board):\n    return board[{index}]\n\n"
    assert text.count(old) == 1
    new = "".join(f"    value_{i} = compute(board, {i})\n" for i in range(120))
    raw = json.dumps({"path": "big.py", "old_string": old, "new_string": new})
    fragments = [raw[i : i + FRAGMENT] for i in range(0, len(raw), FRAGMENT)]
    ws = Workspace(workspace)
    live = LiveEdit(lambda path: open_for_edit(ws, path, 64 * 1024 * 1024))
    parser = PartialJSON()
    locate = 0.0
    after: list[float] = []
    for count, fragment in enumerate(fragments, 1):
        start = time.perf_counter()
        parser.push(fragment)
        live.feed(parser.pull())
        if count % FRAME == 0:
            live.take()
        spent = time.perf_counter() - start
        if live.state.value != "waiting" and not locate:
            locate = spent
        elif locate:
            after.append(spent)
    live.finish()
    return locate, statistics.mean(after)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    ns = parser.parse_args(argv)
    repeats = 3 if ns.quick else 9
    rows = []
    per_fragment = []
    with tempfile.TemporaryDirectory() as tmp:
        for lines in (500, 5_000, 50_000):
            text = make_file(lines)
            runs = [run_once(Path(tmp), text) for _ in range(repeats)]
            locate = statistics.median(r[0] for r in runs)
            mean = statistics.median(r[1] for r in runs)
            per_fragment.append(mean)
            size = f"{len(text.encode()) / 1024:,.0f} KB"
            rows.append([f"{lines:,}", size, f"{locate * 1e3:.2f} ms", f"{mean * 1e6:.1f} µs"])
    ratio = per_fragment[-1] / per_fragment[0]
    headers = ["file lines", "file size", "locate (once)", "per fragment after"]
    print(table(headers, rows, ns.markdown))
    verdict = "flat" if ratio <= 2 else "NOT flat"
    print(f"\n50,000 vs 500 lines, per fragment: {ratio:.2f}x ({verdict})")


if __name__ == "__main__":
    main()
