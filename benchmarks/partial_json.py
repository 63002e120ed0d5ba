"""Benchmark: showing a streaming `save_file` call, fragment by fragment.

Compares, in one run, the incremental repairer `tui.core.partial_json.PartialJSON` with re-parsing
the whole prefix after every fragment using partial-json-parser and jiter's partial mode, and
with one `json.loads` of the final text (the floor). The text is
`{"path": "src/app.py", "content": "<python source>"}` for 10 KB, 100 KB and 1 MB of source,
cut into fragments of 4 and 40 characters. Ours reads `value` once every 1024 fragments, as a
UI reading once a frame would, in two ways: `feed` each fragment as it comes (growth reported per
fragment), and `push` each fragment (an append) with `pull` + `value` once a frame, which parses
the frame's fragments in one go (what the tool card does).

Budget: the 1 MB text in 4-character fragments, pushed and read once per 1,024 fragments, at
most 50x one `json.loads` of the same text, measured in the same run ("vs floor").

The baselines cost O(prefix) per fragment, so a whole run at 1 MB would take hours. Each
fragment's cost depends only on its prefix, so they are timed on fragments picked uniformly at
random until a time budget is spent, and the total is the mean times the fragment count,
marked "est." in the table.

Usage:
    python benchmarks/partial_json.py [--quick] [--markdown] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    from tui.core.partial_json import PartialJSON
except ImportError:  # run from a checkout without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tui.core.partial_json import PartialJSON

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 20_000)
FRAGMENT_CHARS = (4, 40)
OURS = "chattui PartialJSON"
OURS_PUSHED = "chattui PartialJSON, push + pull"
BUDGET = 50  # at most this many json.loads of the same text: 1 MB, 4-char fragments, pushed
READ_EVERY = 1024  # fragments between two reads of `value`
SOURCE_LINES = (
    "def handler_{n}(request, *, timeout=30):",
    '    """Answer request {n} for the caf\u00e9 \u2615 (see "docs/api.md")."""',
    '    path = "C:\\\\Users\\\\data\\\\{n}.txt"',
    '    pattern = re.compile(r"\\d+\\s*(?:px|em)\\t")',
    '    print(f"h\u00e9llo {{name}}: {n} \u2713\\n")',
    "    items = {{'id': {n}, 'tags': ['a', 'b'], 'emoji': '\U0001f680'}}",
    "    # \u03bb-calculus note {n}: x \u2192 y",
    "    return items",
    "",
)


@dataclass(frozen=True)
class Row:
    """One line of the table.

    Attributes:
        content_chars: Size of the `content` string in characters.
        fragment_chars: Characters per fragment.
        parser: What was measured.
        fragments: Number of fragments (0 for the single `json.loads`).
        total_s: Seconds for the whole stream (extrapolated if `estimated`).
        p50_us: Median microseconds per fragment (None for `json.loads`).
        p99_us: 99th percentile microseconds per fragment (None for `json.loads`).
        estimated: Whether the numbers come from a sample of the fragments.
        samples: Fragments actually timed.
    """

    content_chars: int
    fragment_chars: int
    parser: str
    fragments: int
    total_s: float
    p50_us: float | None
    p99_us: float | None
    estimated: bool
    samples: int


def make_text(content_chars: int) -> str:
    """A realistic `save_file` argument text with `content_chars` of Python source."""
    lines, size, n = [], 0, 0
    while size < content_chars:
        line = SOURCE_LINES[n % len(SOURCE_LINES)].format(n=n // len(SOURCE_LINES))
        lines.append(line)
        size += len(line) + 1
        n += 1
    content = "\n".join(lines)[:content_chars]
    return json.dumps({"path": "src/app.py", "content": content}, ensure_ascii=False)


def cut(text: str, size: int) -> list[str]:
    """Fragments of `size` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def stream_ours(fragments: list[str]) -> object:
    """Feed every fragment, reading `value` as a UI would, and finish."""
    parser = PartialJSON()
    feed = parser.feed
    for k, fragment in enumerate(fragments):
        feed(fragment)
        if k % READ_EVERY == READ_EVERY - 1:
            parser.value  # noqa: B018 - the snapshot a frame would read
    return parser.finish()


