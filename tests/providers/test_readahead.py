"""``ReadAhead``: what arrived together is one step, an error comes after what came before
it, a slow consumer bounds the read-ahead, and closing stops the read."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from providers import readahead
from providers.readahead import ReadAhead


async def reads(*groups: list[bytes], fail: Exception | None = None) -> AsyncIterator[bytes]:
    """Chunks in ``groups``: the chunks of a group are ready at once, a group is a read."""
    for group in groups:
        await asyncio.sleep(0)  # the socket wait between two reads
        for chunk in group:
            yield chunk
    if fail is not None:
        raise fail


async def steps(ahead: ReadAhead) -> list[list[bytes]]:
    return [batch async for batch in ahead]


async def test_each_step_is_what_arrived_together() -> None:
    got = await steps(ReadAhead(reads([b"a", b"b", b"c"], [b"d"], [b"e", b"f"])))
    assert got == [[b"a", b"b", b"c"], [b"d"], [b"e", b"f"]]


async def test_an_error_comes_after_the_chunks_read_before_it() -> None:
    ahead = ReadAhead(reads([b"a", b"b"], fail=ConnectionResetError("gone")))
    assert await anext(ahead) == [b"a", b"b"]
    with pytest.raises(ConnectionResetError, match="gone"):
        await anext(ahead)


async def test_a_slow_consumer_bounds_what_is_read_ahead() -> None:
    pulled = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(100):
            pulled += 1
            yield b"x" * 10  # all ready at once: only the limit stops the reading task

    ahead = ReadAhead(counted(), limit=35)
    first = await anext(ahead)
    assert first == [b"x" * 10] * 4  # 40 bytes: the task stopped at the limit
    for _ in range(5):
        await asyncio.sleep(0)  # the consumer does other work: the task reads to the limit
    assert pulled == 8
    assert await anext(ahead) == [b"x" * 10] * 4
    assert pulled == 8
    await ahead.aclose()


async def test_closing_stops_the_read() -> None:
    finished = False

    async def endless() -> AsyncIterator[bytes]:
        nonlocal finished
        try:
            while True:
                await asyncio.sleep(0)
                yield b"x"
        finally:
            finished = True

    ahead = ReadAhead(endless())
    assert await anext(ahead) == [b"x"]
    await ahead.aclose()
    assert ahead._task is None
    await asyncio.sleep(0)
    with pytest.raises(StopAsyncIteration):  # nothing more once closed
        await anext(ahead)


async def test_a_long_run_of_ready_chunks_lets_the_loop_run_between_slices(monkeypatch) -> None:
    now = [0.0]
    monkeypatch.setattr(readahead.time, "perf_counter", lambda: now[0])
    turns = 0
    stop = asyncio.Event()

    async def other_task() -> None:  # a key's echo, a frame: needs the loop
        nonlocal turns
        while not stop.is_set():
            turns += 1
            await asyncio.sleep(0)

    seen_at: list[int] = []

    async def ready_chunks() -> AsyncIterator[bytes]:
        for _ in range(100):  # all ready at once; each takes 0.5 ms to parse
            now[0] += 0.0005
            seen_at.append(turns)
            yield b"x"

    other = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    got = await steps(ReadAhead(ready_chunks()))
    stop.set()
    await other
    assert sum(map(len, got)) == 100
    # 100 x 0.5 ms: the loop ran every slice (8 ms = 16 chunks), not only at the end.
    gaps = {b - a for a, b in zip(seen_at, seen_at[1:], strict=False)}
    assert max(seen_at) >= 100 // 16 * readahead.SLICE_TURNS - readahead.SLICE_TURNS
    assert gaps <= {0, readahead.SLICE_TURNS, readahead.SLICE_TURNS + 1}


def count_pauses(monkeypatch) -> list[int]:
    """Count ReadAhead's pauses (its own ``asyncio.sleep`` calls), not the test's awaits.

    Only on this thread: ``readahead.asyncio`` is the process's ``asyncio``, and an event
    loop another test left running in a thread (a loopback server) sleeps too (counted, that
    failed this test under load).
    """
    pauses = [0]
    real_sleep = asyncio.sleep
    ours = threading.get_ident()

    async def counting_sleep(delay: float) -> None:
        if threading.get_ident() == ours:
            pauses[0] += 1
        await real_sleep(delay)

    monkeypatch.setattr(readahead.asyncio, "sleep", counting_sleep)
    return pauses


async def test_a_chunk_that_was_waited_for_starts_a_new_slice(monkeypatch) -> None:
    now = [0.0]
    monkeypatch.setattr(readahead.time, "perf_counter", lambda: now[0])
    real_sleep = asyncio.sleep
    pauses = count_pauses(monkeypatch)

    async def network() -> AsyncIterator[bytes]:
        for _ in range(100):
            now[0] += 0.002
            await real_sleep(0)  # each chunk arrives after a wait: the loop runs meanwhile
            yield b"x"

    await steps(ReadAhead(network()))
    assert pauses == [0]


async def test_time_passing_without_the_loop_running_is_no_wait(monkeypatch) -> None:
    # A preempted process sees long gaps between ready chunks; the loop did not run in
    # them, so they are not a wait for the network, and the slices still end in pauses.
    now = [0.0]
    monkeypatch.setattr(readahead.time, "perf_counter", lambda: now[0])
    pauses = count_pauses(monkeypatch)

    async def preempted() -> AsyncIterator[bytes]:
        for _ in range(100):
            now[0] += 0.002
            yield b"x"

    await steps(ReadAhead(preempted()))
    assert pauses[0] == 100 // 4 * readahead.SLICE_TURNS  # a pause after every 4th 2 ms chunk
