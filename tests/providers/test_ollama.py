"""Ollama native ``/api/chat`` adapter: recorded NDJSON, current-server shapes, requests.

Expected results were written by reading ``tests/fixtures/ollama/``. The
recorded calls have no ids, so ids are compared as ``<id>`` and checked for
their ``call_`` prefix and uniqueness separately.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from providers import create_provider
from providers.conversation import ChatRequest, UserMessage
from providers.errors import IncompleteResponse, StreamError
from providers.events import StreamEvent
from providers.ollama import Ollama
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

KIND = "ollama"


def ndjson(*lines: dict[str, Any]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def line(content: str = "", done: bool = False, **message: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": "qwen3",
        "created_at": "2025-08-01T10:00:00Z",
        "message": {"role": "assistant", "content": content, **message},
        "done": done,
    }
    return out


def final(reason: str = "stop", content: str = "") -> dict[str, Any]:
    return {
        **line(content, done=True),
        "done_reason": reason,
        "total_duration": 1000,
        "prompt_eval_count": 30,
        "eval_count": 12,
    }


async def stream_until_error(body: bytes, size: int = 6) -> tuple[list[StreamEvent], Exception]:
    """Events yielded before the stream raised, and the error (retries off)."""
    events, err = await until_error(KIND, pieces_of(body, size))
    assert isinstance(err, StreamError), err
    return events, err


def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"id": "<id>", "name": name, "arguments": arguments, "error": None}


# -- recorded streams --------------------------------------------------------------------

EXPECTED: dict[str, dict[str, Any]] = {
    "ollama/chat-stream-text-tail.ndjson": {
        "text": " these times of day.",
        "reasoning": "",
        "echo": [],
        "calls": [],
        "finish": "stop",
        "usage": (10, 239, None, None),
    },
    "ollama/chat-tool-calls-five-calls-edited.ndjson": {
        "text": "",
        "reasoning": "",
        "echo": [],
        "calls": [
            call("MyPlugin_GetCurrentWeather", {"location": "Boston, MA"}),
            call("MyPlugin_FunctionWithException", {"argument": "value"}),
            call("MyPlugin_NonExistentFunction", {"argument": "value"}),
            call("MyPlugin_InvalidArguments", {}),  # no arguments key at all
            call("MyPlugin_IntArguments", {"age": "36"}),
        ],
        "finish": "tool_calls",  # done_reason stays "stop"
        "usage": (152, 22, None, None),
    },
}


def test_every_fixture_has_an_expectation() -> None:
    on_disk = {f"ollama/{p.name}" for p in (FIXTURES / "ollama").iterdir()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
async def test_recorded_stream(fixture: str) -> None:
    message = await replay(KIND, fixture)
    assert summarize(message, keep_ids=False) == EXPECTED[fixture]
    ids = [c.id for c in message.tool_calls]
    assert all(i.startswith("call_") for i in ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
async def test_any_chunking_gives_the_same_message(fixture: str) -> None:
    body = body_from_fixture(fixture)
    splits = [pieces_of(body, size) for size in range(1, 65)]
    splits += [random_pieces(body, seed) for seed in range(20)]
    for pieces in splits:
        message = fold(KIND, await collect(KIND, pieces))
        assert summarize(message, keep_ids=False) == EXPECTED[fixture]


# -- current servers and failures --------------------------------------------------------


async def test_current_server_calls_share_index_zero_but_stay_distinct() -> None:
    # ollama/ollama server/routes.go: ids "call_" + 8 alnum; index may be 0 for every call.
    def tool_call(call_id: str, path: str) -> dict[str, Any]:
        arguments = {"path": path}
        return {
            "id": call_id,
            "function": {"index": 0, "name": "read_file", "arguments": arguments},
        }

    body = ndjson(
        line(thinking="Two files."),
        line(tool_calls=[tool_call("call_a1b2c3d4", "a.py"), tool_call("call_e5f6g7h8", "b.py")]),
        line(tool_calls=[tool_call("call_i9j0k1l2", "c.py")]),
        final(),
    )
    message = fold(KIND, await collect(KIND, pieces_of(body, 17)))
    assert summarize(message) == {
        "text": "",
        "reasoning": "Two files.",
        "echo": [],
        "calls": [
            {
                "id": "call_a1b2c3d4",
                "name": "read_file",
                "arguments": {"path": "a.py"},
                "error": None,
            },
            {
                "id": "call_e5f6g7h8",
                "name": "read_file",
                "arguments": {"path": "b.py"},
                "error": None,
            },
            {
                "id": "call_i9j0k1l2",
                "name": "read_file",
                "arguments": {"path": "c.py"},
                "error": None,
            },
        ],
        "finish": "tool_calls",
        "usage": (30, 12, None, None),
    }


async def test_thinking_content_and_trailing_content_on_the_final_line() -> None:
    body = ndjson(
        line(thinking="Hmm"), line(thinking=", easy."), line("The answer"), final(content=" is 4.")
    )
    message = fold(KIND, await collect(KIND, [body]))
    assert (message.reasoning, message.text, message.finish_reason) == (
        "Hmm, easy.",
        "The answer is 4.",
        "stop",
    )


@pytest.mark.parametrize(
    ("raw", "finish"), [("stop", "stop"), ("length", "length"), ("load", "other")]
)
async def test_done_reasons(raw: str, finish: str) -> None:
    message = fold(KIND, await collect(KIND, [ndjson(line("x"), final(raw))]))
    assert message.finish_reason == finish


async def test_error_line_after_content() -> None:
    body = ndjson(line("Partial"), {"error": "an error was encountered while running the model"})
    events, error = await stream_until_error(body)
    assert "error was encountered" in str(error)
    message = fold(KIND, events)
    assert message.text == "Partial" and message.finish_reason is None


async def test_missing_done_is_incomplete() -> None:
    events, error = await stream_until_error(ndjson(line("Cut"), line(" off")))
    assert isinstance(error, IncompleteResponse)
    assert fold(KIND, events).text == "Cut off"


async def test_malformed_line() -> None:
    _, error = await stream_until_error(ndjson(line("a")) + b'{"model": "qwen3", "mess\n')
    assert "malformed" in str(error) and not isinstance(error, IncompleteResponse)


# -- requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:11434", "http://127.0.0.1:11434/", "http://127.0.0.1:11434/api"]
)
def test_url(base: str) -> None:
    assert Ollama(settings_for(KIND, base_url=base)).url() == "http://127.0.0.1:11434/api/chat"


def test_openai_compatible_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match='kind "openai"'):
        Ollama(settings_for(KIND, base_url="http://127.0.0.1:11434/v1"))


def test_golden_request_body() -> None:
    body = Ollama(settings_for(KIND)).build_body(golden_request(KIND, echo={}))
    check_golden(body, FIXTURES / "golden" / "ollama.json")


def test_reasoning_from_another_provider_is_dropped() -> None:
    body = Ollama(settings_for(KIND)).build_body(
        golden_request("anthropic", echo={"signature": "s"})
    )
    assistant = body["messages"][2]
    assert assistant["role"] == "assistant" and "thinking" not in assistant
    assert "sig" not in json.dumps(body)


def test_minimal_body_has_no_options_or_think() -> None:
    body = Ollama(settings_for(KIND)).build_body(ChatRequest(messages=(UserMessage("hi"),)))
    assert body == {
        "model": "test-model",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }


async def test_over_loopback(server: LoopbackServer) -> None:
    body = body_from_fixture("ollama/chat-stream-text-tail.ndjson")
    server.script(
        "/api/chat",
        Reply(chunks=split_every(body, 9), headers={"Content-Type": "application/x-ndjson"}),
    )
    provider = create_provider(settings_for(KIND, base_url=server.base_url, api_key=None))
    request = ChatRequest(messages=(UserMessage("When?"),), system="Be brief.", max_tokens=64)
    events = [e async for e in provider.stream(request)]
    await provider.aclose()
    assert summarize(fold(KIND, events)) == EXPECTED["ollama/chat-stream-text-tail.ndjson"]
    (seen,) = server.requests
    headers = {k.lower(): v for k, v in seen.headers.items()}
    assert seen.path == "/api/chat"
    assert headers["accept"] == "application/x-ndjson" and "authorization" not in headers
    assert seen.json() == {
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "When?"},
        ],
        "stream": True,
        "options": {"num_predict": 64},
    }
