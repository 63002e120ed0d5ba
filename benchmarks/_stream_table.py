"""The table of ``tui_stream.py``: runs summarized per stream, one row per metric.

Medians over runs, except the longest stall (the worst run) and key echoes (pooled over
runs); each cell with a budget says whether the budget was met.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from _probe import STALL_BUDGET
from _pty import SIZE
from _streams import Stream

Summary = dict[str, Any]
Cell = Callable[[Summary, str], str]


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _since_send(run: dict[str, Any], key: str) -> float | None:
    return None if run[key] is None else run[key] - run["t_send"]


def _median_of(values: Any) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _tui_times(tui: list[dict[str, Any]], cap: float) -> Summary:
    """Times of the TUI runs from Enter; a run stopped at ``cap`` counts as ``cap``."""
    med = statistics.median
    ends = [r["t_done"] or r["t_send"] + cap for r in tui]
    return {
        "screen": med(end - r["t_send"] for end, r in zip(ends, tui, strict=True)),
        "capped": sum(r["capped"] for r in tui),
        "runs": len(tui),
        "drained": _median_of(_since_send(r, "t_last") for r in tui if not r["capped"]),
        "idle": _median_of(_since_send(r, "t_idle") for r in tui),
        "got": min(r["fragments"] for r in tui),
        "pre_request": _median_of(r["t_request"] - r["t_send"] for r in tui if r["t_request"]),
        "rate": med(r["fragments"] / (r["t_last"] - r["t_first"]) for r in tui),
        "fps": med(r["frames"] / (end - r["t_send"]) for end, r in zip(ends, tui, strict=True)),
    }


def _tui_health(tui: list[dict[str, Any]]) -> Summary:
    """Stalls (the worst run), key echoes (pooled), size and what went wrong."""
    echoes = sorted(e for r in tui for e in r["echoes"])
    worst = max(tui, key=lambda r: r["max_gap"])
    return {
        "stall": worst["max_gap"],
        "stall_at": worst["max_gap_at"],
        "stalls": max(r["stalls"] for r in tui),
        "widgets": max(r.get("widgets", 0) for r in tui),
        "rss": max(r["rss_after"]["VmHWM"] for r in tui),
        "echo_median": statistics.median(echoes) if echoes else None,
        "echo_max": echoes[-1] if echoes else None,
        "echo_n": len(echoes),
        "drawn": all(r.get("drawn", True) for r in tui if not r["capped"]),
        "errors": sum(len(r.get("internal_errors", [])) for r in tui),
    }


def summarize(
    stream: Stream, tui: list[dict[str, Any]], pipe: list[dict[str, Any]], cap: float
) -> Summary:
    """Medians over runs (worst case for stalls, pooled samples for key echoes).

    A run stopped at ``cap`` counts as ``cap`` for "on screen" (a lower bound).
    """
    med = statistics.median
    return {
        **_tui_times(tui, cap),
        **_tui_health(tui),
        "pipe": med(p["done"] for p in pipe),
        "pipe_total": med(p["total"] for p in pipe),
        "pipe_rate": med(p["rate"] for p in pipe),
        "wire": stream.fragments,
    }


def _screen(s: Summary, key: str) -> str:
    if s["capped"]:
        text = f"> {s['screen']:.0f} s: not on screen ({s['capped']}/{s['runs']} runs)"
    else:
        text = _ms(s["screen"])
    return f"{text} ({_verdict(s['screen'] <= 1.0)})" if key == "markdown" else text


def _ratio(s: Summary, key: str) -> str:
    text = f"{'> ' if s['capped'] else ''}{s['screen'] / s['pipe']:.2f}x"
    ok = s["screen"] <= 1.5 * s["pipe"]
    return f"{text} ({_verdict(ok)})" if key == "save_file" else text


def _rate(s: Summary, key: str) -> str:
    text = f"{s['rate']:,.0f}/s"
    return f"{text} ({_verdict(s['rate'] >= 5000)})" if key == "save_file" else text


def _stall(s: Summary, key: str) -> str:
    return (
        f"{_ms(s['stall'])} at +{s['stall_at']:.2f} s, {s['stalls']} over 50 ms "
        f"({_verdict(s['stall'] <= STALL_BUDGET)})"
    )


def _echo(s: Summary, key: str) -> str:
    if s["echo_max"] is None:
        return "no sample"
    ok = s["echo_max"] < STALL_BUDGET
    return f"{_ms(s['echo_median'])} / {_ms(s['echo_max'])}, n={s['echo_n']} ({_verdict(ok)})"


def _drained(s: Summary, key: str) -> str:
    if s["drained"] is None:
        return f"{s['got']:,.0f} fragments by the cap"
    idle = "still busy" if s["idle"] is None else _ms(s["idle"])
    return f"{_ms(s['drained'])} / {idle}"


ROWS: list[tuple[str, Cell, str]] = [
    ("fragments on the wire", lambda s, k: f"{s['wire']:,}", ""),
    ("TUI: send -> on screen", _screen, "markdown <= 1 s"),
    ("TUI: send -> request", lambda s, k: _ms(s["pre_request"]), ""),
    ("TUI: send -> last fragment / turn over", _drained, ""),
    (
        "pipe: request -> done line (whole run)",
        lambda s, k: f"{_ms(s['pipe'])} ({_ms(s['pipe_total'])})",
        "",
    ),
    ("TUI / pipe", _ratio, "save_file <= 1.5x"),
    ("TUI fragments/s drained (characters / fragment size)", _rate, "save_file >= 5,000/s"),
    ("pipe fragments/s (characters / fragment size)", lambda s, k: f"{s['pipe_rate']:,.0f}/s", ""),
    ("TUI frames written/s", lambda s, k: f"{s['fps']:.0f}", ""),
    ("longest loop stall", _stall, "<= 50 ms"),
    ("key echo median / max", _echo, "< 50 ms"),
    (
        "widgets in the DOM / peak RSS",
        lambda s, k: f"{s['widgets']:,} / {s['rss'] / 2**20:.0f} MB",
        "",
    ),
]
"""The table's rows: label, the cell of one stream's summary (and key), the budget."""


def rows(results: dict[str, Summary], names: dict[str, str]) -> list[list[str]]:
    """One row per metric, one column per stream measured, then the budget."""
    keys = list(results)
    header = ["stream", *(names[key] for key in keys), "budget"]
    return [header] + [
        [label, *(cell(results[key], key) for key in keys), budget] for label, cell, budget in ROWS
    ]


def footer(results: dict[str, Summary], repeats: int, cap: float, headless: bool) -> str:
    """The lines under the table: how it was measured, then a warning per doubtful stream."""
    notes = [
        f"{k}: not all runs drew the closing text" for k, s in results.items() if not s["drawn"]
    ]
    notes += [f"{k}: {s['errors']} internal errors" for k, s in results.items() if s["errors"]]
    driver = "headless driver" if headless else f"pty {SIZE[0]}x{SIZE[1]}"
    return (
        f"\n{driver}; median of {repeats} run(s) (a run capped at {cap:.0f} s is not "
        "repeated); stall = worst run; key echo pooled; times from Enter."
        + ("".join(f"\nWARNING {n}" for n in notes))
    )


def print_traces(stream: Stream, runs: list[dict[str, Any]]) -> None:
    """The stacks sampled during the longest stalls (``--trace-stalls``), innermost last."""
    for number, run in enumerate(runs, 1):
        for trace in run["traces"]:
            samples = trace["samples"]
            print(
                f"\n{stream.key} run {number}: {_ms(trace.get('gap'))} stall at "
                f"+{trace['at']:.3f} s, {len(samples)} samples (5 ms apart); first and last:"
            )
            for sample in (samples[0], samples[-1]) if len(samples) > 1 else samples:
                print("    " + "\n    ".join(sample[-12:]) + "\n    --")
