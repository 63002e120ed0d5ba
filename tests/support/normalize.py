"""Compare event streams whatever the network's chunking was.

The transport coalesces the fragments ONE read produced (``providers.parser``),
so the same body cut differently yields the same text in differently sized
deltas. ``merged`` puts any event list into one canonical form (adjacent text,
adjacent reasoning and adjacent argument fragments of one call joined), so
streams compare exactly. It is written independently of ``EventBuffer`` so
that tests of the buffer do not check it against itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.events import ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta

DELTAS = (TextDelta, ReasoningDelta, ToolCallDelta)


def merged(events: Iterable[StreamEvent]) -> list[StreamEvent]:
    """``events`` with adjacent deltas of one part concatenated (and empty ones dropped)."""
    out: list[StreamEvent] = []
    for event in events:
        last = out[-1] if out else None
        match event:
            case TextDelta(text="") | ReasoningDelta(text="") | ToolCallDelta(arguments=""):
                continue
            case TextDelta(text=text) if isinstance(last, TextDelta):
                out[-1] = TextDelta(last.text + text)
            case ReasoningDelta(text=text) if isinstance(last, ReasoningDelta):
                out[-1] = ReasoningDelta(last.text + text)
            case ToolCallDelta(index=index, arguments=text) if (
                isinstance(last, ToolCallDelta) and last.index == index
            ):
                out[-1] = ToolCallDelta(index, last.arguments + text)
            case _:
                out.append(event)
    return out


def deltas(events: Iterable[StreamEvent]) -> int:
    """How many fragment events ``events`` holds."""
    return sum(isinstance(event, DELTAS) for event in events)
