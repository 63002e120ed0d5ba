"""Network faults from llmock (a real chaos server on loopback), OpenAI and Anthropic adapters.

Each fault runs through the session in-process (``tui.core.runtime.start`` with a
config file pointing at llmock); ``test_llmock_pipe.py`` runs every fault
family through pipe mode. llmock's verdict (``assert_resilient``) grades retries and backoff.
It cannot tell "stopped and marked the answer failed" from "accepted half an
answer": its ``truncated_stream_accepted`` and ``gave_up`` checks only look at
retries. So cut-short streams are first checked in the transcript, then the
user retries the turn and the verdict judges the completed call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from llmock.pytest_plugin import LLMock

from providers.conversation import AssistantMessage, ToolResult, UserMessage
from providers.events import Retrying, TextDelta
from tests.faults.harness import KEY, Home, Sleeps, collect, entries
from tui.core.runtime import Runtime
from tui.core.session import Approval, RequestFailed, SessionEvent, ToolRan, TurnEnded
from tui.core.transcript import load

KINDS = ("openai", "anthropic")
TEXT = "one two three four five six seven eight nine ten"
Start = Callable[..., Runtime]


@pytest.fixture
def mock(llmock: LLMock) -> LLMock:
    """llmock answering in text (by default it calls any tool it is offered)."""
    return llmock.tool_mode("off")


@pytest.fixture
async def runtimes() -> AsyncIterator[list[Runtime]]:
    """Runtimes started by a test; their connections and transcripts are closed after it."""
    started: list[Runtime] = []
    yield started
    for runtime in started:
        await runtime.provider.aclose()
        runtime.transcript.close()


@pytest.fixture
def start(mock: LLMock, tmp_path: Path, runtimes: list[Runtime]) -> Start:
    """``start(kind, **config)``: a runtime whose provider points at llmock."""

    def make(kind: str, *, approver: Any = None, sleep: Any = None, **config: Any) -> Runtime:
        home = Home(tmp_path, kind, mock.base_url(kind), **config)
        kwargs = {"approver": approver} if approver else {}
        runtime = home.start(sleep=Sleeps() if sleep is None else sleep, **kwargs)
        runtimes.append(runtime)
        return runtime

    return make


def text_of(events: list[SessionEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def saved(runtime: Runtime) -> list[tuple[str, str, str]]:
    """``(role, status, text)`` of each message in the runtime's transcript file."""
    return entries(load(runtime.transcript.path))


def failure(events: list[SessionEvent]) -> RequestFailed:
    """The turn's one ``RequestFailed``; the turn must end failed right after it."""
    failed = [e for e in events if isinstance(e, RequestFailed)]
    assert len(failed) == 1, events
    assert events[-1] == TurnEnded("failed", str(failed[0].error))
    return failed[0]


# -- T18: rate limits ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_rate_limited_twice_waits_as_told_then_succeeds(
    mock: LLMock, start: Start, kind: str
) -> None:
    mock.rate_limit(times=2, retry_after=0.5).reply(TEXT)
    sleeps = Sleeps()
    runtime = start(kind, sleep=sleeps)
    began = time.monotonic()
    events = await collect(runtime.session.send("hello"))
    elapsed = time.monotonic() - began
    retrying = [e for e in events if isinstance(e, Retrying)]
    assert [r.attempt for r in retrying] == [1, 2]
    assert all("rate limited (HTTP 429)" in r.reason for r in retrying)
    assert sleeps == [r.delay for r in retrying] == [0.5, 0.5]  # retry-after-ms: 500
    assert elapsed >= 1.0
    assert text_of(events) == TEXT and events[-1] == TurnEnded("stop")
    assert len(mock.requests) == 3
    mock.assert_resilient(strict=True)  # no retry_after_ignored: the gaps were long enough


