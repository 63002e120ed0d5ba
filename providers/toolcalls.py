"""Tool-call identity, shared by every adapter.

APIs number and name their calls differently: Anthropic's block index counts
text and thinking blocks (the first call may be 1 or 4), Mistral sends no
index, Ollama may send index 0 for every call, OpenRouter repeats id and name
in later chunks, Gemini sends no id at all. ``ToolCalls`` maps whatever key an
adapter uses to the 0-based ordinal the rest of chattui sees, synthesizes ids,
takes id and name once (never concatenated), and turns arguments that arrive
as an object into one fragment of canonical JSON text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Hashable, Mapping
from typing import Any

from providers.events import StreamEvent, ToolCallDelta, ToolCallEnd, ToolCallStart


def synthesize_id() -> str:
    """A unique call id for APIs that send none."""
    return f"call_{uuid.uuid4().hex[:24]}"


def canonical_arguments(value: Any) -> str:
    """Arguments delivered as an object, as the JSON text downstream expects.

    Missing or null arguments mean ``{}``.
    """
    if value is None:
        return "{}"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class ToolCalls:
    """Tracks the calls of one assistant turn by the adapter's own keys."""

    def __init__(self) -> None:
        self._ordinal: dict[Hashable, int] = {}
        self._open: dict[int, Hashable] = {}
        self.count = 0

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ordinal

    def index_of(self, key: Hashable) -> int | None:
        """The ordinal of a known key, or None."""
        return self._ordinal.get(key)

    def start(
        self, key: Hashable, call_id: str | None, name: str, echo: Mapping[str, Any] | None = None
    ) -> ToolCallStart:
        """Open a new call under ``key``; ids are synthesized when missing."""
        index = self.count
        self.count += 1
        self._ordinal[key] = index
        self._open[index] = key
        return ToolCallStart(index, call_id or synthesize_id(), name, dict(echo or {}))

    def open_index(self, key: Hashable) -> int | None:
        """The ordinal of an open call, or None (unknown or already ended)."""
        index = self._ordinal.get(key)
        return index if index is not None and index in self._open else None

    def delta(self, key: Hashable, fragment: str) -> ToolCallDelta | None:
        """An argument fragment for an open call (None for empty or unknown)."""
        index = self._ordinal.get(key)
        if index is None or index not in self._open or not fragment:
            return None
        return ToolCallDelta(index, fragment)

    def end(self, key: Hashable) -> ToolCallEnd | None:
        """Close one call (None if it is not open)."""
        index = self._ordinal.get(key)
        if index is None or self._open.pop(index, None) is None:
            return None
        return ToolCallEnd(index)

    def end_all(self) -> list[ToolCallEnd]:
        """Close every open call, in order (at finish or end of stream)."""
        ends = [ToolCallEnd(i) for i in sorted(self._open)]
        self._open.clear()
        return ends

    def whole(
        self,
        call_id: str | None,
        name: str,
        arguments: Any,
        echo: Mapping[str, Any] | None = None,
    ) -> list[StreamEvent]:
        """A call that arrived complete (Gemini, Ollama): start, one fragment, end.

        Each whole call gets a fresh key, so calls sharing an index or name are
        never merged.
        """
        key = ("whole", self.count)
        start = self.start(key, call_id, name, echo)
        text = arguments if isinstance(arguments, str) else canonical_arguments(arguments)
        events: list[StreamEvent] = [start]
        if text:
            events.append(ToolCallDelta(start.index, text))
        self._open.pop(start.index, None)
        events.append(ToolCallEnd(start.index))
        return events

    @property
    def open_keys(self) -> list[Hashable]:
        """Keys of the calls still open, oldest first."""
        return [self._open[i] for i in sorted(self._open)]
