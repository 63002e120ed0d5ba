"""Pipe mode writes what one network read produced in one go, not one write per event."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

from providers.events import TextDelta
from tui.core.session import SessionEvent, TurnEnded, TurnStatus
from tui.pipe import _drive
from tui.pipe_printers import JsonPrinter, TextPrinter


class CountingOut(io.StringIO):
    """stdout that counts its flushes and what had been written at each."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        self.flushed_at.append(len(self.getvalue()))


async def reads(*groups: int) -> AsyncIterator[SessionEvent]:
    """``groups[i]`` text events per read; the loop runs between two reads."""
    for size in groups:
        await asyncio.sleep(0)
        for i in range(size):
            yield TextDelta(f"{i} ")
    yield TurnEnded(TurnStatus.STOP)


async def _nothing() -> None:
    pass


def first_read(printer: str) -> str:
    """What ``reads(100, ...)`` printed for its first read, as ``printer`` prints it."""
    if printer == "json":
        return "".join(f'{{"type": "text", "text": "{i} "}}\n' for i in range(100))
    return "".join(f"{i} " for i in range(100))


async def test_one_flush_per_read_with_all_of_it_written() -> None:
    for name in ("json", "text"):
        out = CountingOut()
        printer = JsonPrinter(out) if name == "json" else TextPrinter(out, io.StringIO())
        code = await _drive(reads(100, 1, 50), printer, _nothing, out)
        assert code == 0
        written = out.getvalue()
        # Flushed when the loop ran after the first read and after the second, and at
        # the end: three writes for 151 events, each with all of its read in it.
        assert len(out.flushed_at) == 3, out.flushed_at
        assert written[: out.flushed_at[0]] == first_read(name)
        assert out.flushed_at[-1] == len(written)