def stream_pushed(fragments: list[str]) -> object:
    """Push every fragment; once every `READ_EVERY`, pull the growth and read `value`."""
    parser = PartialJSON()
    push, pull = parser.push, parser.pull
    for k, fragment in enumerate(fragments):
        push(fragment)
        if k % READ_EVERY == READ_EVERY - 1:
            pull()
            parser.value  # noqa: B018 - the snapshot a frame would read
    return parser.finish()


def best_total(
    stream: Callable[[list[str]], object], text: str, fragments: list[str], repeats: int
) -> float:
    """Best-of-`repeats` seconds for `stream(fragments)`, checked against `json.loads`."""
    totals = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = stream(fragments)
        totals.append(time.perf_counter() - start)
    if result != json.loads(text):
        raise AssertionError("PartialJSON disagrees with json.loads")
    return min(totals)


def measure_pushed(text: str, fragments: list[str], size: int, repeats: int) -> Row:
    """Best-of-`repeats` total of pushing the fragments and reading once a frame."""
    total = best_total(stream_pushed, text, fragments, repeats)
    return Row(size, len(fragments[0]), OURS_PUSHED, len(fragments), total, None, None, False, 0)


def measure_ours(text: str, fragments: list[str], size: int, repeats: int) -> Row:
    """Best-of-`repeats` total, then a second pass timing each `feed` for percentiles."""
    total = best_total(stream_ours, text, fragments, repeats)
    parser, clock, times = PartialJSON(), time.perf_counter_ns, []
    for fragment in fragments:
        start = clock()
        parser.feed(fragment)
        times.append(clock() - start)
    p50, p99 = percentile(times, 50) / 1e3, percentile(times, 99) / 1e3
    return Row(size, len(fragments[0]), OURS, len(fragments), total, p50, p99, False, len(times))


def measure_reparse(
    name: str, parse: Callable[[int], object], count: int, size: int, frag: int, budget: float
) -> Row:
    """Time `parse(k)` (re-parse of the prefix up to fragment k) on random k within budget."""
    order = random.Random(size * 100 + frag).sample(range(count), count)
    times, clock = [], time.perf_counter
    deadline = clock() + budget
    for k in order:
        start = clock()
        parse(k)
        times.append(clock() - start)
        if clock() > deadline and len(times) >= 20:
            break
    estimated = len(times) < count
    total = statistics.fmean(times) * count if estimated else sum(times)
    p50, p99 = percentile(times, 50) * 1e6, percentile(times, 99) * 1e6
    return Row(size, frag, name, count, total, p50, p99, estimated, len(times))


def baselines(text: str, fragments: list[str], size: int, budget: float) -> list[Row]:
    """partial-json-parser and jiter re-parsing the whole prefix after each fragment."""
    from jiter import from_json
    from partial_json_parser import loads

    ends, data, byte_ends, pos, bpos = [], text.encode(), [], 0, 0
    for fragment in fragments:
        pos, bpos = pos + len(fragment), bpos + len(fragment.encode())
        ends.append(pos)
        byte_ends.append(bpos)
    frag, count = len(fragments[0]), len(fragments)

    def pjp(k: int) -> object:
        return loads(text[: ends[k]])

    def jiter(k: int) -> object:
        return from_json(data[: byte_ends[k]], partial_mode="trailing-strings")

    return [
        measure_reparse("partial-json-parser (re-parse)", pjp, count, size, frag, budget),
        measure_reparse("jiter partial (re-parse)", jiter, count, size, frag, budget),
    ]


def measure_floor(text: str, size: int) -> Row:
    """One `json.loads` of the complete text, best of five."""
    totals = []
    for _ in range(5):
        start = time.perf_counter()
        json.loads(text)
        totals.append(time.perf_counter() - start)
    return Row(size, 0, "json.loads once (floor)", 0, min(totals), None, None, False, 1)


