"""Gemini adapter: recorded streams (SSE, Vertex partial args), quirks, requests.

Expected results were written by reading ``tests/fixtures/gemini/``; long
opaque signatures are read from the fixture text with a regex. Gemini sends
no call ids, so ids are compared as ``<id>`` and checked for their ``call_``
prefix and uniqueness separately.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from providers import create_provider
from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    ReasoningPart,
    TextPart,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)
from providers.errors import IncompleteResponse, StreamError
from providers.events import Finish, StreamEvent, ToolCallDelta
from providers.gemini import Gemini
from providers.gemini_schema import gemini_schema
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

KIND = "gemini"


def signature(name: str, nth: int = 0) -> str:
    """The ``nth`` thoughtSignature written in the raw fixture text."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return re.findall(r'"thoughtSignature": ?"([^"]*)"', text)[nth]


def chunk(*parts: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """One GenerateContentResponse with ``parts``."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], **extra}


def sse(*chunks: dict[str, Any]) -> bytes:
    """An ``alt=sse`` body with Gemini's CRLF framing."""
    return wire.sse(*chunks, eol="\r\n")


async def stream_until_error(body: bytes, size: int = 7) -> tuple[list[StreamEvent], Exception]:
    """Events yielded before the stream raised, and the error (retries off)."""
    events, err = await until_error(KIND, pieces_of(body, size))
    assert isinstance(err, StreamError), err
    return events, err


def call(name: str, arguments: dict[str, Any], echo: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "<id>", "name": name, "arguments": arguments, "error": None}
    if echo:
        out["echo"] = {"thoughtSignature": echo}
    return out


# -- recorded streams --------------------------------------------------------------------

THOUGHTS = "gemini/sse-thought-parts-then-text.sse"
SIGNED_CALL = "gemini/sse-function-call-thought-signature.sse"
ARRAY = "gemini/json-array-thought-then-function-call.json"
VERTEX = "gemini/vertex-stream-function-call-arguments.chunks.txt"
VERTEX_MIXED = "gemini/vertex-stream-thought-and-sequential-partial-arg-calls.chunks.txt"


def sse_fixture_texts(name: str) -> tuple[str, str]:
    """(thoughts, answer) of an ``alt=sse`` fixture, decoded the plain way.

    An oracle independent of the adapter, for the one fixture too long to
    spell out: split on CRLF CRLF, strip ``data: ``, join the part texts.
    """
    thoughts, answer = [], []
    raw = (FIXTURES / name).read_bytes().decode("utf-8")
    for event in filter(None, (e.strip() for e in raw.split("\r\n\r\n"))):
        for part in json.loads(event.removeprefix("data: "))["candidates"][0]["content"]["parts"]:
            (thoughts if part.get("thought") else answer).append(part.get("text", ""))
    return "".join(thoughts), "".join(answer)


THOUGHT_TEXT, ANSWER_TEXT = sse_fixture_texts(THOUGHTS)

EXPECTED: dict[str, dict[str, Any]] = {
    SIGNED_CALL: {
        "text": "",  # the final chunk's part is {"text": ""}
        "reasoning": "",
        "echo": [],
        "calls": [call("get_country", {}, signature(SIGNED_CALL))],
        "finish": "tool_calls",  # the API said STOP
        "usage": (29, 10 + 202, 202, None),  # output counts thoughts too
    },
    "gemini/sse-function-call-gemini2.sse": {
        "text": "",
        "reasoning": "",
        "echo": [],
        "calls": [call("get_capital", {"country": "France"})],  # same chunk as STOP and usage
        "finish": "tool_calls",
        "usage": (52, 5, None, None),
    },
    "gemini/sse-text-two-chunks.sse": {
        "text": "The temperature in Paris is 30°C.\n",
        "reasoning": "",
        "echo": [],
        "calls": [],
        "finish": "stop",
        "usage": (79, 12, None, None),  # promptTokenCount 169 then 79: the last wins
    },
    THOUGHTS: {
        "text": ANSWER_TEXT,
        "reasoning": THOUGHT_TEXT,
        "echo": [{"thoughtSignature": signature(THOUGHTS)}],  # on the first answer part
        "calls": [],
        "finish": "stop",
        "usage": (34, 469 + 787, 787, None),
    },
    ARRAY: {
        "text": "",
        "reasoning": "**Generating Pelican Names**\n\nOkay, I'm thinking I should use the "
        "`pelican_name_generator` tool to address the user's request. It seems straightforward:"
        " call it twice to get two different names for the pet pelican. It's a quick plan.\n\n\n",
        "echo": [],
        "calls": [call("pelican_name_generator", {}, signature(ARRAY))],
        "finish": "tool_calls",
        "usage": (32, 12 + 42, 42, None),
    },
    VERTEX: {
        "text": "",
        "reasoning": "",
        "echo": [],
        "calls": [
            call("getWeather", {"location": "Boston"}, signature(VERTEX)),
            call("getWeather", {"location": "San Francisco"}),
        ],
        "finish": "tool_calls",
        "usage": (26, 23 + 132, 132, None),  # earlier chunks carry only trafficType
    },
    VERTEX_MIXED: {
        "text": "",
        "reasoning": "**Processing User Requests**\n\nI've started by understanding the user's "
        "instructions. Currently, I'm focusing on the initial steps: reading the specified theme"
        " using the appropriate tool. Next, I plan to tackle reading the screens, beginning with"
        ' screen "A," then proceeding with "B" and "C" in parallel as instructed.\n\n\n',
        "echo": [],
        "calls": [
            call("read_theme", {}, signature(VERTEX_MIXED)),  # no args key at all
            call("read_screen", {"id": "A"}),
            call("read_screen", {"id": "B"}),
            call("read_screen", {"id": "C"}),
        ],
        "finish": "tool_calls",
        "usage": (249, 58 + 183, 183, None),
    },
}


def test_every_fixture_has_an_expectation() -> None:
    on_disk = {f"gemini/{p.name}" for p in (FIXTURES / "gemini").iterdir()}
    assert on_disk == set(EXPECTED)


def test_oracle_and_signatures_are_real() -> None:
    assert THOUGHT_TEXT.startswith("**Clarifying User Goals**\n\nI'm currently focused")
    assert THOUGHT_TEXT.endswith("circumstances or locations.\n\n\n")
    assert ANSWER_TEXT.startswith("This is a great question! Safely crossing the street")
    assert ANSWER_TEXT.endswith("Always assume a driver might not see you.")
    assert signature(THOUGHTS).startswith("CiIB0e2Kb6Sy") and len(signature(THOUGHTS)) == 6152
    assert signature(SIGNED_CALL).startswith("EpwICpkIAXLI")
    assert signature(ARRAY).startswith("ClgBEU0yD8z3")
    assert signature(VERTEX).startswith("CiMBjz1rX25K")
    assert signature(VERTEX_MIXED).startswith("AY89a18a8/Lo")


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
async def test_recorded_stream(fixture: str) -> None:
    message = await replay(KIND, fixture)
    assert summarize(message, keep_ids=False) == EXPECTED[fixture]
    ids = [c.id for c in message.tool_calls]
    assert all(i.startswith("call_") for i in ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
async def test_any_chunking_gives_the_same_message(fixture: str) -> None:
    body = body_from_fixture(fixture)
    sizes = range(1, 65) if len(body) < 8000 else [1, 2, 3, 5, 8, 13, 21, 34, 55, 64]
    splits = [pieces_of(body, size) for size in sizes]
    splits += [random_pieces(body, seed) for seed in range(20)]
    for pieces in splits:
        message = fold(KIND, await collect(KIND, pieces))
        assert summarize(message, keep_ids=False) == EXPECTED[fixture]


async def test_signature_on_answer_text_follows_that_text() -> None:
    parts = (await replay(KIND, THOUGHTS)).parts
    assert [type(p).__name__ for p in parts] == [
        "ReasoningPart",
        "TextPart",
        "ReasoningPart",
        "TextPart",
    ]
    assert isinstance(parts[1], TextPart)
    assert parts[1].text == (
        "This is a great question! Safely crossing the street is all about "
        "being aware and predictable. Here is a step-by-step"
    )
    assert parts[2] == ReasoningPart("", {"thoughtSignature": signature(THOUGHTS)})


async def test_vertex_arguments_arrive_as_one_canonical_fragment() -> None:
    events = await collect(KIND, [body_from_fixture(VERTEX)])
    deltas = [(e.index, e.arguments) for e in events if isinstance(e, ToolCallDelta)]
    assert deltas == [(0, '{"location":"Boston"}'), (1, '{"location":"San Francisco"}')]


# -- synthetic quirks --------------------------------------------------------------------

RAW_ERROR = b"""{
  "error": {
    "code": 503,
    "message": "The model is overloaded. Please try again later.",
    "status": "UNAVAILABLE"
  }
}
"""


async def test_raw_pretty_printed_error_after_sse_events() -> None:
    body = sse(chunk({"text": "Partial "}), chunk({"text": "answer"})) + RAW_ERROR
    events, error = await stream_until_error(body)
    assert "The model is overloaded" in str(error) and "UNAVAILABLE" in str(error)
    assert error.retryable  # type: ignore[attr-defined]
    message = fold(KIND, events)
    assert message.text == "Partial answer" and message.finish_reason is None


async def test_raw_error_even_after_a_finish_reason() -> None:
    body = sse(chunk({"text": "ok"}, finish="STOP")) + RAW_ERROR.replace(b"\n", b"\r\n")
    _, error = await stream_until_error(body, size=3)
    assert "overloaded" in str(error)


async def test_error_as_a_data_event() -> None:
    err = {"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}
    _, error = await stream_until_error(sse(chunk({"text": "a"}), err))
    assert "Resource exhausted" in str(error) and error.retryable  # type: ignore[attr-defined]


async def test_non_sse_garbage_is_reported() -> None:
    body = sse(chunk({"text": "a"}, finish="STOP")) + b"<html>Bad Gateway</html>\n"
    _, error = await stream_until_error(body)
    assert "unexpected text" in str(error) and "Bad Gateway" in str(error)


async def test_two_calls_to_the_same_tool_stay_distinct() -> None:
    body = sse(
        chunk(
            {"functionCall": {"name": "read_file", "args": {"path": "a.py"}}},
            {"functionCall": {"name": "read_file", "args": {"path": "b.py"}}},
            finish="STOP",
        )
    )
    message = fold(KIND, await collect(KIND, pieces_of(body, 9)))
    first, second = message.tool_calls
    assert first.id != second.id and first.id.startswith("call_")
    assert (first.arguments, second.arguments) == ({"path": "a.py"}, {"path": "b.py"})
    # The follow-up answers both, in call order, even if results finished out of order.
    request = ChatRequest(
        messages=(
            UserMessage("x"),
            message,
            ToolResult(second.id, "read_file", "B"),
            ToolResult(first.id, "read_file", "A"),
        )
    )
    contents = Gemini(settings_for(KIND)).build_body(request)["contents"]
    assert contents[-1] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "read_file", "response": {"result": "A"}}},
            {"functionResponse": {"name": "read_file", "response": {"result": "B"}}},
        ],
    }


async def test_blocked_prompt_finishes_as_content_filter() -> None:
    blocked = {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
    }
    events = await collect(KIND, [sse(blocked)])
    assert events[-1] == Finish("content_filter", "PROHIBITED_CONTENT")
    message = fold(KIND, events)
    assert message.parts == () and summarize(message)["usage"] == (12, None, None, None)


async def test_missing_finish_reason_is_incomplete() -> None:
    events, error = await stream_until_error(sse(chunk({"text": "Hello"})))
    assert isinstance(error, IncompleteResponse)
    assert fold(KIND, events).text == "Hello"


async def test_open_vertex_call_without_finish_is_incomplete() -> None:
    opening = {"functionCall": {"name": "f", "willContinue": True}}
    events, error = await stream_until_error(sse(chunk(opening)))
    assert isinstance(error, IncompleteResponse)
    (unfinished,) = fold(KIND, events).tool_calls
    assert unfinished.name == "f" and unfinished.error is not None


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "other"),
        ("LANGUAGE", "other"),
        ("UNEXPECTED_TOOL_CALL", "other"),
    ],
)
async def test_finish_reasons(raw: str, finish: str) -> None:
    events = await collect(KIND, [sse(chunk({"text": "x"}, finish=raw))])
    assert events[-1] == Finish(finish, raw)  # type: ignore[arg-type]