# -- T19, T27: server errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "retry_after", "says"),
    [
        ("openai", 500, None, "server error (HTTP 500)"),  # no Retry-After: exponential backoff
        ("anthropic", 529, 0.3, "overloaded (HTTP 529)"),
    ],  # Retry-After: exactly that
)
async def test_server_error_storm_gives_up_keeps_the_prompt_and_retry_works(
    mock: LLMock, start: Start, kind: str, status: int, retry_after: float | None, says: str
) -> None:
    mock.fail(status, times=3, retry_after=retry_after).reply(TEXT)
    sleeps = Sleeps()
    runtime = start(kind, max_retries=2, sleep=sleeps)
    events = await collect(runtime.session.send("keep this prompt"))
    error = failure(events).error
    assert says in str(error)
    assert len(mock.requests) == 3  # 1 + max_retries, then a clear error
    if retry_after is None:
        assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0
    else:
        assert sleeps == [retry_after, retry_after]
    assert error.retry_after == retry_after  # the UI can say how long to wait
    assert saved(runtime)[0] == ("user", "complete", "keep this prompt")
    assert runtime.session.history == [UserMessage("keep this prompt")]
    await asyncio.sleep(error.retry_after or 0)  # a person reads the error, then retries
    retried = await collect(runtime.session.retry())
    assert text_of(retried) == TEXT and retried[-1] == TurnEnded("stop")
    assert len(mock.requests) == 4 and mock.requests[-1].body == mock.requests[0].body
    mock.assert_resilient(strict=True)
    assert [s for _, s, _ in saved(runtime)][-1] == "complete"


async def test_outage_is_bounded_by_max_retries(mock: LLMock, start: Start) -> None:
    mock.fail(503, times=None, retry_after=0.1)  # an outage: every request fails
    runtime = start("anthropic", max_retries=1, sleep=Sleeps())
    events = await collect(runtime.session.send("anyone there?"))
    assert "HTTP 503" in str(failure(events).error)
    assert len(mock.requests) == 2
    mock.assert_resilient(strict=True)  # no retry_storm, no gave_up


# -- T20: client errors ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404])
@pytest.mark.parametrize("kind", KINDS)
async def test_client_errors_are_sent_exactly_once(
    mock: LLMock, start: Start, kind: str, status: int
) -> None:
    mock.fail(status, message=f"nope: key {KEY} rejected")
    runtime = start(kind)
    events = await collect(runtime.session.send("hi"))
    message = str(failure(events).error)
    assert f"HTTP {status}" in message and "nope: key" in message
    if status == 401:
        assert message.endswith("check the API key ($TEST_API_KEY)")
    assert KEY not in message and not any(isinstance(e, Retrying) for e in events)
    assert len(mock.requests) == 1
    mock.assert_resilient(strict=True)  # no retried_non_retryable
    assert saved(runtime)[0] == ("user", "complete", "hi")
    assert KEY.encode() not in runtime.transcript.path.read_bytes()


# -- T22-T24: streams cut short ------------------------------------------------------------------

CUTS = {
    "disconnect": "dropped mid-response",
    "truncate": "response incomplete",
    "corrupt": "malformed chunk from the server",
}


