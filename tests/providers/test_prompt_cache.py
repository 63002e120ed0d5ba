"""Anthropic prompt caching: breakpoints on the stable prefix of every request of a tool loop.

A real session runs a five-request tool loop (four tool calls, then an answer)
against a loopback server speaking the Messages API; the assertions are on the
request bodies the server received.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from providers import create_provider
from providers.anthropic import Anthropic
from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    Message,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from tests.support.golden import golden_request
from tests.support.loopback import LoopbackServer, Reply
from tests.support.replay import settings_for
from tests.support.wire import ROUTES, text_body, tool_call_body
from tui.core.session import Approval, Session
from tui.core.tools.registry import PreparedCall, ToolRegistry
from tui.core.transcript import TranscriptWriter

MARK = {"type": "ephemeral"}
PATH = ROUTES["anthropic"][1]


def _marks(body: dict[str, Any]) -> list[str]:
    """Where ``body`` has cache_control marks: ``tools[i]``, ``system``, ``messages[i]``."""
    found = [
        f"tools[{i}]" for i, tool in enumerate(body.get("tools", ())) if "cache_control" in tool
    ]
    system = body.get("system")
    if isinstance(system, list) and any("cache_control" in block for block in system):
        found.append("system")
    for i, message in enumerate(body["messages"]):
        content = message["content"]
        blocks = content if isinstance(content, list) else []
        for j, block in enumerate(blocks):
            if "cache_control" in block:
                assert block["cache_control"] == MARK
                assert j == len(blocks) - 1, "a mark sits on the last block of its message"
                found.append(f"messages[{i}]")
    return found


def _unmarked(value: Any) -> Any:
    """``value`` without cache_control marks (and the system prompt as plain text)."""
    if isinstance(value, dict):
        return {k: _unmarked(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_unmarked(v) for v in value]
    return value


async def _always(prepared: PreparedCall) -> Approval:
    return Approval("yes")


async def test_a_five_request_tool_loop_marks_the_stable_prefix_of_every_request(
    server: LoopbackServer, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.txt").write_text("a")
    sse = {"Content-Type": "text/event-stream"}
    calls = [
        Reply([tool_call_body("anthropic", "list_files", {"path": "."}, f"toolu_{n}")], headers=sse)
        for n in range(4)
    ]
    server.script(PATH, *calls, Reply([text_body("anthropic", "Done.")], headers=sse))
    provider = create_provider(settings_for("anthropic", base_url=server.base_url))
    transcript = TranscriptWriter.create(
        tmp_path / "data", provider="claude", model="m", workspace=str(workspace)
    )
    session = Session(provider, ToolRegistry(workspace), transcript, _always, system="Be brief.")
    try:
        events = [event async for event in session.send("List the files, four times.")]
    finally:
        await provider.aclose()
    assert events[-1].status == "stop"  # type: ignore[union-attr]
    bodies = [request.json() for request in server.requests]
    assert len(bodies) == 5

    for n, body in enumerate(bodies):
        marks = _marks(body)
        assert len(marks) <= 4  # the API's limit
        last = len(body["messages"]) - 1
        tools = f"tools[{len(body['tools']) - 1}]"
        # Tools and system always; the newest message caches the whole prompt.
        assert marks[:2] == [tools, "system"] and marks[-1] == f"messages[{last}]"
        assert body["messages"][last]["role"] == "user"
        if n == 0:
            assert marks == [tools, "system", "messages[0]"]
            continue
        # The previous request's whole prompt is this one's prefix, unchanged, and it is
        # marked where the previous request put its newest mark: a cache read.
        before = bodies[n - 1]
        prefix = len(before["messages"])
        assert _unmarked(body["messages"][:prefix]) == _unmarked(before["messages"])
        assert _unmarked(body["tools"]) == _unmarked(before["tools"])
        assert marks == [tools, "system", f"messages[{prefix - 1}]", f"messages[{last}]"]


def _turn(n: int) -> tuple[Message, ...]:
    """User prompt ``n``, a tool call, its result, and the answer."""
    call = ToolCall(f"toolu_{n}", "read_file", {"path": "a.py"}, '{"path": "a.py"}')
    return (
        UserMessage(f"Question {n}."),
        AssistantMessage((call,), "anthropic", "tool_calls"),
        ToolResult(f"toolu_{n}", "read_file", "print('a')"),
        AssistantMessage((TextPart(f"Answer {n}."),), "anthropic", "stop"),
    )


def test_marks_move_forward_as_a_three_turn_conversation_grows() -> None:
    provider = Anthropic(settings_for("anthropic"))
    tools = golden_request("anthropic", {}).tools
    history = (*_turn(1), *_turn(2), UserMessage("Question 3."))
    # Each request of the loop ends on a user-side message: a prompt or a tool result.
    ends = [i + 1 for i, m in enumerate(history) if not isinstance(m, AssistantMessage)]
    seen = []
    for end in ends:
        request = ChatRequest(history[:end], system="sys", tools=tools)
        seen.append(_marks(provider.build_body(request)))
    assert seen == [
        ["tools[1]", "system", "messages[0]"],
        ["tools[1]", "system", "messages[0]", "messages[2]"],
        ["tools[1]", "system", "messages[2]", "messages[4]"],
        ["tools[1]", "system", "messages[4]", "messages[6]"],
        ["tools[1]", "system", "messages[6]", "messages[8]"],
    ]


def test_cache_off_sends_no_marks_and_the_plain_system_prompt() -> None:
    request = ChatRequest((UserMessage("hi"),), system="sys", tools=golden_request("x", {}).tools)
    body = Anthropic(settings_for("anthropic", prompt_cache=False)).build_body(request)
    assert _marks(body) == [] and body["system"] == "sys"
    cached = Anthropic(settings_for("anthropic")).build_body(request)
    assert _unmarked(copy.deepcopy(cached))["messages"] == body["messages"]
