"""The provider-neutral conversation: what goes into a request.

A conversation is a sequence of messages: ``UserMessage``, ``AssistantMessage``
(ordered parts: text, reasoning, tool calls) and ``ToolResult``. Each adapter
turns it into its own API's request body. Reasoning echo data is only sent
back to the wire format that produced it (``AssistantMessage.provider``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from providers.events import FinishReason, Usage
from providers.reasoning import REASONING_LEVELS as REASONING_LEVELS
from providers.reasoning import Reasoning as Reasoning


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: name, description and JSON Schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TextPart:
    """Visible answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningPart:
    """Reasoning text plus opaque data to echo (signature, redacted data, item)."""

    text: str = ""
    echo: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call.

    ``arguments`` is the parsed object ({} for empty arguments). When the raw
    text was not one valid JSON object, ``error`` says why and the call must
    never be executed.
    """

    id: str
    name: str
    arguments: Mapping[str, Any]
    raw_arguments: str = ""
    error: str | None = None
    echo: Mapping[str, Any] = field(default_factory=dict)


AssistantPart: TypeAlias = TextPart | ReasoningPart | ToolCall


IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
"""The image formats every wire format here accepts as input."""


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image sent with a prompt: its bytes, type and where it came from.

    Attributes:
        media_type: one of ``IMAGE_TYPES``.
        data: the file's bytes (empty when a resumed transcript's copy is gone).
        path: the workspace-relative path it was attached from (for display).
        sha256: hex digest of ``data``, under which the transcript keeps a copy.
    """

    media_type: str
    data: bytes = field(repr=False)
    path: str = ""
    sha256: str = ""

    def base64(self) -> str:
        """``data`` as base64 text, as every JSON API wants it."""
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """A ``data:`` URL (the OpenAI formats take images this way)."""
        return f"data:{self.media_type};base64,{self.base64()}"


@dataclass(frozen=True, slots=True)
class UserMessage:
    """What the user typed, and the images attached to it."""

    text: str
    images: tuple[ImagePart, ...] = ()
    role: Literal["user"] = field(default="user", repr=False)


@dataclass(frozen=True, slots=True)
class AssistantMessage:
    """A finished (or interrupted) model turn, parts in stream order.

    Args:
        parts: text, reasoning and tool calls in the order they streamed.
        provider: the wire format that produced it; echo data goes only there.
        finish_reason: normalized reason, None when the stream did not finish.
        usage: the last usage report.
    """

    parts: tuple[AssistantPart, ...] = ()
    provider: str = ""
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    role: Literal["assistant"] = field(default="assistant", repr=False)

    @property
    def text(self) -> str:
        """All visible text, concatenated."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def reasoning(self) -> str:
        """All reasoning text, concatenated."""
        return "".join(p.text for p in self.parts if isinstance(p, ReasoningPart))

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The tool calls, in order."""
        return tuple(p for p in self.parts if isinstance(p, ToolCall))


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The outcome of one tool call, sent back to the model.

    ``refused`` marks a call the user declined (it never ran; ``content`` says so
    to the model and ``is_error`` is set). Adapters send only ``content`` and
    ``is_error``; ``refused`` is for the transcript and the screen.
    """

    call_id: str
    name: str
    content: str
    is_error: bool = False
    refused: bool = False
    role: Literal["tool"] = field(default="tool", repr=False)


Message: TypeAlias = UserMessage | AssistantMessage | ToolResult


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Everything an adapter needs to build one request body.

    Attributes:
        messages: the conversation so far, oldest first.
        system: the system prompt, or None.
        tools: the tools the model may call.
        max_tokens: the output token cap, or None for the adapter's default.
        reasoning: the reasoning effort, or None to leave the API's default
            (nothing is sent).
    """

    messages: tuple[Message, ...]
    system: str | None = None
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int | None = None
    reasoning: Reasoning | None = None
