"""The one conversation every adapter's golden request body is built from.

System prompt, user text, an assistant turn with text and two tool calls
(plus a reasoning item to echo, produced by the same wire format), two tool
results, and a follow-up user message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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

SAVE_FILE = ToolSpec(
    name="save_file",
    description="Write a text file inside the workspace.",
    parameters={
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"],
        "additionalProperties": False,
    },
)
READ_FILE = ToolSpec(
    name="read_file",
    description="Read a text file inside the workspace.",
    parameters={
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
        "additionalProperties": False,
    },
)


def golden_request(
    provider: str, echo: dict[str, Any], call_echo: dict[str, Any] | None = None
) -> ChatRequest:
    """The conversation, with reasoning echo data as ``provider`` produced it."""
    assistant = AssistantMessage(
        parts=(
            ReasoningPart("The user wants two files read.", echo),
            TextPart("Let me look at both files."),
            ToolCall(
                "call_a1", "read_file", {"path": "a.py"}, '{"path": "a.py"}', echo=call_echo or {}
            ),
            ToolCall("call_b2", "read_file", {"path": "b.py"}, '{"path": "b.py"}'),
        ),
        provider=provider,
        finish_reason="tool_calls",
    )
    return ChatRequest(
        system="You are a careful coding assistant.",
        messages=(
            UserMessage("Compare a.py and b.py."),
            assistant,
            ToolResult("call_a1", "read_file", "print('a')\n"),
            ToolResult("call_b2", "read_file", "no such file: b.py", is_error=True),
            UserMessage("Thanks. Now summarize."),
        ),
        tools=(SAVE_FILE, READ_FILE),
        max_tokens=1024,
    )


def check_golden(body: dict[str, Any], path: Path, update: bool = False) -> None:
    """Compare ``body`` with the golden JSON file (write it when ``update``)."""
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        raise AssertionError(f"golden file written: {path}; review it and rerun")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text)
