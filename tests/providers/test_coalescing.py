"""Coalescing per read: what merges, what never merges, and that nothing waits.

The transport hands on what each body read produced before it awaits the
next read; within one read, adjacent text, adjacent reasoning and adjacent
argument fragments of one call become one event (``providers.parser``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from providers import create_provider, readahead
from providers.conversation import ChatRequest, UserMessage
from providers.errors import ProviderError, StreamError
from providers.events import (
    Finish,
    ReasoningDelta,
    ReasoningSignature,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
)
from providers.parser import EventBuffer
from tests.support.gated import Gated
from tests.support.loopback import Reply, loopback
from tests.support.normalize import deltas, merged
from tests.support.replay import (
    FIXTURES,
    body_from_fixture,
    random_pieces,
    settings_for,
    transport_for,
)
from tests.support.sansio import drive, event_pieces, flat, numbered_ids, parser_for
from tests.support.wire import ROUTES, text_body

REQUEST = ChatRequest(messages=(UserMessage("hi"),))

# -- the buffer -------------------------------------------------------------------------------


def buffered(*steps: tuple[str, Any]) -> list[StreamEvent]:
    """Apply ``(method, argument)`` steps to a fresh buffer and drain it."""
    buffer = EventBuffer()
    for method, argument in steps:
        if method == "arguments":
            buffer.arguments(*argument)
        else:
            getattr(buffer, method)(argument)
    return buffer.drain()


START = ToolCallStart(1, "call_1", "f")
CASES: dict[str, tuple[list[tuple[str, Any]], list[StreamEvent]]] = {
    "adjacent text merges": (
        [("text", "a"), ("text", "b"), ("add", TextDelta("c"))],
        [TextDelta("abc")],
    ),
    "adjacent reasoning merges": (
        [("reasoning", "r1"), ("add", ReasoningDelta("r2")), ("reasoning", "r3")],
        [ReasoningDelta("r1r2r3")],
    ),
    "fragments of one call merge": (
        [("arguments", (0, '{"a"')), ("add", ToolCallDelta(0, ": 1")), ("arguments", (0, "}"))],
        [ToolCallDelta(0, '{"a": 1}')],
    ),
    "fragments of different calls never merge": (
        [("arguments", (0, "a")), ("arguments", (1, "b")), ("arguments", (0, "c"))],
        [ToolCallDelta(0, "a"), ToolCallDelta(1, "b"), ToolCallDelta(0, "c")],
    ),
    "text and reasoning never merge": (
        [("text", "t1"), ("reasoning", "r"), ("text", "t2")],
        [TextDelta("t1"), ReasoningDelta("r"), TextDelta("t2")],
    ),
    "text and arguments never merge": (
        [("text", "t"), ("arguments", (0, "a")), ("text", "u")],
        [TextDelta("t"), ToolCallDelta(0, "a"), TextDelta("u")],
    ),
    "a call start splits a run": (
        [("arguments", (0, "a")), ("add", START), ("arguments", (0, "b"))],
        [ToolCallDelta(0, "a"), START, ToolCallDelta(0, "b")],
    ),
    "a call end splits a run": (
        [("arguments", (0, "a")), ("add", ToolCallEnd(0)), ("arguments", (0, "b"))],
        [ToolCallDelta(0, "a"), ToolCallEnd(0), ToolCallDelta(0, "b")],
    ),
    "usage splits a run": (
        [("text", "a"), ("add", Usage(1, 2)), ("text", "b")],
        [TextDelta("a"), Usage(1, 2), TextDelta("b")],
    ),
    "a signature splits reasoning": (
        [("reasoning", "a"), ("add", ReasoningSignature({"signature": "s"})), ("reasoning", "b")],
        [ReasoningDelta("a"), ReasoningSignature({"signature": "s"}), ReasoningDelta("b")],
    ),
    "empty fragments are dropped": (
        [("text", ""), ("text", "a"), ("reasoning", ""), ("text", "b"), ("arguments", (0, ""))],
        [TextDelta("ab")],
    ),
    "other events pass in order": (
        [("add", Usage(1)), ("add", Finish("stop"))],
        [Usage(1), Finish("stop")],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_what_merges_and_what_never_does(case: str) -> None:
    steps, expected = CASES[case]
    assert buffered(*steps) == expected
    assert merged(expected) == expected  # the tests' normal form agrees with the buffer


def test_drain_ends_every_run() -> None:
    buffer = EventBuffer()
    nothing = buffer.drain()
    buffer.text("a")
    assert nothing == []  # an empty drain is a new list, not the buffer's own
    assert bool(buffer)
    assert buffer.drain() == [TextDelta("a")]
    assert not buffer and buffer.drain() == []
    buffer.text("b")  # a later read never extends what an earlier one produced
    assert buffer.drain() == [TextDelta("b")]


# -- through the transport --------------------------------------------------------------------

TEXT = "".join(f"word{i} " for i in range(100))


async def events_of(
    kind: str, pieces: Sequence[bytes], together: bool = False, **settings: Any
) -> list[StreamEvent]:
    transport = transport_for(list(pieces), together=together)
    provider = create_provider(settings_for(kind, **settings), transport=transport)
    try:
        return [event async for event in provider.stream(REQUEST)]
    finally:
        await provider.aclose()


@pytest.mark.parametrize("kind", sorted(ROUTES))
async def test_one_read_carrying_many_fragments_is_one_event(kind: str) -> None:
    body = text_body(kind, TEXT, 6)
    events = await events_of(kind, [body])
    assert [e.text for e in events if isinstance(e, TextDelta)] == [TEXT]


@pytest.mark.parametrize("kind", sorted(ROUTES))
async def test_wire_events_that_arrived_together_are_one_event(kind: str, monkeypatch) -> None:
    # One HTTP chunk per event, all there at once (the network coalesced the writes):
    # they are one read, so one event, not one per HTTP chunk. The read-ahead's pause after
    # a slice of wall time (tests/providers/test_readahead.py) would split them on a busy
    # machine, where taking them can outlast a slice: no slice ends here.
    monkeypatch.setattr(readahead, "SLICE_SECONDS", math.inf)
    body = text_body(kind, TEXT, 6)
    framing = "ndjson" if kind == "ollama" else "sse"
    events = await events_of(kind, event_pieces(body, framing), together=True)
    assert [e.text for e in events if isinstance(e, TextDelta)] == [TEXT]


@pytest.mark.parametrize("kind", sorted(ROUTES))
async def test_one_wire_event_per_read_is_never_merged(kind: str) -> None:
    body = text_body(kind, TEXT, 6)
    framing = "ndjson" if kind == "ollama" else "sse"
    events = await events_of(kind, event_pieces(body, framing))
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(texts) == -(-len(TEXT) // 6) and "".join(texts) == TEXT


# -- liveness over a real socket -----------------------------------------------------------------


def sse_chunk(*texts: str) -> bytes:
    """One HTTP chunk holding one Chat Completions event per text."""
    return b"".join(
        f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': t}}]})}\n\n".encode()
        for t in texts
    )


FINISH = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


async def test_what_a_read_carried_is_delivered_before_the_next_read() -> None:
    first = [f"a{i} " for i in range(30)]
    body = Gated(
        [
            sse_chunk(*first),
            sse_chunk("b"),
            sse_chunk("c") + FINISH,
        ],
        at=[1],
    )
    with loopback() as server:
        server.script(ROUTES["openai"][1], Reply(body))
        settings = settings_for("openai", base_url=server.base_url + ROUTES["openai"][0])
        provider = create_provider(settings)
        got = ""
        try:
            async with contextlib.aclosing(provider.stream(REQUEST)) as stream:
                # The server sends the first chunk, then waits: its 30 events must all
                # arrive while nothing more can be read.
                while got != "".join(first):
                    event = await asyncio.wait_for(anext(stream), 5)
                    assert isinstance(event, TextDelta), event
                    got += event.text
                assert not body.gates[1].is_set()  # all of it came before the gate opened
                assert await asyncio.to_thread(body.reached[1].wait, 5)  # the server is held
                body.open(1)
                rest = [event async for event in stream]
        finally:
            body.open(1)
            await provider.aclose()
    assert "".join(e.text for e in rest if isinstance(e, TextDelta)) == "bc"
    assert rest[-1] == Finish("stop", "stop")


# -- errors in the stream ------------------------------------------------------------------------

ANTHROPIC_START = (
    'event: message_start\ndata: {"type":"message_start","message":{"usage":'
    '{"input_tokens":5,"output_tokens":1}}}\n\n'
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    '"content_block":{"type":"text","text":""}}\n\n'
)
ANTHROPIC_TEXT = "".join(
    f'event: content_block_delta\ndata: {{"type":"content_block_delta","index":0,'
    f'"delta":{{"type":"text_delta","text":"{t}"}}}}\n\n'
    for t in ("Hello", " wor", "ld")
)
OVERLOADED = (
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
    '"message":"Overloaded"}}\n\n'
)


async def run(
    kind: str, bodies: list[bytes]
) -> tuple[list[StreamEvent], ProviderError | None, int]:
    """Events, the final error, and how many requests were sent (retries allowed)."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=bodies[min(len(sent), len(bodies)) - 1])  # one read

    transport = httpx.MockTransport(answer)
    provider = create_provider(settings_for(kind, max_retries=2), transport=transport, sleep=_nap)
    events: list[StreamEvent] = []
    try:
        async for event in provider.stream(REQUEST):
            events.append(event)
    except ProviderError as err:
        return events, err, len(sent)
    finally:
        await provider.aclose()
    return events, None, len(sent)


