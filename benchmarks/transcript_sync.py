"""Transcript records on the caller's thread: how long a synced record holds it up.

Each round records a prompt and a finished answer (4,000 characters) with a real
``TranscriptWriter`` in a temporary directory and times each call on the caller's thread,
which in the TUI is the event loop: ``SyncNow`` (pipe mode: the ``fsync`` in the call) and
``BackgroundSync`` (the TUI: the ``fsync`` in its thread), on this machine's disk and on a
slow one faked by an ``os.fsync`` that first sleeps ``--slow`` ms (a busy laptop disk, a
network home directory).

The floor, measured in the same run: the same calls with a syncer that does nothing (the
write alone). The ratio is the median over the floor's median. Also printed: how many
fsyncs ran (the background thread coalesces records that wait).

Run: ``python benchmarks/transcript_sync.py [--markdown] [--rounds N] [--slow MS]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from _common import table

from providers.conversation import AssistantMessage, TextPart, UserMessage
from tui.core.transcript import TranscriptWriter
from tui.core.transcript.sync import BackgroundSync, Syncer, SyncNow

ANSWER = AssistantMessage(parts=(TextPart("x" * 4000),))


class NoSync:
    """The floor: the write alone."""

    def sync(self, fd: int, name: str, *, best_effort: bool = False) -> None:
        """Nothing."""

    def check(self) -> None:
        """Nothing."""


def counted_fsync(delay: float, calls: list[int]) -> Callable[[int], None]:
    """An ``os.fsync`` that sleeps ``delay`` seconds first and counts its calls."""
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        if delay:
            time.sleep(delay)
        real(fd)

    return fsync


def record_rounds(syncer: Syncer, rounds: int) -> list[float]:
    """Seconds each synced record held the caller up, ``rounds`` prompts and answers."""
    times: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        writer = TranscriptWriter.create(
            Path(directory), provider="demo", model="m", workspace="w", syncer=syncer
        )
        for turn in range(rounds):
            start = time.perf_counter()
            writer.append_user(UserMessage(f"question {turn}"))
            middle = time.perf_counter()
            writer.finish_partial(f"s{turn}", ANSWER)
            times += [middle - start, time.perf_counter() - middle]
        writer.close()
        if isinstance(syncer, BackgroundSync):
            syncer.close(timeout=60)
    return times


def row(disk: str, name: str, times: list[float], floor: float, fsyncs: int) -> list[str]:
    ordered = sorted(times)
    median = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95)]
    return [
        disk,
        name,
        f"{median * 1000:.3f} ms",
        f"{p95 * 1000:.3f} ms",
        f"{ordered[-1] * 1000:.3f} ms",
        f"{median / floor:.1f}x",
        str(fsyncs),
    ]


def measure(disk: str, delay: float, rounds: int) -> list[list[str]]:
    """The floor and both syncers on one disk, interleaved as floor, now, background."""
    calls: list[int] = []
    real = os.fsync
    os.fsync = counted_fsync(delay, calls)  # type: ignore[assignment]
    try:
        floor_times = record_rounds(NoSync(), rounds)
        floor = statistics.median(floor_times)
        rows = [row(disk, "write alone (floor)", floor_times, floor, len(calls))]
        for name, syncer in (("fsync in the call (pipe)", SyncNow()), ("background (TUI)", None)):
            calls.clear()
            times = record_rounds(syncer or BackgroundSync(), rounds)
            rows.append(row(disk, name, times, floor, len(calls)))
    finally:
        os.fsync = real
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--rounds", type=int, default=100, help="prompts and answers per row")
    parser.add_argument("--slow", type=float, default=50.0, help="ms the slow disk's fsync takes")
    ns = parser.parse_args(argv)
    rows = measure("this machine's", 0.0, ns.rounds)
    rows += measure(f"fsync +{ns.slow:g} ms", ns.slow / 1000, max(1, ns.rounds // 5))
    headers = ["disk", "syncer", "median", "p95", "max", "ratio", "fsyncs"]
    print(table(headers, rows, markdown=ns.markdown))
    print(f"\nper synced record on the caller's thread; load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
