"""Anthropic Messages adapter: recorded streams, synthetic quirks, request bodies.

Expected results were written by reading the fixtures in
``tests/fixtures/anthropic/`` (see SOURCES.md there); long opaque values
(signatures, redacted data) are read out of the fixture text with a regex,
never from the adapter's output.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from providers import create_provider
from providers.accumulate import Accumulator
from providers.anthropic import Anthropic
from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    ReasoningPart,
    TextPart,
    ToolCall,
    UserMessage,
)
from providers.errors import IncompleteResponse, StreamError
from providers.events import Retrying, StreamEvent, TextDelta, ToolCallStart
from tests.support import wire
from tests.support.golden import check_golden, golden_request
from tests.support.loopback import LoopbackServer, Reply, split_every
from tests.support.replay import (
    FIXTURES,
    body_from_fixture,
    collect,
    fold,
    pieces_of,
    random_pieces,
    replay,
    settings_for,
    summarize,
    until_error,
)

KIND = "anthropic"


def fixture_value(name: str, field: str, nth: int = 0) -> str:
    """The ``nth`` string value of ``"field":"…"`` in the raw fixture text."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return re.findall(rf'"{field}":"([^"]*)"', text)[nth]


def sse(*events: dict[str, Any], names: bool = True) -> bytes:
    """An SSE body of ``event:``/``data:`` pairs, named after each data ``type``."""
    return wire.sse(*events, named=names)


def message_start(input_tokens: int = 7, **usage: int) -> dict[str, Any]:
    usage = {"input_tokens": input_tokens, "output_tokens": 1, **usage}
    return {"type": "message_start", "message": {"id": "msg_x", "usage": usage}}


def text_block(index: int, *texts: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": t},
            }
            for t in texts
        ),
        {"type": "content_block_stop", "index": index},
    ]


def ending(reason: str = "end_turn", output_tokens: int = 9) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
        {"type": "message_stop"},
    ]


OVERLOADED = {
    "type": "error",
    "error": {"details": None, "type": "overloaded_error", "message": "Overloaded"},
    "request_id": "req_011CTest",
}


async def events_until_error(body: bytes, size: int = 5) -> tuple[list[StreamEvent], Exception]:
    """Events yielded before the stream raised, and the error (retries off)."""
    events, err = await until_error(KIND, pieces_of(body, size))
    assert isinstance(err, StreamError), err
    return events, err


def _transport(bodies: list[bytes], size: int, seen: list[httpx.Request] | None = None) -> Any:
    """Answers request ``n`` with ``bodies[n]`` (the last repeats), in ``size``-byte pieces."""

    class Pieces(httpx.AsyncByteStream):
        def __init__(self, body: bytes) -> None:
            self.body = body

        async def __aiter__(self) -> Any:
            for piece in pieces_of(self.body, size):
                yield piece

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        count = len(seen) if seen is not None else 1
        return httpx.Response(200, stream=Pieces(bodies[min(count, len(bodies)) - 1]))

    return httpx.MockTransport(handler)


# -- recorded streams --------------------------------------------------------------------

THINKING = "anthropic/thinking-then-text.sse"
THINKING_TOOL = "anthropic/thinking-signature-then-tool-use.sse"
REDACTED = "anthropic/redacted-thinking-then-text.sse"
SERVER_TOOL = "anthropic/text-server-tool-then-client-tool-use-multichunk.sse"

