"""Errors reported inside an HTTP 200 stream (T21), which llmock cannot send.

Anthropic ends a stream with ``event: error`` (``overloaded_error``) after
HTTP 200; OpenAI-compatible servers send an ``{"error": ...}`` chunk. The
loopback server streams these over a real socket. Once text was shown the
turn fails with the partial kept and nothing is retried (a retry would show
the answer twice); when the error is the first thing in the stream, it is
retried like a 529.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from providers.events import Retrying, TextDelta
from tests.faults.harness import Home, Sleeps, collect, entries
from tests.support.loopback import LoopbackServer, Reply
from tui.core.runtime import Runtime
from tui.core.session import RequestFailed, SessionEvent, TurnEnded
from tui.core.transcript import load

OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
SAYS = "Anthropic stream error: Overloaded (overloaded_error)"


def anthropic(*events: dict[str, Any]) -> list[bytes]:
    """One HTTP chunk per SSE event, named like Anthropic names them."""
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


def start_events() -> list[dict[str, Any]]:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "test-model",
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }
    return [{"type": "message_start", "message": message}, {"type": "ping"}]


def text_events(*pieces: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    ]
    out += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
        for p in pieces
    ]
    return out


def whole_answer(text: str) -> Reply:
    return Reply(
        anthropic(
            *start_events(),
            *text_events(text),
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 2},
            },
            {"type": "message_stop"},
        )
    )


CUT_BY_ERROR = Reply(anthropic(*start_events(), *text_events("partial ", "answer "), OVERLOADED))


@pytest.fixture
async def runtimes() -> AsyncIterator[list[Runtime]]:
    started: list[Runtime] = []
    yield started
    for runtime in started:
        await runtime.provider.aclose()
        runtime.transcript.close()


def text_of(events: list[SessionEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_error_event_after_text_keeps_the_partial_and_is_not_retried(
    server: LoopbackServer, tmp_path: Path, runtimes: list[Runtime]
) -> None:
    server.script("/v1/messages", CUT_BY_ERROR, whole_answer("the whole answer"))
    runtime = Home(tmp_path, "anthropic", server.base_url, max_retries=2).start(sleep=Sleeps())
    runtimes.append(runtime)
    events = await collect(runtime.session.send("hi"))
    failed = [e for e in events if isinstance(e, RequestFailed)]
    assert len(failed) == 1 and str(failed[0].error) == SAYS
    assert events[-1] == TurnEnded("failed", SAYS)
    assert text_of(events) == "partial answer " == failed[0].partial.text
    assert not any(isinstance(e, Retrying) for e in events)
    assert len(server.requests) == 1
    transcript = load(runtime.transcript.path)
    assert entries(transcript) == [
        ("user", "complete", "hi"),
        ("assistant", "failed", "partial answer "),
    ]
    assert transcript.entries[-1].error == SAYS
    # Retry is the user's choice, and then it works.
    retried = await collect(runtime.session.retry())
    assert text_of(retried) == "the whole answer" and retried[-1] == TurnEnded("stop")
    assert server.requests[1].json() == server.requests[0].json()


@pytest.mark.parametrize("before", [[], start_events()], ids=["first", "after-message-start"])
async def test_error_event_before_any_text_is_retried(
    before: list[dict[str, Any]], server: LoopbackServer, tmp_path: Path, runtimes: list[Runtime]
) -> None:
    server.script(
        "/v1/messages", Reply(anthropic(*before, OVERLOADED)), whole_answer("after one retry")
    )
    sleeps = Sleeps()
    runtime = Home(tmp_path, "anthropic", server.base_url, max_retries=2).start(sleep=sleeps)
    runtimes.append(runtime)
    events = await collect(runtime.session.send("hi"))
    (retrying,) = [e for e in events if isinstance(e, Retrying)]
    assert retrying.attempt == 1 and retrying.reason == SAYS and sleeps == [retrying.delay]
    assert text_of(events) == "after one retry" and events[-1] == TurnEnded("stop")
    assert len(server.requests) == 2
    assert entries(load(runtime.transcript.path))[-1] == (
        "assistant",
        "complete",
        "after one retry",
    )


async def test_openai_compatible_error_chunk_after_text(
    server: LoopbackServer, tmp_path: Path, runtimes: list[Runtime]
) -> None:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "half "}}]},
        {"error": {"message": "upstream overloaded", "code": 529}},
    ]
    body = [f"data: {json.dumps(c)}\n\n".encode() for c in chunks]
    server.script("/v1/chat/completions", Reply(body))
    runtime = Home(tmp_path, "openai", server.base_url + "/v1").start(sleep=Sleeps())
    runtimes.append(runtime)
    events = await collect(runtime.session.send("hi"))
    (failed,) = [e for e in events if isinstance(e, RequestFailed)]
    assert "upstream overloaded" in str(failed.error) and failed.partial.text == "half "
    assert len(server.requests) == 1
    assert entries(load(runtime.transcript.path))[-1] == ("assistant", "failed", "half ")


def test_pipe_mode_shows_the_error_and_keeps_the_partial(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.script("/v1/messages", CUT_BY_ERROR, whole_answer("never sent"))
    env = Home(tmp_path, "anthropic", server.base_url)
    done = env.run("-p", "hi")
    assert done.returncode == 1
    assert done.stdout == "partial answer \n"
    assert done.stderr.splitlines()[-1] == (
        f"error: {SAYS} (the partial answer is kept in the transcript)"
    )
    assert "retrying" not in done.stderr and len(server.requests) == 1
    assert entries(env.latest())[-1] == ("assistant", "failed", "partial answer ")
