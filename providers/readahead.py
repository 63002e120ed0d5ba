"""Reading a response body a network read at a time, not an HTTP chunk at a time.

A server that writes one SSE event per network write sends each event as an HTTP
chunk of its own, and httpx yields the chunks one by one even when one socket read
brought in hundreds of them. Handing each to the parser, the session and the screen
costs a full trip through all of them per event: on a fast stream that trip, not the
network, sets the pace.

``ReadAhead`` iterates the body in a task of its own and gives its consumer lists of
chunks: everything read since the consumer last asked. The task takes chunks for as
long as the transport has them without waiting (what one socket read brought), then
waits on the socket, and that wait is when the consumer runs: so each list holds what
arrived together, and nothing read is held back while the next read is awaited. When
the consumer is slower than the network, the lists grow (up to ``limit`` bytes, then
the task waits for the consumer), and the cost per event falls as the load rises. Taking
the chunks of one large read can itself last long (tens of milliseconds under load), so
the task pauses every ``SLICE_SECONDS`` of it to let the loop run (a key's echo, a frame).

An error raised by the body's iterator (a timeout, a dropped connection) is raised by
the consumer's next ``__anext__``, after the chunks read before it; ``aclose`` stops
the task (and with it the read) when the consumer stops early.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

READ_AHEAD_BYTES = 1 << 20  # read ahead of a slow consumer by at most this much
SLICE_SECONDS = 0.008
"""How long the task takes chunks without a pause. One socket read can bring 64 KiB, some
700 HTTP chunks, which httpx yields without a pause (7 ms idle, 70-90 ms under load): a
key pressed meanwhile would wait for all of them."""
SLICE_TURNS = 8
"""Loop turns given at a pause: a key's echo is a chain of tasks, one turn per step."""


class ReadAhead:
    """An async iterator of ``list[bytes]``: the chunks of ``chunks`` read since the last step.

    Args:
        chunks: the body's raw reads (e.g. ``httpx.Response.aiter_raw()``).
        limit: bytes read ahead of the consumer before the reading task waits for it.
    """

    def __init__(self, chunks: AsyncIterator[bytes], limit: int = READ_AHEAD_BYTES) -> None:
        self._chunks = chunks
        self._limit = limit
        self._ready: list[bytes] = []
        self._size = 0
        self._ended = False
        self._failure: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None  # the consumer, waiting for data
        self._room: asyncio.Future[None] | None = None  # the task, waiting for the consumer
        self._task: asyncio.Task[None] | None = None
        self._loop_turned = False  # the loop has run since the current slice began

    def __aiter__(self) -> ReadAhead:
        return self

    async def __anext__(self) -> list[bytes]:
        if self._task is None and not self._ended:
            self._task = asyncio.get_running_loop().create_task(self._pump())
        while not self._ready:
            if self._ended:
                if self._failure is not None:
                    failure, self._failure = self._failure, None
                    raise failure
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        ready, self._ready, self._size = self._ready, [], 0
        self._loop_turned = True  # this task ran: the reading task was waiting
        _wake(self._room)
        return ready

    async def aclose(self) -> None:
        """Stop reading (the task ends; an error it met is dropped); the iteration ends."""
        task, self._task = self._task, None
        self._ended, self._ready, self._failure = True, [], None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        clock = time.perf_counter
        pause_at = self._new_slice(clock())
        try:
            async for chunk in self._chunks:
                self._ready.append(chunk)
                self._size += len(chunk)
                _wake(self._waiter)
                if self._loop_turned:  # this chunk was awaited: the loop ran meanwhile
                    pause_at = self._new_slice(clock())
                elif clock() >= pause_at:
                    for _ in range(SLICE_TURNS):
                        await asyncio.sleep(0)
                    pause_at = self._new_slice(clock())
                if self._size >= self._limit:
                    self._room = loop.create_future()
                    try:
                        await self._room
                    finally:
                        self._room = None
        except Exception as exc:  # handed to the consumer, which maps it
            self._failure = exc
        finally:
            self._ended = True
            _wake(self._waiter)

    def _new_slice(self, now: float) -> float:
        """Start a slice at ``now``; ``_loop_turned`` tells when the loop has run since.

        The consumer sets it when it takes chunks, which it can only do while this task
        waits (for the network, or for the consumer) and the loop runs: exact where a gap
        in time is not (a process the system preempts sees gaps without the loop running),
        and free (no callback per read).
        """
        self._loop_turned = False
        return now + SLICE_SECONDS


def _wake(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)
