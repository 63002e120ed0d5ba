"""A scripted provider: each request gets the next list of events.

Steps may be events, ``Gate`` objects (the stream waits until the test opens
them) or exceptions (raised at that point), so tests can pause a response
mid-stream, cancel it, or fail it after some output.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
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


@dataclass
class Gate:
    """A point in a script where the stream waits for ``open()``."""

    reached: asyncio.Event = field(default_factory=asyncio.Event)
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    def open(self) -> None:
        """Let the stream go on."""
        self.opened.set()


Step = StreamEvent | Gate | BaseException


class ScriptedProvider:
    """Answers request N with ``scripts[N]`` (the last script repeats)."""

    kind = "scripted"

    def __init__(self, *scripts: Sequence[Step], model: str = "scripted-model") -> None:
        self.scripts = [list(s) for s in scripts]
        self.requests: list[ChatRequest] = []
        self.model = model
        self.closed = 0

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield the next script's events."""
        self.requests.append(request)
        index = min(len(self.requests) - 1, len(self.scripts) - 1)
        try:
            for step in self.scripts[index]:
                await asyncio.sleep(0)
                if isinstance(step, Gate):
                    step.reached.set()
                    await step.opened.wait()
                elif isinstance(step, BaseException):
                    raise step
                else:
                    yield step
        finally:
            self.closed += 1

    def prepare(self) -> None:
        """Nothing to make ahead (``HTTPProvider.prepare`` makes its connection pool)."""

    async def aclose(self) -> None:
        """Nothing to close."""


def text_turn(text: str, size: int = 4) -> list[Step]:
    """Stream ``text`` in pieces and stop."""
    steps: list[Step] = [TextDelta(text[i : i + size]) for i in range(0, len(text), size)]
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
    steps += [
        ToolCallDelta(index, raw_arguments[i : i + size])
        for i in range(0, len(raw_arguments), size)
    ]
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
