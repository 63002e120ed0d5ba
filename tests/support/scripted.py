"""One scripted provider for every layer's tests: each request gets the next list of steps.

Steps may be events, ``Pause`` objects (the stream waits there until the test releases
them) or exceptions (raised at that point), so tests can pause a response mid-stream,
cancel it, or fail it after some output. Requests are recorded in ``requests``.

Once the scripts run out, every further request gets ``then`` when given, else the last
script again: a session test can loop on one answer (``max_steps``), a UI test can end a
tool loop with a plain reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from providers.conversation import ChatRequest
from providers.events import (
    Finish,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
)


class Pause:
    """A point in a script where the stream waits until ``release()``."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self._go = asyncio.Event()

    def release(self) -> None:
        """Let the stream go on."""
        self._go.set()

    async def wait(self) -> None:
        """Called by the provider when the script gets here."""
        self.reached.set()
        await self._go.wait()


Step = StreamEvent | Pause | BaseException


class ScriptedProvider:
    """Answers request N with ``scripts[N]``; after the last, with ``then`` or the last again.

    Args:
        scripts: one list of steps per request, in order.
        then: the steps every request gets once ``scripts`` ran out (None: the last script;
            a request to a provider with neither is an error).
        model: the model name (shown in the TUI's status bar and snapshots).
    """

    kind = "scripted"

    def __init__(
        self,
        *scripts: Sequence[Step],
        then: Sequence[Step] | None = None,
        model: str = "scripted-1",
    ) -> None:
        self.scripts = [list(s) for s in scripts]
        self.then = list(then) if then is not None else None
        self.requests: list[ChatRequest] = []
        self.model = model
        self.cancelled = 0
        self.closed = 0

    def _next_script(self) -> list[Step]:
        index = len(self.requests) - 1
        if index < len(self.scripts):
            return self.scripts[index]
        if self.then is None and not self.scripts:
            raise AssertionError("a request reached a ScriptedProvider without scripts")
        return self.then if self.then is not None else self.scripts[-1]

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield the next script's events."""
        self.requests.append(request)
        try:
            for step in self._next_script():
                if isinstance(step, Pause):
                    await step.wait()
                elif isinstance(step, BaseException):
                    raise step
                else:
                    yield step
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.closed += 1

    def prepare(self) -> None:
        """Nothing to make ahead (``HTTPProvider.prepare`` makes its connection pool)."""

    async def aclose(self) -> None:
        """Nothing to close."""


def pieces(text: str, size: int) -> list[str]:
    """``text`` cut into ``size``-character pieces."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def text_turn(text: str, size: int = 4) -> list[Step]:
    """Stream ``text`` in pieces and stop."""
    steps: list[Step] = [TextDelta(piece) for piece in pieces(text, size)]
    return [*steps, Finish("stop")]


def call_turn(
    name: str,
    raw_arguments: str,
    call_id: str = "call_1",
    size: int = 5,
    index: int = 0,
    finish: bool = True,
) -> list[Step]:
    """One tool call whose raw argument text streams in pieces."""
    steps: list[Step] = [ToolCallStart(index, call_id, name)]
    steps += [ToolCallDelta(index, piece) for piece in pieces(raw_arguments, size)]
    steps.append(ToolCallEnd(index))
    return [*steps, Finish("tool_calls")] if finish else steps


def calls_turn(*calls: tuple[str, str, str]) -> list[Step]:
    """Several calls ``(id, name, raw_arguments)`` in one response."""
    steps: list[Step] = []
    for index, (call_id, name, raw) in enumerate(calls):
        steps += call_turn(name, raw, call_id, index=index, finish=False)
    return [*steps, Finish("tool_calls")]


def as_dict(value: Any) -> Any:
    """Frozen mappings to plain dicts, for comparisons."""
    return dict(value) if hasattr(value, "items") else value
