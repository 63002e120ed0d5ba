"""The boundary between the model layer and everything above it.

Every adapter turns its wire format into one sequence of these small frozen
events; the session, the UI and pipe mode only ever see this union. Handle
them with ``match``::

    match event:
        case TextDelta(text=t): ...
        case ToolCallDelta(index=i, arguments=frag): ...

Tool-call ``index`` is the 0-based ordinal of the call in this assistant turn,
whatever numbering the API used, and every call has an ``id`` (synthesized
when the API sends none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

FinishReason: TypeAlias = Literal[
    "stop", "tool_calls", "length", "content_filter", "refusal", "pause", "other"
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the visible answer."""

    text: str
    kind: Literal["text"] = field(default="text", repr=False)


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning (thinking, thought summary)."""

    text: str
    kind: Literal["reasoning"] = field(default="reasoning", repr=False)


@dataclass(frozen=True, slots=True)
class ReasoningSignature:
    """Opaque data the API needs echoed back (signature, redacted block, item).

    It closes the reasoning part being streamed, or stands alone as an empty
    reasoning part when none is open (Anthropic redacted thinking, a Responses
    reasoning item with no summary, a Gemini signature on an empty text part).
    """

    data: Mapping[str, Any]
    kind: Literal["reasoning_signature"] = field(default="reasoning_signature", repr=False)


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """A tool call begins; arguments follow as raw JSON text fragments."""

    index: int
    id: str
    name: str
    echo: Mapping[str, Any] = field(default_factory=dict)
    kind: Literal["tool_call_start"] = field(default="tool_call_start", repr=False)


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a call's arguments: raw JSON text, to be concatenated."""

    index: int
    arguments: str
    kind: Literal["tool_call_delta"] = field(default="tool_call_delta", repr=False)


@dataclass(frozen=True, slots=True)
class ToolCallEnd:
    """All of a call's argument text has arrived."""

    index: int
    kind: Literal["tool_call_end"] = field(default="tool_call_end", repr=False)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts so far; APIs report cumulatively, so the last one wins."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    kind: Literal["usage"] = field(default="usage", repr=False)


@dataclass(frozen=True, slots=True)
class Finish:
    """The response ended normally; ``raw`` is the API's own word for why."""

    reason: FinishReason
    raw: str | None = None
    kind: Literal["finish"] = field(default="finish", repr=False)


@dataclass(frozen=True, slots=True)
class Retrying:
    """No output yet; the request failed and is retried after ``delay`` seconds."""

    attempt: int
    delay: float
    reason: str
    kind: Literal["retrying"] = field(default="retrying", repr=False)


StreamEvent: TypeAlias = (
    TextDelta
    | ReasoningDelta
    | ReasoningSignature
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | Usage
    | Finish
    | Retrying
)
