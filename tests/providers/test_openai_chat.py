"""The OpenAI Chat Completions adapter (kind "openai") and the servers that clone it.

Every recorded fixture under ``tests/fixtures/openai-chat`` and
``tests/fixtures/openai-compatible`` is folded and compared with a result
written by reading the fixture; the same bodies are then re-cut at every size
from 1 to 64 bytes and at seeded random points. Quirks with no recording are
small synthetic SSE bodies below, each named after the server that shows it.
One test runs over a real loopback socket and checks the request that arrived;
the golden test pins the whole request body.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from providers import create_provider
from providers.accumulate import Accumulator
from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    ReasoningPart,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from providers.errors import IncompleteResponse, ProviderError, StreamError
from tests.support.golden import check_golden, golden_request
from tests.support.loopback import LoopbackServer, Reply, split_every
from tests.support.replay import (
    FIXTURES,
    body_from_fixture,
    fold,
    pieces_of,
    random_pieces,
    replay,
    settings_for,
    summarize,
    transport_for,
    until_error,
)

KIND = "openai"
REQUEST = ChatRequest(messages=(UserMessage("hi"),))

# -- expected results, read from the fixtures -----------------------------------------------

DEEPSEEK_REASONING = (
    "Hmm, the user just said \"Hello\". It's a simple greeting but I wonder if there's "
    "more to it.  \n\n"
    "The message is very brief, so I don't have much context to work with. Maybe "
    "they're just testing if I'm responsive, or perhaps they're new to chatting with "
    "AI.  \n\n"
    "I should keep my reply warm and inviting to encourage further conversation. A "
    "smiley face would help make it friendly. Since they didn't specify a need, I'll "
    "leave it open-ended by asking how I can help them today.  \n\n"
    "The tone should be cheerful but professional - not too stiff, not too casual. "
    '"Hello there!" feels right for a start. Adding "What can I do for you today?" '
    "turns it into an invitation rather than just mirroring their greeting.  \n\n"
    "I'll avoid assumptions about their gender, location, or intent since there's zero "
    "information. If they're just being polite, they might not reply further - and "
    "that's okay too."
)
DEEPSEEK_TOOL_REASONING = (
    "The user is asking for the weather in San Francisco. I need to use the weather "
    "tool to get this information. Let me invoke the weather tool with the location "
    'parameter set to "San Francisco".'
)
GROQ_REASONING = (
    "We need to call the tool with invalid parameters first, then second call with "
    "valid args. The user wants us to test error handling. So first call should have "
    'wrong parameters (e.g., missing required "name" or extra param). The tool expects '
    'only "name". If we send extra property, that might cause error. Or missing '
    '"name". We\'ll do a call with missing name: {}. Then second call with name: '
    '"test". Let\'s do that.'
)
XAI_REASONING = (
    "First, the user is asking about the weather in San Francisco. I have a available "
    'function called "weather" that retrieves the weather for a given location.\n\n'
    'The function requires a parameter: "location", which is a string. The user has '
    'provided "San Francisco" as the location, so that\'s clear and inferable.\n\n'
    "I should call this function to get the weather information. The format for "
    "calling the function is specific: I need to use <function_call> tags with JSON "
    'inside, like <function_call>{"action": "weather", "action_input": {"location": '
    '"San Francisco"}}</function_call>.\n\n'
    "This seems to be a direct match, so I don't need to ask for clarification. My "
    "response should only contain the function call if that's the next step, which it "
    "is.\n\n"
    'The instructions say: "Keep your response to user clear; please do not make your '
    "response verbose!\" So, I shouldn't add any extra text; just the function call.\n\n"
    "Finally, after calling the function, if this were a multi-turn conversation, I "
    "might need to respond based on the result, but for now, this is the logical next "
    "step."
)


def call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """One expected call as ``summarize`` shows it."""
    return {"id": call_id, "name": name, "arguments": arguments, "error": None}


def result(
    *,
    text: str = "",
    reasoning: str = "",
    calls: tuple[dict[str, Any], ...] = (),
    finish: str | None,
    usage: tuple[int | None, ...] | None,
) -> dict[str, Any]:
    """An expected ``summarize`` result (Chat Completions never carries echo data)."""
    return {
        "text": text,
        "reasoning": reasoning,
        "echo": [],
        "calls": list(calls),
        "finish": finish,
        "usage": usage,
    }


# usage tuples: (input, output, reasoning, cached)
EXPECTED: dict[str, dict[str, Any]] = {
    # gpt-4o-mini: id/type/name on the first fragment, 11 argument fragments,
    # finish on an empty delta, usage on a choices:[] chunk.
    "openai-chat/single-tool-call-multichunk-args-usage.sse": result(
        calls=(call("call_1EYWDzueHEp8OsB8jJSEp7WB", "multiply", {"a": 1231, "b": 2331}),),
        finish="tool_calls",
        usage=(54, 20, 0, 0),
    ),
    "openai-chat/text-after-tool-result-usage.sse": result(
        text="The result of \\( 1231 \\times 2331 \\) is \\( 2,869,461 \\).",
        finish="stop",
        usage=(87, 26, 0, 0),
    ),
    # Two sequential calls; the second sends its "{}" in one fragment; obfuscation padding.
    "openai-chat/parallel-tool-calls-multichunk-and-empty-args-usage.sse": result(
        calls=(
            call("call_NS4iQj14cDFwc0BnrKqDHavt", "get_weather", {"city": "Mexico City"}),
            call("call_SkGkkGDvHQEEk0CGbnAh2AQw", "get_product_name", {}),
        ),
        finish="tool_calls",
        usage=(417, 44, 0, 0),
    ),
    # arguments "" then "{}" for each call.
    "openai-chat/parallel-tool-calls-empty-args.sse": result(
        calls=(
            call("call_q2UyBRP7eXNTzAoR8lEhjc9Z", "get_country", {}),
            call("call_b51ijcpFkDiTQG1bQzsrmtW5", "get_product_name", {}),
        ),
        finish="tool_calls",
        usage=(364, 40, 0, 0),
    ),
    # The only call has index 1 (Anthropic block numbering); arguments "" twice.
    "openai-compatible/anthropic-openai-compat-tool-call-index-1.sse": result(
        text="Reading it.",
        calls=(call("toolu_sanitized", "read_file", {"path": "a.txt"}),),
        finish="tool_calls",
        usage=None,
    ),
    # reasoning_content, then content; finish_reason and usage in the same last chunk.
    "openai-compatible/deepseek-reasoning-content-then-text.sse": result(
        text="Hello there! 😊 How can I help you today?",
        reasoning=DEEPSEEK_REASONING,
        finish="stop",
        usage=(6, 212, 198, 0),
    ),
    "openai-compatible/deepseek-reasoning-then-tool-call.chunks.txt": result(
        reasoning=DEEPSEEK_TOOL_REASONING,
        calls=(call("call_00_ioIn7yN9p1ZOMNpDLwd4MgAF", "weather", {"location": "San Francisco"}),),
        finish="tool_calls",
        usage=(339, 83, 39, 320),
    ),
    # Whole call in one chunk, index after function; usage in x_groq.usage and usage.
    "openai-compatible/groq-tool-call-whole-args-x_groq-usage.chunks.txt": result(
        calls=(call("tk85n1k4m", "weather", {}),),
        finish="tool_calls",
        usage=(210, 15, None, None),
    ),
    # Continuation repeats type and sends name ""; stray delta.index; cached tokens.
    "openai-compatible/mistral-incremental-tool-call-empty-name.chunks.txt": result(
        calls=(
            call(
                "chatcmpl-tool-9f149c74c42f265b",
                "webSearchTool",
                {"query": "current Berlin weather"},
            ),
        ),
        finish="tool_calls",
        usage=(171, 14, None, 128),
    ),
    # delta.content is an array of thinking/text parts.
    "openai-compatible/mistral-thinking-content-array.chunks.txt": result(
        text="2 + 2 = 4",
        reasoning="The user is asking for 2+2. This is basic arithmetic. 2+2=4.",
        finish="stop",
        usage=(10, 46, None, None),
    ),
    # No index, no type; finish and usage in the chunk that carries the call.
    "openai-compatible/mistral-tool-call-whole-args-no-index.chunks.txt": result(
        calls=(call("gSIMJiOkT", "weather", {"location": "San Francisco"}),),
        finish="tool_calls",
        usage=(124, 22, None, None),
    ),
    # Same call chunk twice with id "0", type and name; no finish_reason at all, only [DONE].
    "openai-compatible/openrouter-repeated-id-and-name.sse": result(
        calls=(call("0", "llm_version", {}),),
        finish="tool_calls",
        usage=(57, 17, 0, 0),
    ),
    # Body starts with a space (first line is the unknown field " data"); first call
    # chunk has no arguments key; usage on a trailing chunk with finish_reason null.
    "openai-compatible/openrouter-type-repeated-name-without-arguments.sse": result(
        calls=(call("llm_version:0", "llm_version", {}),),
        finish="tool_calls",
        usage=(56, 12, 0, 0),
    ),
    # Reasoning, then the whole call; usage with total = prompt + completion + reasoning,
    # so reasoning (227) is added to completion (26) to give 253 output tokens.
    "openai-compatible/xai-reasoning-then-whole-tool-call.chunks.txt": result(
        reasoning=XAI_REASONING,
        calls=(call("call_79382389", "weather", {"location": "San Francisco"}),),
        finish="tool_calls",
        usage=(307, 253, 227, 306),
    ),
}

# Streams that fail after HTTP 200: (what the partial message holds, error text expected).
EXPECTED_ERRORS: dict[str, tuple[dict[str, Any], str]] = {
    # `event: error` with code tool_use_failed after reasoning; no finish, no [DONE].
    "openai-compatible/groq-reasoning-then-midstream-error-event.sse": (
        result(reasoning=GROQ_REASONING, finish=None, usage=None),
        "Tool call validation failed: tool call validation failed: parameters for tool "
        "get_something_by_name did not match schema: errors: [missing properties: 'name', "
        "additionalProperties 'invalid_param' not allowed] (invalid_request_error)",
    ),
    # ": OPENROUTER PROCESSING" comments, finish_reason "length" twice, then an error
    # beside choices, with usage (kept: the attempt was billed).
    "openai-compatible/openrouter-processing-comments-then-error-chunk.sse": (
        result(
            reasoning="We need to respond to a greeting. The user",
            finish="length",
            usage=(43, 10, 11, 0),
        ),
        "Token limit reached (400)",
    ),
}

ALL_FIXTURES = sorted([*EXPECTED, *EXPECTED_ERRORS])


def test_every_fixture_has_an_expected_result() -> None:
    on_disk = {
        f"{folder}/{path.name}"
        for folder in ("openai-chat", "openai-compatible")
        for path in (FIXTURES / folder).iterdir()
    }
    assert on_disk == set(ALL_FIXTURES)


# -- helpers -------------------------------------------------------------------------------


async def fold_until_error(
    pieces: list[bytes], kind: str = KIND, **settings: Any
) -> tuple[dict[str, Any], ProviderError | None]:
    """Fold events as they arrive; return the partial message and the error, if any."""
    events, err = await until_error(kind, pieces, REQUEST, **settings)
    return summarize(fold(kind, events)), err


def sse(*payloads: Any, done: bool = True) -> bytes:
    """A Chat Completions body: one ``data:`` event per payload, then ``[DONE]``."""
    events = [f"data: {p if isinstance(p, str) else json.dumps(p)}\n\n" for p in payloads]
    return "".join(events + (["data: [DONE]\n\n"] if done else [])).encode()


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """One chunk with a single choice."""
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


def fragment(index: int | None, call_id: str | None, name: str | None, args: Any) -> dict:
    """One entry of ``delta.tool_calls``; None leaves a key out."""
    function = {k: v for k, v in (("name", name), ("arguments", args)) if v is not None}
    out: dict[str, Any] = {"function": function}
    if index is not None:
        out["index"] = index
    if call_id is not None:
        out.update(id=call_id, type="function")
    return out


def cuttings(body: bytes) -> list[tuple[str, list[bytes]]]:
    """Every piece size from 1 to 64 bytes, then three seeded random cuttings."""
    out = [(f"{size}-byte pieces", pieces_of(body, size)) for size in range(1, 65)]
    out += [(f"random cuts, seed {seed}", random_pieces(body, seed, 20)) for seed in (1, 2, 3)]
    return out


# -- recorded streams ----------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
async def test_recorded_stream(fixture: str) -> None:
    assert summarize(await replay(KIND, fixture)) == EXPECTED[fixture]


@pytest.mark.parametrize("fixture", sorted(EXPECTED_ERRORS))
async def test_recorded_error_keeps_partial_output(fixture: str) -> None:
    partial, message = EXPECTED_ERRORS[fixture]
    folded, error = await fold_until_error([body_from_fixture(fixture)])
    assert isinstance(error, StreamError) and not isinstance(error, IncompleteResponse)
    assert str(error) == message
    assert folded == partial


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
async def test_any_cutting_gives_the_same_result(fixture: str) -> None:
    body = body_from_fixture(fixture)
    if fixture in EXPECTED:
        expected: tuple[dict[str, Any], str | None] = (EXPECTED[fixture], None)
    else:
        expected = EXPECTED_ERRORS[fixture]
    for label, pieces in cuttings(body):
        folded, error = await fold_until_error(pieces)
        assert (folded, error and str(error)) == expected, label


# -- quirks with no recording --------------------------------------------------------------

ROLE = chunk({"role": "assistant", "content": None, "refusal": None})


async def test_refusal_is_text_with_finish_refusal() -> None:
    body = sse(
        ROLE,
        chunk({"refusal": "I can't help"}),
        chunk({"refusal": " with that."}),
        chunk({}, "stop"),
    )
    folded, error = await fold_until_error([body])
    assert error is None
    assert folded == result(text="I can't help with that.", finish="refusal", usage=None)


async def test_null_arguments_mean_no_arguments() -> None:
    # simonw/llm#1521: a proxy sends "arguments": null.
    body = sse(
        ROLE,
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_n",
                        "type": "function",
                        "function": {"name": "ping", "arguments": None},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": None}}]}),
        chunk({}, "tool_calls"),
    )
    folded, _ = await fold_until_error([body])
    assert folded == result(calls=(call("call_n", "ping", {}),), finish="tool_calls", usage=None)


async def test_several_whole_calls_in_one_delta_are_all_kept() -> None:
    body = sse(
        ROLE,
        chunk(
            {
                "tool_calls": [
                    fragment(0, "call_a", "read_file", '{"path": "a.py"}'),
                    fragment(1, "call_b", "read_file", '{"path": "b.py"}'),
                ]
            },
            "tool_calls",
        ),
    )
    folded, _ = await fold_until_error([body])
    assert folded["calls"] == [
        call("call_a", "read_file", {"path": "a.py"}),
        call("call_b", "read_file", {"path": "b.py"}),
    ]


async def test_missing_index_two_calls_are_told_apart_by_id() -> None:
    # Mistral sends no index: one call per id, in arrival order, in one delta or two.
    one_delta = sse(
        chunk(
            {
                "tool_calls": [
                    fragment(None, "aaaaaaaaa", "weather", '{"city": "Paris"}'),
                    fragment(None, "bbbbbbbbb", "weather", '{"city": "Rome"}'),
                ]
            },
            "tool_calls",
        ),
    )
    two_chunks = sse(
        chunk({"tool_calls": [fragment(None, "aaaaaaaaa", "weather", '{"city": "Paris"}')]}),
        chunk({"tool_calls": [fragment(None, "bbbbbbbbb", "weather", '{"city": "Rome"}')]}),
        chunk({}, "tool_calls"),
    )
    expected = [
        call("aaaaaaaaa", "weather", {"city": "Paris"}),
        call("bbbbbbbbb", "weather", {"city": "Rome"}),
    ]
    for body in (one_delta, two_chunks):
        folded, _ = await fold_until_error([body])
        assert folded["calls"] == expected
        assert folded["finish"] == "tool_calls"


async def test_missing_index_continuation_without_id_extends_the_last_call() -> None:
    body = sse(
        chunk({"tool_calls": [fragment(None, "aaaaaaaaa", "weather", '{"city": ')]}),
        chunk({"tool_calls": [{"function": {"arguments": '"Oslo"}'}}]}),
        chunk({}, "tool_calls"),
    )
    folded, _ = await fold_until_error([body])
    assert folded["calls"] == [call("aaaaaaaaa", "weather", {"city": "Oslo"})]


async def test_vllm_trailing_arguments_in_the_finish_chunk() -> None:
    # vLLM serving_chat.py sends the "remaining" arguments with finish_reason.
    body = sse(
        ROLE,
        chunk({"tool_calls": [fragment(0, "chatcmpl-tool-1", "weather", None)]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Pa'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ris"}'}}]}, "tool_calls"),
    )
    folded, _ = await fold_until_error([body])
    assert folded["calls"] == [call("chatcmpl-tool-1", "weather", {"city": "Paris"})]
    assert folded["finish"] == "tool_calls"


async def test_ollama_v1_reasoning_and_repeated_index_zero() -> None:
    # Ollama's /v1: delta.reasoning; each call whole with index 0; finish "stop".
    body = sse(
        chunk({"role": "assistant", "content": "", "reasoning": "Two files."}),
        chunk({"tool_calls": [fragment(0, "call_k2j4a9x1", "read_file", '{"path":"a"}')]}),
        chunk({"tool_calls": [fragment(0, "call_p0q8z7m3", "read_file", '{"path":"b"}')]}),
        chunk({"content": ""}, "stop"),
    )
    folded, _ = await fold_until_error([body])
    assert folded == result(
        reasoning="Two files.",
        calls=(
            call("call_k2j4a9x1", "read_file", {"path": "a"}),
            call("call_p0q8z7m3", "read_file", {"path": "b"}),
        ),
        finish="tool_calls",
        usage=None,
    )


async def test_error_data_after_text_keeps_the_text() -> None:
    # The OpenAI/vLLM shape: a top-level error and no choices.
    error = {"error": {"message": "The server had an error", "type": "server_error"}}
    body = sse(ROLE, chunk({"content": "Hel"}), chunk({"content": "lo"}), error, done=False)
    folded, err = await fold_until_error([body])
    assert isinstance(err, StreamError) and not isinstance(err, IncompleteResponse)
    assert str(err) == "The server had an error (server_error)"
    assert err.retryable  # transient, but not retried: text was already shown
    assert folded == result(text="Hello", finish=None, usage=None)


async def test_truncated_body_is_incomplete_with_partial_text() -> None:
    body = sse(ROLE, chunk({"content": "Once upon"}), chunk({"content": " a time"}), done=False)
    folded, err = await fold_until_error([body])
    assert isinstance(err, IncompleteResponse)
    assert str(err).startswith("response incomplete")
    assert folded == result(text="Once upon a time", finish=None, usage=None)


async def test_truncated_call_is_marked_incomplete() -> None:
    body = sse(
        chunk({"tool_calls": [fragment(0, "call_t", "save_file", '{"path": "a')]}), done=False
    )
    folded, err = await fold_until_error([body])
    assert isinstance(err, IncompleteResponse)
    assert [c["error"] for c in folded["calls"]] == [
        "incomplete: the response ended before this call's arguments were complete"
    ]


async def test_finish_without_done_is_complete() -> None:
    body = sse(chunk({"content": "Hi."}), chunk({}, "length"), done=False)
    folded, err = await fold_until_error([body])
    assert err is None
    assert folded == result(text="Hi.", finish="length", usage=None)


async def test_empty_body_is_incomplete() -> None:
    folded, err = await fold_until_error([b""])
    assert isinstance(err, IncompleteResponse)
    assert folded == result(finish=None, usage=None)


async def test_malformed_chunk_is_a_stream_error() -> None:
    body = sse(chunk({"content": "Hi"}), '{"choices": [{"index": 0, "delta": {"content": "x"')
    folded, err = await fold_until_error([body])
    assert isinstance(err, StreamError) and not isinstance(err, IncompleteResponse)
    assert str(err).startswith("malformed chunk from the server")
    assert folded["text"] == "Hi"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("content_filter", "content_filter"),
        ("function_call", "tool_calls"),
        ("something_new", "other"),
    ],
)
async def test_finish_reasons_are_mapped(raw: str, reason: str) -> None:
    folded, _ = await fold_until_error([sse(chunk({"content": "x"}), chunk({}, raw))])
    assert folded["finish"] == reason


async def test_later_finish_and_usage_chunks_update_usage_only() -> None:
    # OpenRouter: finish twice, then usage; the last usage wins.
    body = sse(
        chunk({"content": "ok"}, "stop"),
        chunk({}, "stop", usage={"prompt_tokens": 1, "completion_tokens": 1}),
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}},
    )
    provider = create_provider(settings_for(KIND), transport=transport_for([body]))
    events = [event async for event in provider.stream(REQUEST)]
    await provider.aclose()
    assert [e.kind for e in events] == ["text", "finish", "usage", "usage"]
    assert summarize(fold_events(events))["usage"] == (5, 2, None, None)


def fold_events(events: list[Any]) -> AssistantMessage:
    acc = Accumulator(KIND)
    for event in events:
        acc.add(event)
    return acc.message()


# -- over a real socket --------------------------------------------------------------------


async def test_loopback_chunked_stream_and_request(server: LoopbackServer) -> None:
    fixture = "openai-compatible/anthropic-openai-compat-tool-call-index-1.sse"
    server.script(
        "/v1/chat/completions",
        Reply(chunks=split_every(body_from_fixture(fixture), 7), pace=0.001),
    )
    provider = create_provider(settings_for(KIND, base_url=f"{server.base_url}/v1/"))
    acc = Accumulator(KIND)
    try:
        async for event in provider.stream(REQUEST):
            acc.add(event)
    finally:
        await provider.aclose()
    assert summarize(acc.message()) == EXPECTED[fixture]
    (sent,) = server.requests
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert headers["authorization"] == "Bearer sk-test-0123456789"
    assert headers["content-type"] == "application/json"
    assert sent.json() == {
        "model": "test-model",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


# -- the request body ----------------------------------------------------------------------


def body_for(request: ChatRequest, **settings: Any) -> dict[str, Any]:
    provider = create_provider(settings_for(KIND, **settings))
    return provider.build_body(request)


def test_golden_request_body() -> None:
    body = body_for(golden_request("openai", echo={}))
    check_golden(body, FIXTURES / "golden" / "openai-chat.json")


def test_max_tokens_field_depends_on_the_server() -> None:
    request = ChatRequest(messages=(UserMessage("hi"),), max_tokens=77)
    openai = body_for(request, base_url="https://api.openai.com/v1")
    local = body_for(request, base_url="http://localhost:8000/v1")
    assert openai["max_completion_tokens"] == 77 and "max_tokens" not in openai
    assert local["max_tokens"] == 77 and "max_completion_tokens" not in local
    from_settings = body_for(ChatRequest(messages=(UserMessage("hi"),)), max_tokens=5)
    assert from_settings["max_tokens"] == 5


def test_reasoning_is_not_sent_back_and_invalid_arguments_become_empty() -> None:
    assistant = AssistantMessage(
        parts=(
            ReasoningPart("secret thoughts", {"signature": "abc"}),
            ToolCall("call_x", "save_file", {}, '{"path": ', error="arguments are not valid JSON"),
        ),
        provider="openai",
    )
    request = ChatRequest(
        messages=(UserMessage("go"), assistant, ToolResult("call_x", "save_file", "bad", True))
    )
    messages = body_for(request)["messages"]
    assert messages[1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_x",
                    "type": "function",
                    "function": {"name": "save_file", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_x", "content": "Error: bad"},
    ]
    assert "secret" not in json.dumps(body_for(request))


def test_assistant_text_only_turn() -> None:
    assistant = AssistantMessage(parts=(TextPart("Hello"),), provider="openai")
    messages = body_for(ChatRequest(messages=(UserMessage("hi"), assistant)))["messages"]
    assert messages[1] == {"role": "assistant", "content": "Hello"}


async def test_http_error_status_is_mapped_by_the_base() -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(400, json={"error": {"message": "bad model"}})
    )
    provider = create_provider(settings_for(KIND), transport=transport)
    with pytest.raises(ProviderError, match="bad model"):
        async for _ in provider.stream(REQUEST):
            pass
    await provider.aclose()