EXPECTED: dict[str, dict[str, Any]] = {
    "anthropic/text.sse": {
        "text": "Hello",
        "reasoning": "",
        "echo": [],
        "calls": [],
        "finish": "stop",
        "usage": (10, 4, None, 0),
    },
    "anthropic/tool-use-no-args.sse": {
        "text": "",
        "reasoning": "",
        "echo": [],
        # One partial_json "" and nothing else: empty arguments mean {}.
        "calls": [
            {
                "id": "toolu_01CzN6riCPqw4pVSuTd9Dwn7",
                "name": "pelican_name_generator",
                "arguments": {},
                "error": None,
            }
        ],
        "finish": "tool_calls",
        "usage": (543, 40, None, 0),
    },
    "anthropic/two-tool-uses-no-args.sse": {
        "text": "",
        "reasoning": "",
        "echo": [],
        "calls": [
            {
                "id": "toolu_01LtHJmixrs9NcWQkK8hu8hj",
                "name": "pelican_name_generator",
                "arguments": {},
                "error": None,
            },
            {
                "id": "toolu_01N8a4jWyf116qKTMqKKmjyt",
                "name": "pelican_name_generator",
                "arguments": {},
                "error": None,
            },
        ],
        "finish": "tool_calls",
        "usage": (542, 62, None, 0),
    },
    THINKING: {
        "text": "1. **Pouch** - references their iconic bill pouch\n"
        '2. **Pelé** - playful take on "pelican"',
        "reasoning": "The user wants two names for a pet pelican, and they want me to be brief."
        " I'll suggest two names that would suit a pelican well.\n\nSome good options:\n"
        "- Pelé (play on pelican)\n- Pouch (referencing their bill pouch)\n- Captain Beak\n"
        "- Squirt\n- Scoop\n- Wing\n\nLet me give two brief, catchy names:",
        "echo": [{"signature": fixture_value(THINKING, "signature", 1)}],  # [0] is the empty ""
        "calls": [],
        "finish": "stop",
        "usage": (46, 133, None, 0),
    },
    THINKING_TOOL: {
        "text": "",
        "reasoning": "The user wants me to:\n1. Use the fixed_version tool\n"
        "2. Tell them the version\n3. Make a short joke about it\n\n"
        "Let me first call the fixed_version tool to see what version it returns.",
        "echo": [{"signature": fixture_value(THINKING_TOOL, "signature", 1)}],
        "calls": [
            {
                "id": "toolu_01825dXWLSoJwCst1qTsiWdb",
                "name": "fixed_version",
                "arguments": {},
                "error": None,
            }
        ],
        "finish": "tool_calls",
        "usage": (598, 92, 53, 0),  # output_tokens_details.thinking_tokens in message_delta
    },
    REDACTED: {
        "text": "I notice that you've sent what appears to be some kind of test string or command."
        ' I don\'t have any special "magic string" triggers or backdoor commands that would expose'
        " internal systems or change my behavior.\n\nI'm Claude, an AI assistant created by"
        " Anthropic to be helpful, harmless, and honest. How can I assist you today with a"
        " legitimate task or question?",
        "reasoning": "",
        "echo": [
            {"redacted_thinking": fixture_value(REDACTED, "data", 0)},
            {"redacted_thinking": fixture_value(REDACTED, "data", 1)},
        ],
        "calls": [],
        "finish": "stop",
        "usage": (92, 189, None, 0),
    },
    SERVER_TOOL: {
        # The server tool (index 1) and its result (index 2) are not client calls.
        "text": "Let me search for a tool that can provide current exchange rate information."
        "I found the right tool! Let me fetch the current USD to EUR exchange rate for you.",
        "reasoning": "",
        "echo": [],
        "calls": [
            {
                "id": "toolu_01EFn5wTNBYA8Reni8rbmnHT",
                "name": "get_exchange_rate",
                "arguments": {"from_currency": "USD", "to_currency": "EUR"},
                "error": None,
            }
        ],
        "finish": "tool_calls",
        "usage": (1591, 175, None, 0),  # message_delta repeats input_tokens: last wins
    },
    "anthropic/text-then-tool-use-no-args.chunks.txt": {
        "text": "I'll update the issue list for you.",
        "reasoning": "",
        "echo": [],
        "calls": [
            {
                "id": "toolu_01QE1WLsSVp5hy5Q3GmGTmjP",
                "name": "updateIssueList",
                "arguments": {},
                "error": None,
            }
        ],
        "finish": "tool_calls",
        "usage": (565, 48, None, 0),
    },
}


def test_every_fixture_has_an_expectation() -> None:
    on_disk = {f"anthropic/{p.name}" for p in (FIXTURES / "anthropic").iterdir()}
    assert on_disk == set(EXPECTED)


def test_fixture_values_are_real() -> None:
    # Guards fixture_value against silently matching something else.
    assert EXPECTED[THINKING]["echo"][0]["signature"].startswith("EuYDCmMIDBgC")
    assert EXPECTED[THINKING_TOOL]["echo"][0]["signature"].startswith("EoQDCm0IDhgC")
    assert EXPECTED[REDACTED]["echo"][1]["redacted_thinking"].startswith("EtgBCkYIBxgC")


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
async def test_recorded_stream(fixture: str) -> None:
    assert summarize(await replay(KIND, fixture)) == EXPECTED[fixture]


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
async def test_any_chunking_gives_the_same_message(fixture: str) -> None:
    body = body_from_fixture(fixture)
    splits = [pieces_of(body, size) for size in range(1, 65)]
    splits += [random_pieces(body, seed) for seed in range(20)]
    for pieces in splits:
        assert summarize(fold(KIND, await collect(KIND, pieces))) == EXPECTED[fixture]


async def test_block_index_maps_to_call_ordinal() -> None:
    # The client call is block 4 (after text, server tool, its result, text); it is call 0.
    events = await collect(KIND, [body_from_fixture(SERVER_TOOL)])
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [(s.index, s.id, s.name) for s in starts] == [
        (0, "toolu_01EFn5wTNBYA8Reni8rbmnHT", "get_exchange_rate")
    ]