async def test_vertex_partial_args_of_every_kind() -> None:
    def piece(path: str, **value: Any) -> dict[str, Any]:
        return {
            "functionCall": {"partialArgs": [{"jsonPath": path, **value}], "willContinue": True}
        }

    body = sse(
        chunk({"functionCall": {"name": "plot", "willContinue": True}}),
        chunk(piece("$.title", stringValue="Sales ", willContinue=True)),
        chunk(piece("$.title", stringValue="2025")),
        chunk(piece("$.size.width", numberValue=640)),
        chunk(piece("$.series[1]", stringValue="q2")),
        chunk(piece("$.series[0]", stringValue="q1")),
        chunk(piece("$['log scale']", boolValue=True)),
        chunk(piece("$.note", nullValue="NULL_VALUE")),
        # No closing {}: the call is closed at the end of the body.
        chunk({"text": ""}, finish="STOP"),
    )
    (plot,) = fold(KIND, await collect(KIND, pieces_of(body, 13))).tool_calls
    assert plot.error is None
    assert plot.arguments == {
        "title": "Sales 2025",
        "size": {"width": 640},
        "series": ["q1", "q2"],
        "log scale": True,
        "note": None,
    }


async def test_empty_function_call_closes_the_call_at_once() -> None:
    usage = {"usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2}}
    body = sse(
        chunk({"functionCall": {"name": "f", "willContinue": True}}),
        chunk({"functionCall": {"partialArgs": [{"jsonPath": "$.a", "numberValue": 1}]}}),
        chunk({"functionCall": {}}),
        usage,  # a later chunk: the call must already be over
        chunk({"text": ""}, finish="STOP"),
    )
    events = await collect(KIND, [body])
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ToolCallStart", "ToolCallDelta", "ToolCallEnd", "Usage", "Finish"]
    assert fold(KIND, events).tool_calls[0].arguments == {"a": 1}


async def test_a_json_array_body_is_not_taken_for_sse() -> None:
    # The request always asks for alt=sse; a body in the other framing is an error
    # that names what it carried, not a silent empty answer.
    body = b'[{"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}\n]'
    events, error = await stream_until_error(body, size=4)
    assert "Internal error" in str(error) and not events
    body = b'[{"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}\n]'
    events, error = await stream_until_error(body, size=4)
    assert "unexpected text outside the event stream" in str(error) and not events


# -- requests ----------------------------------------------------------------------------


def test_url_and_key_header() -> None:
    provider = Gemini(
        settings_for(KIND, base_url="https://generativelanguage.googleapis.com/v1beta/")
    )
    assert provider.url() == (
        "https://generativelanguage.googleapis.com/v1beta/models/"
        "test-model:streamGenerateContent?alt=sse"
    )
    headers = provider.headers()
    assert headers["x-goog-api-key"] == "sk-test-0123456789" and "Authorization" not in headers


def test_the_model_name_is_quoted_as_one_path_segment() -> None:
    settings = replace(settings_for(KIND, base_url="http://h/v1beta"), model="models/a b?c#d%")
    provider = Gemini(settings)
    assert provider.url() == "http://h/v1beta/models/a%20b%3Fc%23d%25:streamGenerateContent?alt=sse"
    assert "sk-test" not in provider.url()


def test_golden_request_body() -> None:
    request = golden_request(
        KIND, echo={"thoughtSignature": "ts-1"}, call_echo={"thoughtSignature": "ts-2"}
    )
    body = Gemini(settings_for(KIND)).build_body(request)
    check_golden(body, FIXTURES / "golden" / "gemini.json")


def test_echo_from_another_provider_is_dropped() -> None:
    body = Gemini(settings_for(KIND)).build_body(
        golden_request("anthropic", echo={"signature": "sig-abc"}, call_echo={"x": "y"})
    )
    model = body["contents"][1]
    assert model["role"] == "model"
    assert model["parts"] == [
        {"text": "Let me look at both files."},
        {"functionCall": {"name": "read_file", "args": {"path": "a.py"}}},
        {"functionCall": {"name": "read_file", "args": {"path": "b.py"}}},
    ]


def test_signature_only_reasoning_part_becomes_empty_text_part() -> None:
    message = AssistantMessage(
        parts=(
            TextPart("Answer"),
            ReasoningPart("", {"thoughtSignature": "sig-1"}),
            ToolCall("call_1", "f", {}, "", echo={"thoughtSignature": "sig-2"}),
        ),
        provider=KIND,
    )
    body = Gemini(settings_for(KIND)).build_body(ChatRequest(messages=(message,)))
    assert body["contents"] == [
        {
            "role": "model",
            "parts": [
                {"text": "Answer"},
                {"text": "", "thoughtSignature": "sig-1"},
                {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "sig-2"},
            ],
        }
    ]


def test_schema_loses_additional_properties_but_keeps_such_a_property_name() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "additionalProperties": {"type": "string"},
            "items": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": False, "properties": {}},
            },
            "mode": {"type": "string", "enum": ["a", "b"]},
        },
    }
    assert gemini_schema(schema) == {
        "type": "object",
        "properties": {
            "additionalProperties": {"type": "string"},
            "items": {"type": "array", "items": {"type": "object", "properties": {}}},
            "mode": {"type": "string", "enum": ["a", "b"]},
        },
    }