@pytest.mark.parametrize("fault", CUTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_stream_cut_short_keeps_the_partial_marked_failed(
    mock: LLMock, start: Start, kind: str, fault: str
) -> None:
    getattr(mock, fault)(after_chunks=5)
    mock.reply(TEXT, times=2)
    if fault == "corrupt":
        # Paced, so llmock sees us hang up after the bad chunk; unpaced it may have written
        # the whole body into the socket first and then grades the stream as read to the end.
        mock.pace(20)
    runtime = start(kind)
    events = await collect(runtime.session.send("count"))
    failed = failure(events)
    partial = text_of(events)
    assert CUTS[fault] in str(failed.error)
    assert partial and TEXT.startswith(partial) and partial != TEXT
    assert failed.partial.text == partial
    assert not any(isinstance(e, Retrying) for e in events)  # text was shown: no silent retry
    assert len(mock.requests) == 1
    transcript = load(runtime.transcript.path)
    assert entries(transcript) == [("user", "complete", "count"), ("assistant", "failed", partial)]
    assert CUTS[fault] in (transcript.entries[-1].error or "")
    # The user retries the turn: the same request goes out and completes.
    mock.pace(0)
    retried = await collect(runtime.session.retry())
    assert text_of(retried) == TEXT and retried[-1] == TurnEnded("stop")
    assert mock.requests[1].body == mock.requests[0].body
    mock.assert_resilient(strict=True)


@pytest.mark.parametrize("kind", KINDS)
async def test_stall_past_the_read_timeout_gives_up_in_time(
    start: Start, mock: LLMock, kind: str
) -> None:
    mock.stall(after_chunks=5, seconds=60.0).reply(TEXT)  # ends when the client hangs up
    runtime = start(kind, timeout=1.0)
    began = time.monotonic()
    events = await collect(runtime.session.send("count"))
    elapsed = time.monotonic() - began
    failed = failure(events)
    assert "read timeout" in str(failed.error) and "1 s" in str(failed.error)
    assert 0.9 <= elapsed < 30  # the 1 s timeout ended it, long before the 60 s stall would
    assert not any(isinstance(e, Retrying) for e in events)
    partial = text_of(events)
    assert partial and TEXT.startswith(partial)
    assert saved(runtime)[-1] == ("assistant", "failed", partial)


@pytest.mark.parametrize("kind", KINDS)
async def test_slow_first_token_within_the_read_timeout_is_not_a_timeout(
    mock: LLMock, start: Start, kind: str
) -> None:
    mock.slow_first_token(0.3).reply(TEXT)
    runtime = start(kind, timeout=1.0)
    events = await collect(runtime.session.send("take your time"))
    assert text_of(events) == TEXT and events[-1] == TurnEnded("stop")
    assert len(mock.requests) == 1


# -- T26: the user cancels -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_cancel_mid_stream_closes_the_connection_and_keeps_the_partial(
    mock: LLMock, start: Start, kind: str
) -> None:
    words = " ".join(f"w{i}" for i in range(40))
    mock.pace(50).reply(words)
    runtime = start(kind)
    seen: list[str] = []
    two = asyncio.Event()

    async def consume() -> None:
        async for event in runtime.session.send("stream slowly"):
            if isinstance(event, TextDelta):
                seen.append(event.text)
                if len(seen) == 2:
                    two.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(two.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    shown = "".join(seen)
    record = mock.last_request  # waits for the server to finish with it
    assert not record.completed  # the server saw the client go away mid-stream
    assert record.chunks_sent < 40
    assert saved(runtime)[-1] == ("assistant", "cancelled", shown)
    mock.pace(0).reply("fine")
    events = await collect(runtime.session.send("next"))
    assert text_of(events) == "fine" and events[-1] == TurnEnded("stop")
    sent = json.dumps(mock.last_request.body)
    assert "stream slowly" in sent and shown.strip() in sent and "next" in sent


# -- T11, T12: tool calls cut short or broken ----------------------------------------------------


async def yes(prepared: Any) -> Approval:
    return Approval("yes")


@pytest.mark.parametrize("kind", KINDS)
async def test_truncated_tool_call_is_never_run(
    mock: LLMock, start: Start, tmp_path: Path, kind: str
) -> None:
    mock.tool_mode("auto")
    mock.call_tool("save_file", {"path": "notes/a.txt", "content": "never written"})
    mock.truncate(after_chunks=5)
    runtime = start(kind, approval="auto", approver=yes)
    events = await collect(runtime.session.send("save a note"))
    assert "response incomplete" in str(failure(events).error)
    assert not any(isinstance(e, ToolRan) for e in events)
    assert not (tmp_path / "ws" / "notes").exists()
    last = load(runtime.transcript.path).entries[-1]
    assert last.status == "failed" and isinstance(last.message, AssistantMessage)
    (call,) = last.message.tool_calls
    assert call.name == "save_file" and call.error and "incomplete" in call.error
    full = json.dumps({"path": "notes/a.txt", "content": "never written"})
    assert full.startswith(call.raw_arguments) and '"path"' in call.raw_arguments
    assert len(call.raw_arguments) < len(full)  # kept as streamed, cut short
    # no dangling call in the history: the next request would be rejected
    assert not any(
        isinstance(m, AssistantMessage) and m.tool_calls for m in runtime.session.history
    )


@pytest.mark.parametrize(
    ("kind", "fault"), [("openai", "malformed_arguments"), ("anthropic", "unknown_tool")]
)
async def test_broken_tool_call_becomes_an_error_result(
    mock: LLMock, start: Start, tmp_path: Path, kind: str, fault: str
) -> None:
    mock.tool_mode("auto")
    mock.break_tool_call(fault)
    runtime = start(kind, approval="auto", approver=yes)
    events = await collect(runtime.session.send("use a tool"))
    ran = [e for e in events if isinstance(e, ToolRan)]
    assert ran and all(e.result.is_error for e in ran)
    assert events[-1] == TurnEnded("stop")  # llmock answers the error result in text
    assert [p for p in (tmp_path / "ws").rglob("*")] == []
    results = [m for m in runtime.session.history if isinstance(m, ToolResult)]
    assert results and all(r.is_error for r in results)
