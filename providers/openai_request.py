"""The request side of OpenAI's two APIs: messages, tools, results and reasoning effort.

Chat Completions (``providers.openai``) builds its ``messages`` and ``tools`` here; the
Responses API (``providers.openai_responses``) shares how a tool call's arguments and a
tool result's text are sent back, and the effort word for a reasoning level.
"""

from __future__ import annotations

import json
from typing import Any

from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    Message,
    Reasoning,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)

ERROR_PREFIX = "Error: "
"""What a failed tool's text starts with: neither OpenAI API has an error flag."""


def tool_result_text(result: ToolResult) -> str:
    """The text sent back for a tool result; failures are marked in the text itself.

    Neither OpenAI API has an ``is_error`` flag (Anthropic's), so the prefix is
    the only way the model learns that the call failed.
    """
    return f"{ERROR_PREFIX}{result.content}" if result.is_error else result.content


def call_arguments(call: ToolCall) -> str:
    """A call's argument text as sent back to the model.

    The model's own text when it was a valid, non-empty object; otherwise
    ``{}``: servers that render chat templates (vLLM, llama.cpp) parse this
    string and would reject the whole request, and the tool result already
    tells the model what was wrong.
    """
    if call.error is None and call.arguments and call.raw_arguments.strip():
        return call.raw_arguments
    return json.dumps(dict(call.arguments), ensure_ascii=False)


def chat_tool(spec: ToolSpec) -> dict[str, Any]:
    """A tool definition in Chat Completions form."""
    function = {
        "name": spec.name,
        "description": spec.description,
        "parameters": dict(spec.parameters),
    }
    return {"type": "function", "function": function}


def chat_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """The ``messages`` array: system first, then the conversation in order."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.extend(_chat_message(message) for message in request.messages)
    return messages


def _chat_message(message: Message) -> dict[str, Any]:
    if isinstance(message, UserMessage):
        if not message.images:
            return {"role": "user", "content": message.text}
        images = [
            {"type": "image_url", "image_url": {"url": image.data_url()}}
            for image in message.images
        ]
        return {"role": "user", "content": [{"type": "text", "text": message.text}, *images]}
    if isinstance(message, ToolResult):
        return {
            "role": "tool",
            "tool_call_id": message.call_id,
            "content": tool_result_text(message),
        }
    return _assistant_message(message)


def _assistant_message(message: AssistantMessage) -> dict[str, Any]:
    calls = message.tool_calls
    # content may be null only when tool_calls carries the turn.
    out: dict[str, Any] = {"role": "assistant", "content": message.text or (None if calls else "")}
    if calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": call_arguments(c)},
            }
            for c in calls
        ]
    return out


def openai_effort(reasoning: Reasoning) -> str:
    """OpenAI's effort word for a reasoning level (``off`` is ``none``; shared with Responses)."""
    return "none" if reasoning == "off" else reasoning
