"""Folds a stream of events into the finished assistant message.

Tool-call arguments stay raw text while they stream and are parsed exactly
once, when the call ends. Empty arguments (``""``, whitespace, ``null``) mean
``{}``; anything else must be one JSON object, or the call is marked invalid
with the parse error and must never be executed. ``message()`` may be called
at any time for a checkpoint; calls still open then are marked incomplete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from providers.conversation import (
    AssistantMessage,
    AssistantPart,
    ReasoningPart,
    TextPart,
    ToolCall,
)
from providers.events import (
    Finish,
    FinishReason,
    ReasoningDelta,
    ReasoningSignature,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
)

INCOMPLETE_CALL = "incomplete: the response ended before this call's arguments were complete"


@dataclass
class _Open:
    """A part being streamed: its kind and text pieces (joined once, on demand)."""

    kind: str  # "text" | "reasoning" | "call"
    chunks: list[str] = field(default_factory=list)
    echo: dict[str, Any] = field(default_factory=dict)
    start: ToolCallStart | None = None
    done: ToolCall | None = None


def parse_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Parse a call's complete argument text: ``(arguments, error)``."""
    text = raw.strip()
    if not text or text == "null":
        return {}, None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not valid JSON ({exc.msg} at character {exc.pos})"
    except RecursionError:  # model-controlled text must never crash the session
        return {}, "arguments are not valid JSON (nested too deeply)"
    except ValueError as exc:  # NaN/Infinity, or an integer beyond Python's 4300-digit limit
        return {}, f"arguments are not valid JSON ({str(exc).split(':')[0]})"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, not {type(value).__name__}"
    return value, None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_COUNTS = tuple(f.name for f in fields(Usage) if f.name != "kind")


def fold_usage(before: Usage | None, report: Usage) -> Usage:
    """One request's usage after another report: each count's latest value wins.

    Counts are cumulative, so a repeated report replaces, never adds; a count
    the new report leaves out (Anthropic's ``message_delta`` may carry only
    ``output_tokens``) keeps its earlier value.
    """
    if before is None:
        return report
    merged = {name: getattr(report, name) for name in _COUNTS}
    for name, value in merged.items():
        if value is None:
            merged[name] = getattr(before, name)
    return Usage(**merged)


class Accumulator:
    """Builds one ``AssistantMessage`` from the events of one response.

    Args:
        provider: the wire format producing the events (kept for echo data).
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._parts: list[_Open] = []
        self._calls: dict[int, _Open] = {}
        self.usage: Usage | None = None
        self.finish: Finish | None = None

    def add(self, event: StreamEvent) -> None:
        """Fold one event in."""
        # Cases are tried in order: the per-fragment ones come first.
        match event:
            case TextDelta(text=text):
                self._current("text").chunks.append(text)
            case ToolCallDelta(index=index, arguments=fragment):
                call = self._calls.get(index)
                if call is not None and call.done is None:
                    call.chunks.append(fragment)
            case ReasoningDelta(text=text):
                self._current("reasoning").chunks.append(text)
            case ReasoningSignature(data=data):
                self._signature(dict(data))
            case ToolCallStart():
                part = _Open("call", start=event)
                self._parts.append(part)
                self._calls[event.index] = part
            case ToolCallEnd(index=index):
                call = self._calls.get(index)
                if call is not None and call.done is None:
                    call.done = self._finish_call(call, None)
            case Usage():
                self.usage = fold_usage(self.usage, event)
            case Finish():
                self.finish = event

    @property
    def called_tools(self) -> bool:
        """True when any tool call arrived, whatever the finish reason says."""
        return bool(self._calls)

    def raw_arguments(self, index: int) -> str:
        """The argument text received so far for call ``index``."""
        call = self._calls.get(index)
        return "".join(call.chunks) if call else ""

    def message(self) -> AssistantMessage:
        """The message so far (complete once a ``Finish`` was added)."""
        parts: list[AssistantPart] = []
        for part in self._parts:
            if part.kind == "text":
                parts.append(TextPart("".join(part.chunks)))
            elif part.kind == "reasoning":
                parts.append(ReasoningPart("".join(part.chunks), dict(part.echo)))
            else:
                parts.append(part.done or self._finish_call(part, INCOMPLETE_CALL))
        return AssistantMessage(
            parts=tuple(parts),
            provider=self.provider,
            finish_reason=self._finish_reason(),
            usage=self.usage,
        )

    def _finish_reason(self) -> FinishReason | None:
        if self.finish is None:
            return None
        if self.called_tools and self.finish.reason == "stop":
            return "tool_calls"  # Gemini and Ollama say STOP/stop after calling tools
        return self.finish.reason

    def _current(self, kind: str) -> _Open:
        last = self._parts[-1] if self._parts else None
        if last is None or last.kind != kind or (kind == "reasoning" and last.echo):
            last = _Open(kind)
            self._parts.append(last)
        return last

    def _signature(self, data: dict[str, Any]) -> None:
        last = self._parts[-1] if self._parts else None
        if last is not None and last.kind == "reasoning" and not last.echo:
            last.echo = data
        else:
            self._parts.append(_Open("reasoning", echo=data))

    @staticmethod
    def _finish_call(call: _Open, forced_error: str | None) -> ToolCall:
        assert call.start is not None
        raw = "".join(call.chunks)
        arguments, error = ({}, forced_error) if forced_error else parse_arguments(raw)
        return ToolCall(
            id=call.start.id,
            name=call.start.name,
            arguments=arguments,
            raw_arguments=raw,
            error=error,
            echo=dict(call.start.echo),
        )
