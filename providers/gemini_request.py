"""The request side of Gemini's ``generateContent``: contents, parts and declarations.

Roles are ``user`` and ``model``. A model turn's thought parts, text and ``functionCall``
parts go back in stream order, each with the ``thoughtSignature`` Gemini produced (Gemini 3
rejects a follow-up whose calls lost theirs); tool results become ``functionResponse``
parts in call order, since Gemini has no call ids and pairs responses with calls by
position.
"""

from __future__ import annotations

from typing import Any

from providers.conversation import (
    AssistantMessage,
    Message,
    ReasoningPart,
    TextPart,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)
from providers.gemini_schema import gemini_schema

KIND = "gemini"
"""The provider kind whose own thoughts and signatures are sent back."""


def declaration(tool: ToolSpec) -> dict[str, Any]:
    """One ``functionDeclaration``; a tool without parameters has none (Gemini
    rejects an object schema with no properties)."""
    out: dict[str, Any] = {"name": tool.name, "description": tool.description}
    schema = gemini_schema(tool.parameters)
    if isinstance(schema, dict) and schema.get("properties"):
        out["parameters"] = schema
    return out


def build_contents(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """``contents``, one per message, consecutive tool results grouped into one.

    The function-response content holds nothing but one ``functionResponse``
    per call of the preceding model turn: Gemini segments turns on it and
    rejects sibling text parts (vellum-ai/vellum-assistant#39495), so the
    next user text gets a content of its own.
    """
    out: list[dict[str, Any]] = []
    order: list[str] = []  # call ids of the last model turn
    results: list[ToolResult] = []
    for message in (*messages, None):
        if isinstance(message, ToolResult):
            results.append(message)
            continue
        if results:
            out.append({"role": "user", "parts": response_parts(results, order)})
            results = []
        if isinstance(message, UserMessage) and (message.text or message.images):
            parts: list[dict[str, Any]] = [{"text": message.text}] if message.text else []
            parts += [
                {"inline_data": {"mime_type": i.media_type, "data": i.base64()}}
                for i in message.images
            ]
            out.append({"role": "user", "parts": parts})
        elif isinstance(message, AssistantMessage):
            order = [call.id for call in message.tool_calls]
            parts = model_parts(message)
            if parts:
                out.append({"role": "model", "parts": parts})
    return out


def response_parts(results: list[ToolResult], order: list[str]) -> list[dict[str, Any]]:
    """``functionResponse`` parts sorted into the order of the calls they answer."""
    position = {call_id: i for i, call_id in enumerate(order)}
    ranked = sorted(results, key=lambda r: position.get(r.call_id, len(order)))
    return [
        {
            "functionResponse": {
                "name": r.name,
                "response": {"error" if r.is_error else "result": r.content},
            }
        }
        for r in ranked
    ]


def model_parts(message: AssistantMessage) -> list[dict[str, Any]]:
    """A model turn's parts in order; thoughts and signatures only if Gemini made them."""
    own = message.provider == KIND
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ReasoningPart):
            if own:
                parts.extend(thought_part(part))
        elif isinstance(part, TextPart):
            if part.text:
                parts.append({"text": part.text})
        elif isinstance(part, ToolCall):
            out: dict[str, Any] = {
                "functionCall": {"name": part.name, "args": dict(part.arguments)}
            }
            if own and part.echo.get("thoughtSignature"):
                out["thoughtSignature"] = part.echo["thoughtSignature"]
            parts.append(out)
    return parts


def thought_part(part: ReasoningPart) -> list[dict[str, Any]]:
    """A thought part, or an empty text part that only carries a signature."""
    signature = part.echo.get("thoughtSignature")
    out: dict[str, Any] = {"text": part.text, "thought": True} if part.text else {"text": ""}
    if signature:
        out["thoughtSignature"] = signature
    return [out] if part.text or signature else []
