"""The session and its tool loop, driven by a scripted provider.

Real tools in a temporary workspace and a real transcript file: the loop's
promises are about what gets run and what gets saved.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from providers.conversation import AssistantMessage, TextPart, ToolResult, UserMessage
from providers.errors import LimitExceeded, ServerError
from providers.events import Finish, TextDelta, ToolCallDelta, ToolCallEnd, ToolCallStart
from tests.support.scripted import Pause, ScriptedProvider, call_turn, calls_turn, text_turn
from tui.core import response
from tui.core.session import (
    Approval,
    ApprovalNeeded,
    CallReady,
    RequestFailed,
    Session,
    SessionEvent,
    ToolRan,
    TurnEnded,
)
from tui.core.tools.registry import PreparedCall, ToolRegistry
from tui.core.transcript import TranscriptWriter, load


class Approver:
    """Answers approval prompts from a list and records what it was asked."""

    def __init__(self, *answers: Approval) -> None:
        self.answers = list(answers)
        self.asked: list[PreparedCall] = []

    async def __call__(self, prepared: PreparedCall) -> Approval:
        self.asked.append(prepared)
        return self.answers.pop(0) if self.answers else Approval("no")


def make(
    tmp_path: Path,
    provider: ScriptedProvider,
    approver: Any = None,
    approval: str = "ask",
    max_steps: int = 25,
) -> Session:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    transcript = TranscriptWriter.create(
        tmp_path / "data", provider="scripted", model="m", workspace=str(workspace)
    )
    return Session(
        provider=provider,
        tools=ToolRegistry(workspace, approval=approval),
        transcript=transcript,
        approver=approver or Approver(),
        max_steps=max_steps,
    )


async def run(session: Session, prompt: str) -> list[SessionEvent]:
    return [event async for event in session.send(prompt)]


async def cancel_at(gate: Pause, session: Session, prompt: str) -> None:
    """Send ``prompt`` and cancel the turn once the provider reaches ``gate``."""
    task = asyncio.create_task(run(session, prompt))
    await gate.reached.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def statuses(session: Session) -> list[tuple[str, str]]:
    assert session.transcript is not None
    loaded = load(session.transcript.path)  # type: ignore[attr-defined]
    return [(type(e.message).__name__, e.status) for e in loaded.entries]


async def test_text_turn_saves_prompt_before_request(tmp_path: Path) -> None:
    seen: list[str] = []

    class Checking(ScriptedProvider):
        async def stream(self, request):  # type: ignore[no-untyped-def]
            # the prompt is on disk before any byte is requested
            seen.append(Path(session.transcript.path).read_text())  # type: ignore[union-attr]
            async for event in super().stream(request):
                yield event

    session = make(tmp_path, Checking(text_turn("Hello there.")))
    events = await run(session, "hi")
    assert '"hi"' in seen[0]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello there."
    assert events[-1] == TurnEnded("stop")
    assert [type(m).__name__ for m in session.history] == ["UserMessage", "AssistantMessage"]
    assert statuses(session) == [("UserMessage", "complete"), ("AssistantMessage", "complete")]


async def test_approved_call_runs_and_result_goes_back(tmp_path: Path) -> None:
    approver = Approver(Approval("yes"))
    args = json.dumps({"path": "a.txt", "content": "one\ntwo\n"})
    provider = ScriptedProvider(call_turn("save_file", args), text_turn("Saved."))
    session = make(tmp_path, provider, approver)
    events = await run(session, "save it")
    assert (tmp_path / "ws" / "a.txt").read_text() == "one\ntwo\n"
    assert len(approver.asked) == 1 and "a.txt" in approver.asked[0].title
    ready = [e for e in events if isinstance(e, CallReady)]
    assert ready[0].call.arguments == {"path": "a.txt", "content": "one\ntwo\n"}
    order = [type(e).__name__ for e in events if not isinstance(e, TextDelta)]
    assert order.index("ApprovalNeeded") < order.index("ToolRan")
    result = provider.requests[1].messages[-1]
    assert isinstance(result, ToolResult) and result.call_id == "call_1" and not result.is_error


async def test_invalid_arguments_never_run_or_ask(tmp_path: Path) -> None:
    approver = Approver(Approval("yes"))
    provider = ScriptedProvider(
        call_turn("save_file", '{"path": "a.txt", "content": "x'), text_turn("ok")
    )
    session = make(tmp_path, provider, approver)
    events = await run(session, "go")
    ran = [e for e in events if isinstance(e, ToolRan)]
    assert ran[0].result.is_error and "not valid JSON" in ran[0].result.content
    assert approver.asked == [] and not (tmp_path / "ws" / "a.txt").exists()


async def test_unknown_tool_is_an_error_result(tmp_path: Path) -> None:
    provider = ScriptedProvider(call_turn("rm_rf", "{}"), text_turn("ok"))
    session = make(tmp_path, provider)
    events = await run(session, "go")
    result = next(e for e in events if isinstance(e, ToolRan)).result
    assert result.is_error and "unknown tool" in result.content
    assert events[-1] == TurnEnded("stop")


async def test_refusal_reason_reaches_the_model(tmp_path: Path) -> None:
    provider = ScriptedProvider(
        call_turn("save_file", '{"path": "a.txt", "content": "x"}'), text_turn("ok")
    )
    session = make(tmp_path, provider, Approver(Approval("no", "use b.txt instead")))
    await run(session, "go")
    result = provider.requests[1].messages[-1]
    assert isinstance(result, ToolResult) and result.is_error
    assert "use b.txt instead" in result.content
    assert not (tmp_path / "ws" / "a.txt").exists()


async def test_always_stops_asking_for_that_tool(tmp_path: Path) -> None:
    approver = Approver(Approval("always"))
    provider = ScriptedProvider(
        calls_turn(
            ("c1", "save_file", '{"path": "a.txt", "content": "a"}'),
            ("c2", "save_file", '{"path": "b.txt", "content": "b"}'),
        ),
        text_turn("ok"),
    )
    session = make(tmp_path, provider, approver)
    await run(session, "go")
    assert len(approver.asked) == 1
    assert (tmp_path / "ws" / "b.txt").read_text() == "b"


async def test_loop_stops_after_max_steps(tmp_path: Path) -> None:
    provider = ScriptedProvider(call_turn("list_files", "{}"))
    session = make(tmp_path, provider, max_steps=3)
    events = await run(session, "loop forever")
    assert len(provider.requests) == 3
    assert events[-1].status == "max_steps"  # type: ignore[union-attr]


async def test_cancel_mid_stream_keeps_partial_and_next_prompt_works(tmp_path: Path) -> None:
    gate = Pause()
    provider = ScriptedProvider(
        [TextDelta("partial "), TextDelta("answer"), gate, TextDelta("never")], text_turn("fine")
    )
    session = make(tmp_path, provider)
    await cancel_at(gate, session, "first")
    assert provider.closed == 1  # the stream was closed, not left hanging
    assert statuses(session)[-1] == ("AssistantMessage", "cancelled")
    kept = session.history[-1]
    assert isinstance(kept, AssistantMessage) and kept.text == "partial answer"
    events = await run(session, "second")
    assert events[-1] == TurnEnded("stop")
    assert [type(m).__name__ for m in provider.requests[1].messages] == [
        "UserMessage",
        "AssistantMessage",
        "UserMessage",
    ]


async def test_cancel_during_approval_gives_every_call_a_result(tmp_path: Path) -> None:
    class Waiting(Approver):
        async def __call__(self, prepared: PreparedCall) -> Approval:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    provider = ScriptedProvider(
        calls_turn(
            ("c1", "save_file", '{"path": "a.txt", "content": "a"}'),
            ("c2", "read_file", '{"path": "a.txt"}'),
        ),
        text_turn("ok"),
    )
    session = make(tmp_path, provider, Waiting())
    task = asyncio.create_task(run(session, "go"))
    while not any(isinstance(m, AssistantMessage) for m in session.history):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    results = [m for m in session.history if isinstance(m, ToolResult)]
    assert [r.call_id for r in results] == ["c1", "c2"] and all(r.is_error for r in results)
    assert not (tmp_path / "ws" / "a.txt").exists()


async def test_failure_keeps_partial_then_retry_resends(tmp_path: Path) -> None:
    provider = ScriptedProvider(
        [TextDelta("half an "), ServerError("overloaded (HTTP 529)", status=529)],
        text_turn("whole answer"),
    )
    session = make(tmp_path, provider)
    events = await run(session, "ask")
    failed = next(e for e in events if isinstance(e, RequestFailed))
    assert failed.partial.text == "half an " and "529" in str(failed.error)
    assert events[-1].status == "failed"  # type: ignore[union-attr]
    assert statuses(session)[-1] == ("AssistantMessage", "failed")
    retried = [e async for e in session.retry()]
    assert retried[-1] == TurnEnded("stop")
    assert [type(m).__name__ for m in provider.requests[1].messages] == ["UserMessage"]
    assert isinstance(provider.requests[1].messages[0], UserMessage)


async def test_escape_sequences_split_across_deltas_never_pass(tmp_path: Path) -> None:
    provider = ScriptedProvider(
        [
            TextDelta("A\x1b"),
            TextDelta("]52;c;cHduZWQ=\x07B\x1b["),
            TextDelta("2JC\x9b31m"),
            TextDelta("D"),
        ]
        + text_turn("")
    )
    session = make(tmp_path, provider)
    events = await run(session, "go")
    shown = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert shown == "ABCD"
    assert "\x1b" not in Path(session.transcript.path).read_text()  # type: ignore[union-attr]


async def test_streaming_answer_is_checkpointed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(response, "CHECKPOINT_INTERVAL", 0.0)
    gate = Pause()
    provider = ScriptedProvider([TextDelta("so far"), TextDelta("!"), gate, Finish("stop")])
    session = make(tmp_path, provider)
    task = asyncio.create_task(run(session, "go"))
    await gate.reached.wait()
    loaded = load(session.transcript.path)  # type: ignore[union-attr]
    last = loaded.entries[-1]
    assert last.status == "incomplete" and last.message.text == "so far!"  # type: ignore[union-attr]
    gate.release()
    await task


async def test_auto_policy_runs_without_asking(tmp_path: Path) -> None:
    approver = Approver()
    provider = ScriptedProvider(
        call_turn("save_file", '{"path": "a.txt", "content": "a"}'), text_turn("ok")
    )
    session = make(tmp_path, provider, approver, approval="auto")
    events = await run(session, "go")
    assert approver.asked == [] and not any(isinstance(e, ApprovalNeeded) for e in events)
    assert (tmp_path / "ws" / "a.txt").read_text() == "a"


async def test_a_prompt_cancelled_before_any_output_joins_the_next(tmp_path: Path) -> None:
    gate = Pause()
    provider = ScriptedProvider([gate, TextDelta("never")], text_turn("answer"))
    session = make(tmp_path, provider)
    await cancel_at(gate, session, "first")
    await run(session, "second")
    sent = provider.requests[1].messages
    assert sent == (UserMessage("first\n\nsecond"),)
    texts = [
        e.message.text
        for e in load(session.transcript.path).entries  # type: ignore[union-attr]
        if isinstance(e.message, UserMessage)
    ]
    assert texts == ["first", "second"]


async def test_an_edit_whose_file_changed_is_asked_again_with_the_new_diff(
    tmp_path: Path,
) -> None:
    target = tmp_path / "ws" / "a.py"
    target.parent.mkdir(exist_ok=True)
    target.write_text("x = 1\n")

    class ChangingApprover(Approver):
        async def __call__(self, prepared: PreparedCall) -> Approval:
            if not self.asked:  # the file changes while the first prompt is shown
                target.write_text("# new header\nx = 1\n")
            return await super().__call__(prepared)

    approver = ChangingApprover(Approval("yes"), Approval("yes"))
    args = json.dumps({"path": "a.py", "old_string": "x = 1", "new_string": "x = 2"})
    provider = ScriptedProvider(call_turn("edit_file", args), text_turn("Done."))
    session = make(tmp_path, provider, approver)
    events = await run(session, "edit it")
    assert len(approver.asked) == 2
    assert "+# new header" not in (approver.asked[1].preview or "")
    assert approver.asked[1].diff is not None and approver.asked[1].diff[0].text == "# new header"
    assert target.read_text() == "# new header\nx = 2\n"
    ran = [e for e in events if isinstance(e, ToolRan)]
    assert len(ran) == 1 and not ran[0].result.is_error
    assert sum(isinstance(e, ApprovalNeeded) for e in events) == 2


# -- hostile responses: bounded, and nothing lost however the turn is closed -----------------


async def test_a_turn_closed_from_outside_is_saved_cancelled_at_once(tmp_path: Path) -> None:
    # The UI closes the turn with aclosing(send()) when the cancel lands in its own code:
    # GeneratorExit, not CancelledError, and no garbage collection to finish the job.
    provider = ScriptedProvider([TextDelta("kept "), TextDelta("text"), TextDelta("never")])
    session = make(tmp_path, provider)
    turn = session.send("go")
    seen: list[SessionEvent] = []
    while sum(isinstance(e, TextDelta) for e in seen) < 2:
        seen.append(await turn.__anext__())
    await turn.aclose()
    assert [e.text for e in seen if isinstance(e, TextDelta)] == ["kept ", "text"]
    assert provider.closed == 1
    assert statuses(session)[-1] == ("AssistantMessage", "cancelled")
    loaded = load(session.transcript.path)  # type: ignore[union-attr]
    assert loaded.entries[-1].message.text == "kept text"  # type: ignore[union-attr]


async def test_a_call_whose_arguments_pass_the_limit_ends_the_response_there(
    tmp_path: Path,
) -> None:
    limit = response.argument_limit(ToolRegistry(tmp_path).max_write_bytes)
    piece = '{"path": "a", "content": "' + "x" * 65536
    deltas = [ToolCallDelta(0, piece)] * (limit // len(piece) + 2)
    script = [TextDelta("before"), ToolCallStart(0, "c1", "save_file"), *deltas]
    provider = ScriptedProvider([*script, TextDelta("after"), ToolCallEnd(0), Finish("stop")])
    session = make(tmp_path, provider)
    events = await run(session, "write")
    failed = [e for e in events if isinstance(e, RequestFailed)]
    assert len(failed) == 1 and isinstance(failed[0].error, LimitExceeded)
    assert "tool call arguments passed 21 MiB" in str(failed[0].error)
    assert not any(isinstance(e, TextDelta) and e.text == "after" for e in events)
    assert provider.closed == 1 and len(provider.requests) == 1
    assert statuses(session)[-1] == ("AssistantMessage", "failed")
    assert session.history[-1] == AssistantMessage((TextPart("before"),), "scripted")


async def test_checkpoints_of_a_long_answer_cost_linear_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each checkpoint rewrites the answer so far; spaced by size, they add up to O(size).
    monkeypatch.setattr(response, "CHECKPOINT_INTERVAL", 0.0)
    answer = "y" * (2 * 1024 * 1024)
    session = make(tmp_path, ScriptedProvider(text_turn(answer, size=4096)))
    await run(session, "go")
    written = Path(session.transcript.path).stat().st_size  # type: ignore[union-attr]
    assert load(session.transcript.path).entries[-1].message.text == answer  # type: ignore[union-attr]
    assert written < 6 * len(answer)