async def _nap(delay: float) -> None:
    pass


async def test_text_before_an_error_in_the_same_read_is_kept_and_not_retried() -> None:
    body = (ANTHROPIC_START + ANTHROPIC_TEXT + OVERLOADED).encode()
    events, err, sent = await run("anthropic", [body])
    assert isinstance(err, StreamError) and err.retryable and "Overloaded" in str(err)
    assert [e for e in events if not isinstance(e, Usage)] == [TextDelta("Hello world")]
    assert sent == 1  # output was shown: a retry would duplicate it


async def test_usage_alone_before_an_error_in_the_same_read_is_retried() -> None:
    failing = (ANTHROPIC_START + OVERLOADED).encode()
    fine = (
        ANTHROPIC_START
        + ANTHROPIC_TEXT
        + 'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        + 'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    ).encode()
    events, err, sent = await run("anthropic", [failing, fine])
    assert err is None and sent == 2
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello world"]


@pytest.mark.parametrize("kind", ["openai", "ollama", "gemini", "openai-responses"])
async def test_every_adapter_keeps_the_text_before_an_error_in_the_same_read(kind: str) -> None:
    errors = {
        "openai": b'data: {"error": {"message": "boom", "code": "server_error"}}\n\n',
        "ollama": b'{"error": "boom"}\n',
        "gemini": b'data: {"error": {"code": 503, "message": "boom", "status": "UNAVAILABLE"}}\n\n',
        "openai-responses": b'event: error\ndata: {"type": "error", "code": "server_error", '
        b'"message": "boom"}\n\n',
    }
    text = text_body(kind, "Hello world", 3)
    cut = text.rindex(b"data: ") if kind != "ollama" else text.rindex(b"{")
    if kind == "openai-responses":
        cut = text.rindex(b"event: response.completed")
    body = text[:cut] + errors[kind]
    events, err, sent = await run(kind, [body])
    assert isinstance(err, StreamError) and "boom" in str(err), err
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).startswith("Hello")
    assert sent == 1