async def test_thinking_signature_round_trips_into_the_next_request() -> None:
    message = await replay(KIND, THINKING)
    request = ChatRequest(messages=(UserMessage("names?"), message, UserMessage("more")))
    body = Anthropic(settings_for(KIND)).build_body(request)
    thinking, text = body["messages"][1]["content"]
    assert thinking == {
        "type": "thinking",
        "thinking": EXPECTED[THINKING]["reasoning"],
        "signature": fixture_value(THINKING, "signature", 1),
    }
    assert text == {"type": "text", "text": EXPECTED[THINKING]["text"]}


# -- synthetic quirks --------------------------------------------------------------------


async def test_error_event_after_text_keeps_partial_text() -> None:
    body = sse(message_start(), *text_block(0, "Hel", "lo")[:2]) + (
        b"event: error\ndata: " + json.dumps(OVERLOADED).encode() + b"     \n\n"
    )
    events, error = await events_until_error(body)
    assert "Overloaded" in str(error) and error.retryable  # type: ignore[attr-defined]
    message = fold(KIND, events)
    assert message.text == "Hel" and message.finish_reason is None


async def test_error_event_before_output_is_retried() -> None:
    good = sse(message_start(), *text_block(0, "Hello"), *ending())
    bad = b"event: error\ndata: " + json.dumps(OVERLOADED).encode() + b"\n\n"
    seen: list[httpx.Request] = []
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    provider = create_provider(
        settings_for(KIND, max_retries=1), transport=_transport([bad, good], 3, seen), sleep=sleep
    )
    request = ChatRequest(messages=(UserMessage("hi"),))
    events = [e async for e in provider.stream(request)]
    await provider.aclose()
    assert len(seen) == 2 and len(slept) == 1
    assert [type(e) for e in events if isinstance(e, Retrying)] == [Retrying]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello"]
    assert fold(KIND, events).text == "Hello"


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [("overloaded_error", True), ("api_error", True), ("invalid_request_error", False)],
)
async def test_error_event_without_event_name(kind: str, retryable: bool) -> None:
    data = {"type": "error", "error": {"type": kind, "message": "boom"}}
    _, error = await events_until_error(sse(message_start(), data, names=False))
    assert "boom" in str(error) and error.retryable is retryable  # type: ignore[attr-defined]


async def test_second_message_start_is_a_spliced_stream() -> None:
    call = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    body = sse(
        message_start(),
        {"type": "content_block_start", "index": 0, "content_block": call},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"a'},
        },
        message_start(),
        *text_block(0, "again"),
        *ending(),
    )
    events, error = await events_until_error(body)
    assert "spliced" in str(error)
    assert fold(KIND, events).tool_calls[0].error is not None  # never executed


async def test_missing_message_stop_is_incomplete() -> None:
    body = sse(message_start(), *text_block(0, "cut"), ending()[0])
    events, error = await events_until_error(body)
    assert isinstance(error, IncompleteResponse)
    assert fold(KIND, events).text == "cut"


async def test_malformed_json_raises() -> None:
    body = sse(message_start()) + b'event: content_block_start\ndata: {"type":"content_blo\n\n'
    _, error = await events_until_error(body)
    assert "malformed" in str(error) and not isinstance(error, IncompleteResponse)


async def test_invalid_partial_json_marks_the_call() -> None:
    call = {"type": "tool_use", "id": "toolu_9", "name": "save", "input": {}}
    body = sse(
        message_start(),
        {"type": "content_block_start", "index": 0, "content_block": call},
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": p},
            }
            for p in ('{"path": "a.txt", ', '"content": "unterminated')
        ),
        {"type": "content_block_stop", "index": 0},
        *ending("tool_use"),
    )
    message = fold(KIND, await collect(KIND, pieces_of(body, 11)))
    (call_out,) = message.tool_calls
    assert call_out.id == "toolu_9" and call_out.arguments == {}
    assert call_out.raw_arguments == '{"path": "a.txt", "content": "unterminated'
    assert call_out.error is not None and "not valid JSON" in call_out.error
    assert message.finish_reason == "tool_calls"


async def test_unknown_events_and_deltas_are_ignored() -> None:
    body = sse(
        message_start(),
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "citations_delta", "citation": {}},
        },
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "brand_new_event", "payload": 1},
        *ending(),
    )
    assert fold(KIND, await collect(KIND, [body])).text == "ok"


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("refusal", "refusal"),
        ("pause_turn", "pause"),
        ("compaction", "other"),
    ],
)
async def test_stop_reasons(raw: str, finish: str) -> None:
    # A refusal may come with no content blocks at all.
    body = sse(message_start(), *ending(raw))
    message = fold(KIND, await collect(KIND, [body]))
    assert message.finish_reason == finish and message.parts == ()


