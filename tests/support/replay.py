"""Replay recorded bodies through an adapter and fold the result.

``body_from_fixture`` turns a fixture file into the bytes a server would send
(``.chunks.txt`` files hold one JSON chunk per line, recorded by vercel/ai's
tests, and ``.json`` files a whole streamed JSON array; both become ``data:``
events). ``replay`` serves those bytes through
``httpx.MockTransport`` cut into pieces of any size, and ``summarize`` reduces
a folded message to plain data for exact comparison with expected results.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from providers import create_provider
from providers.accumulate import Accumulator
from providers.conversation import AssistantMessage, ChatRequest, ReasoningPart, UserMessage
from providers.errors import ProviderError
from providers.events import StreamEvent
from providers.settings import ProviderSettings, Secret

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def body_from_fixture(name: str) -> bytes:
    """The response body for a fixture under ``tests/fixtures/``."""
    raw = (FIXTURES / name).read_bytes()
    if name.endswith(".json"):  # a streamed JSON array: its elements, as alt=sse sends them
        lines = [json.dumps(element) for element in json.loads(raw)]
    elif name.endswith(".chunks.txt"):
        lines = [line for line in raw.decode("utf-8").splitlines() if line.strip()]
    else:
        return raw
    return "".join(f"data: {line}\n\n" for line in lines).encode("utf-8")


class _Chunks(httpx.AsyncByteStream):
    """The body as ``pieces``, each one network read: the stream waits (yields to the event
    loop) before each, as a socket read does, so the transport hands each piece to the parser
    on its own (``providers.readahead`` joins only what arrived together). ``together``:
    all pieces are there at once, as when the network delivered them in one read."""

    def __init__(self, pieces: Sequence[bytes], together: bool = False) -> None:
        self._pieces = pieces
        self._together = together

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            if not self._together:
                await asyncio.sleep(0)
            yield piece


def pieces_of(body: bytes, size: int) -> list[bytes]:
    """``body`` cut into ``size``-byte pieces."""
    return [body[i : i + size] for i in range(0, len(body), size)]


def random_pieces(body: bytes, seed: int, count: int | None = None) -> list[bytes]:
    """``body`` cut at seeded random points (``count`` cuts, else 1 to 40 of them)."""
    rng = random.Random(seed)
    wanted = count if count is not None else rng.randint(1, 40)
    cuts = sorted(rng.sample(range(1, len(body)), min(wanted, len(body) - 1)))
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]


def transport_for(
    pieces: Sequence[bytes], status: int = 200, together: bool = False
) -> httpx.MockTransport:
    """A transport answering every request with ``pieces`` as a streamed body, one network
    read each (``together``: all in one read)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, stream=_Chunks(pieces, together))

    return httpx.MockTransport(handler)


def settings_for(kind: str, base_url: str = "http://test.invalid", **kw: Any) -> ProviderSettings:
    """Settings with a dummy key for ``kind``."""
    kw.setdefault("api_key", Secret("sk-test-0123456789"))
    kw.setdefault("key_source", "$TEST_KEY")
    return ProviderSettings(kind=kind, base_url=base_url, model="test-model", **kw)


async def collect(kind: str, pieces: Sequence[bytes], **kw: Any) -> list[StreamEvent]:
    """All events an adapter yields for a body served as ``pieces``."""
    provider = create_provider(settings_for(kind, **kw), transport=transport_for(pieces))
    request = ChatRequest(messages=(UserMessage("hi"),))
    try:
        return [event async for event in provider.stream(request)]
    finally:
        await provider.aclose()


async def until_error(
    kind: str, pieces: Sequence[bytes], request: ChatRequest | None = None, **kw: Any
) -> tuple[list[StreamEvent], ProviderError | None]:
    """Events yielded before the stream raised, and the error (None if none); no retries."""
    provider = create_provider(
        settings_for(kind, max_retries=0, **kw), transport=transport_for(pieces)
    )
    request = request or ChatRequest(messages=(UserMessage("hi"),))
    events: list[StreamEvent] = []
    try:
        async for event in provider.stream(request):
            events.append(event)
    except ProviderError as err:
        return events, err
    finally:
        await provider.aclose()
    return events, None


def fold(kind: str, events: Sequence[StreamEvent]) -> AssistantMessage:
    """The message the accumulator builds from ``events``."""
    acc = Accumulator(kind)
    for event in events:
        acc.add(event)
    return acc.message()


async def replay(kind: str, fixture: str, size: int | None = None) -> AssistantMessage:
    """Fold a fixture served in ``size``-byte pieces (whole when None)."""
    body = body_from_fixture(fixture)
    pieces = pieces_of(body, size) if size else [body]
    return fold(kind, await collect(kind, pieces))


def summarize(message: AssistantMessage, *, keep_ids: bool = True) -> dict[str, Any]:
    """Plain data for exact comparison: text, reasoning, calls, finish, usage, echo."""
    calls = [
        {
            "id": c.id if keep_ids else "<id>",
            "name": c.name,
            "arguments": dict(c.arguments),
            "error": c.error,
            **({"echo": dict(c.echo)} if c.echo else {}),
        }
        for c in message.tool_calls
    ]
    usage = message.usage
    return {
        "text": message.text,
        "reasoning": message.reasoning,
        "echo": [dict(p.echo) for p in message.parts if isinstance(p, ReasoningPart) and p.echo],
        "calls": calls,
        "finish": message.finish_reason,
        "usage": None
        if usage is None
        else (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens, usage.cached_tokens),
    }