def test_tool_without_parameters_has_no_parameters_field() -> None:
    tool = ToolSpec("now", "The time.", {"type": "object", "properties": {}})
    body = Gemini(settings_for(KIND)).build_body(
        ChatRequest(messages=(UserMessage("t?"),), tools=(tool,))
    )
    assert body["tools"] == [
        {"functionDeclarations": [{"name": "now", "description": "The time."}]}
    ]
    assert "maxOutputTokens" not in body["generationConfig"]


async def test_over_loopback(server: LoopbackServer) -> None:
    server.script(
        "/v1beta/models/test-model:streamGenerateContent",
        Reply(chunks=split_every(body_from_fixture(SIGNED_CALL), 5)),
    )
    provider = create_provider(settings_for(KIND, base_url=server.base_url + "/v1beta"))
    request = ChatRequest(messages=(UserMessage("Where?"),), system="Be brief.", max_tokens=99)
    events = [e async for e in provider.stream(request)]
    await provider.aclose()
    assert summarize(fold(KIND, events), keep_ids=False) == EXPECTED[SIGNED_CALL]
    (seen,) = server.requests
    assert seen.path == "/v1beta/models/test-model:streamGenerateContent?alt=sse"
    headers = {k.lower(): v for k, v in seen.headers.items()}
    assert headers["x-goog-api-key"] == "sk-test-0123456789"
    assert "authorization" not in headers and "key=" not in seen.path
    assert seen.json() == {
        "contents": [{"role": "user", "parts": [{"text": "Where?"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 99, "thinkingConfig": {"includeThoughts": True}},
    }
