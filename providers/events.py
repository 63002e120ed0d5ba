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
    """Token counts of one request, as far as the API reported them.

    APIs report cumulatively, some more than once per request (Anthropic in
    ``message_start`` and ``message_delta``, Gemini on every chunk): each count's
    last reported value wins, never a sum (``providers.accumulate.fold_usage``).

    Attributes:
        input_tokens: the whole prompt, cache reads and writes included.
        output_tokens: the answer, reasoning included.
        reasoning_tokens: the reasoning part of ``output_tokens``.
        cached_tokens: prompt tokens read from the provider's cache (billed cheaper).
        cache_write_tokens: prompt tokens written to the cache (Anthropic bills them dearer).
        cost_usd: the request's price in US dollars; adapters never set it (the
            session does, from its price table), None when the price is unknown.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None
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