# -- every recording: the same stream whatever the cutting ----------------------------------------

RECORDINGS = sorted(
    str(path.relative_to(FIXTURES))
    for path in FIXTURES.rglob("*")
    if path.is_file() and path.parent.name not in ("golden",) and path.name != "SOURCES.md"
)
KINDS = {
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
    "openai-chat": "openai",
    "openai-compatible": "openai",
    "openai-responses": "openai-responses",
}


def framing_of(name: str) -> str:
    if name.endswith(".ndjson"):
        return "ndjson"
    return "array" if name.endswith(".json") else "sse"


@pytest.mark.parametrize("name", RECORDINGS)
def test_every_recording_gives_one_stream_whatever_the_cutting(name: str) -> None:
    kind = KINDS[name.split("/")[0]]
    body = body_from_fixture(name)
    one_byte = [body[i : i + 1] for i in range(len(body))]
    cuttings = {
        "whole": [body],
        "1-byte": one_byte,
        **{f"random {seed}": random_pieces(body, seed) for seed in (1, 2, 3)},
        "per wire event": event_pieces(body, framing_of(name)),
    }
    results = {}
    for label, pieces in cuttings.items():
        with numbered_ids():
            reads, error = drive(parser_for(kind), pieces)
        results[label] = (reads, error)
    whole = merged(flat(results["whole"][0])), results["whole"][1]
    for label, (reads, error) in results.items():
        assert (merged(flat(reads)), error) == whole, label
    # Byte by byte a read completes at most one wire event, so nothing can merge:
    # exactly what one wire event per read gives, event for event.
    assert flat(results["1-byte"][0]) == flat(results["per wire event"][0])
    assert deltas(flat(results["whole"][0])) <= deltas(flat(results["1-byte"][0]))