async def test_usage_counts_cache_reads_and_writes_as_input() -> None:
    start = message_start(5, cache_read_input_tokens=100, cache_creation_input_tokens=20)
    body = sse(start, *text_block(0, "x"), *ending(output_tokens=50))
    usage = fold(KIND, await collect(KIND, [body])).usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.cached_tokens) == (125, 50, 100)


# -- requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    ["https://api.anthropic.com", "https://api.anthropic.com/", "https://api.anthropic.com/v1"],
)
def test_url_tolerates_v1(base: str) -> None:
    assert (
        Anthropic(settings_for(KIND, base_url=base)).url()
        == "https://api.anthropic.com/v1/messages"
    )


def test_headers_use_x_api_key_not_bearer() -> None:
    headers = Anthropic(settings_for(KIND)).headers()
    assert headers["x-api-key"] == "sk-test-0123456789"
    assert headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in headers


def test_golden_request_body() -> None:
    body = Anthropic(settings_for(KIND)).build_body(
        golden_request(KIND, echo={"signature": "sig-abc"})
    )
    check_golden(body, FIXTURES / "golden" / "anthropic.json")


def test_echo_from_another_provider_is_dropped() -> None:
    request = golden_request(
        "gemini", echo={"thoughtSignature": "ts-1"}, call_echo={"thoughtSignature": "ts-2"}
    )
    body = Anthropic(settings_for(KIND)).build_body(request)
    assistant = body["messages"][1]
    assert assistant["role"] == "assistant"
    assert [block["type"] for block in assistant["content"]] == ["text", "tool_use", "tool_use"]
    assert "ts-1" not in json.dumps(body) and "ts-2" not in json.dumps(body)


def test_redacted_thinking_and_unsigned_thinking() -> None:
    message = AssistantMessage(
        parts=(
            ReasoningPart("", {"redacted_thinking": "ENCRYPTED"}),
            ReasoningPart("interrupted, never signed"),
            TextPart("hi"),
        ),
        provider=KIND,
    )
    body = Anthropic(settings_for(KIND)).build_body(ChatRequest(messages=(message,)))
    assert body["messages"] == [
        {
            "role": "assistant",
            "content": [
                {"type": "redacted_thinking", "data": "ENCRYPTED"},
                {"type": "text", "text": "hi"},
            ],
        }
    ]


def test_subclass_echoes_its_own_thinking_but_anthropic_does_not() -> None:
    class Scripted(Anthropic):  # like the offline demo: same wire format, own kind
        kind = "scripted"

    signed = AssistantMessage(parts=(ReasoningPart("t", {"signature": "s"}),), provider="scripted")
    request = ChatRequest(messages=(signed,))
    assert Scripted(settings_for(KIND)).build_body(request)["messages"] == [
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"}]}
    ]
    assert Anthropic(settings_for(KIND)).build_body(request)["messages"] == []


def test_max_tokens_default_and_no_empty_fields() -> None:
    request = ChatRequest(messages=(UserMessage("hi"),))
    body = Anthropic(settings_for(KIND, prompt_cache=False)).build_body(request)
    assert body == {
        "model": "test-model",
        "max_tokens": 8192,
        "stream": True,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }
    assert Anthropic(settings_for(KIND, max_tokens=300)).build_body(request)["max_tokens"] == 300


async def test_over_loopback(server: LoopbackServer) -> None:
    body = body_from_fixture(THINKING_TOOL)
    server.script("/v1/messages", Reply(chunks=split_every(body, 7)))
    provider = create_provider(settings_for(KIND, base_url=server.base_url))
    call = ToolCall("toolu_0", "fixed_version", {}, "{}")
    prior = AssistantMessage(parts=(call,), provider=KIND)
    request = golden_request(KIND, echo={"signature": "s"})
    request = ChatRequest(messages=(*request.messages, prior), system="sys", tools=request.tools)
    acc = Accumulator(KIND)
    async for event in provider.stream(request):
        acc.add(event)
    await provider.aclose()
    assert summarize(acc.message()) == EXPECTED[THINKING_TOOL]
    (seen,) = server.requests
    headers = {k.lower(): v for k, v in seen.headers.items()}
    assert seen.path == "/v1/messages"
    assert headers["x-api-key"] == "sk-test-0123456789" and "authorization" not in headers
    assert headers["anthropic-version"] == "2023-06-01"
    sent = seen.json()
    assert (sent["model"], sent["stream"], sent["max_tokens"], sent["system"]) == (
        "test-model",
        True,
        8192,
        [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
    )
    assert [t["eager_input_streaming"] for t in sent["tools"]] == [True, True]
    assert sent["messages"][-1]["content"] == [
        {"type": "tool_use", "id": "toolu_0", "name": "fixed_version", "input": {}}
    ]