def run(quick: bool = False, budget: float | None = None) -> list[Row]:
    """Measure everything; return the rows in table order.

    Args:
        quick: Small sizes and budgets, for a smoke run.
        budget: Seconds to spend per baseline and size (default 4, or 0.3 when quick).
    """
    budget = budget if budget is not None else (0.3 if quick else 4.0)
    rows = []
    for size in QUICK_SIZES if quick else SIZES:
        text = make_text(size)
        for frag in FRAGMENT_CHARS:
            fragments = cut(text, frag)
            rows.append(measure_ours(text, fragments, size, 1 if quick else 5))
            rows.append(measure_pushed(text, fragments, size, 1 if quick else 5))
            rows.extend(baselines(text, fragments, size, budget))
        rows.append(measure_floor(text, size))
    return rows


def duration(seconds: float) -> str:
    """Seconds in a readable unit."""
    for unit, scale in (("h", 3600), ("s", 1), ("ms", 1e-3)):
        if seconds >= scale:
            return f"{seconds / scale:,.3g} {unit}"
    return f"{seconds / 1e-6:,.3g} us"


def times(ratio: float) -> str:
    """A ratio, with two significant digits below 10."""
    return f"{ratio:.2g}x" if ratio < 10 else f"{ratio:,.0f}x"


def _cells(row: Row, ours: dict[tuple[int, int], float], floors: dict[int, float]) -> list[str]:
    """A row as table cells."""
    est = " est." if row.estimated else ""
    chars = row.content_chars
    size = f"{chars / 1e6:g} MB" if chars >= 1e6 else f"{chars / 1e3:g} KB"
    us = "-" if row.p50_us is None else f"{row.p50_us:,.2f}"
    us99 = "-" if row.p99_us is None else f"{row.p99_us:,.2f}"
    mine = ours.get((row.content_chars, row.fragment_chars))
    ratio = "-" if not mine or not row.fragments else times(row.total_s / mine)
    if row.parser == OURS:
        ratio = "1x"
    floor = floors.get(row.content_chars)
    vs_floor = times(row.total_s / floor) if floor and row.fragments else "-"
    frags = f"{row.fragments:,}" if row.fragments else "-"
    return [size, str(row.fragment_chars or "-"), row.parser, frags,
            duration(row.total_s) + est, us + est, us99 + est, ratio, vs_floor]  # fmt: skip


HEADER = ["content", "frag", "parser", "fragments", "total", "p50 us", "p99 us", "vs ours",
          "vs floor"]  # fmt: skip


def _floors(rows: list[Row]) -> dict[int, float]:
    """One `json.loads` of each size's text, from the same run."""
    return {r.content_chars: r.total_s for r in rows if not r.fragments}


def verdict(rows: list[Row]) -> str:
    """The budget line: the pushed 1 MB, 4-character row against `BUDGET` json.loads."""
    floors = _floors(rows)
    for row in rows:
        if row.parser == OURS_PUSHED and row.fragment_chars == 4 and row.content_chars == SIZES[-1]:
            ratio = row.total_s / floors[row.content_chars]
            met = "met" if ratio <= BUDGET else "MISSED"
            what = f"1 MB in 4-char fragments, pushed, read once per {READ_EVERY}"
            return f"budget: {what}: {ratio:.0f}x json.loads (at most {BUDGET}x): {met}"
    return f"budget: not measured (the 1 MB row runs without --quick); at most {BUDGET}x json.loads"


def format_table(rows: list[Row], markdown: bool = False) -> str:
    """Render the rows as an aligned text table or a Markdown table."""
    ours = {(r.content_chars, r.fragment_chars): r.total_s for r in rows if r.parser == OURS}
    floors = _floors(rows)
    body = [_cells(row, ours, floors) for row in rows]
    if markdown:
        lines = [HEADER, ["---"] * len(HEADER), *body]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
    widths = [max(len(cells[i]) for cells in [HEADER, *body]) for i in range(len(HEADER))]
    lines = [HEADER, ["-" * w for w in widths], *body]
    # Left-align the parser names, right-align the numbers.
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )
        for cells in lines
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point: measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--budget", type=float, help="seconds per baseline measurement")
    args = parser.parse_args(argv)
    rows = run(quick=args.quick, budget=args.budget)
    print(format_table(rows, markdown=args.markdown))
    print(f"\n{verdict(rows)}")
    print("est. = extrapolated from fragments timed at random positions (see module docstring)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
