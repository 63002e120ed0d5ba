"""Sans-IO response parsing: bytes in, events out, one read at a time.

Each wire format supplies a ``StreamParser``: ``feed(chunk)`` for every body
chunk, ``end()`` at the end of the body, and ``done`` once the stream ended in
band (``[DONE]``, ``message_stop`` ...), so the transport stops reading at once.
What a chunk produced goes into the parser's ``EventBuffer`` and is taken with
``push``; the transport (``providers.base``) yields it before it awaits the
next read, so nothing is ever held back. ``SSEParser`` is the base of the
formats that speak server-sent events (OpenAI Chat, Responses, Anthropic).

Coalescing: adjacent text, adjacent reasoning and adjacent argument fragments
of one call produced by ONE read are emitted as one event with the text
concatenated. This is lossless (fragments are "to be concatenated",
``providers.events``) and changes nothing on screen: when the network delivers
one wire event per read (the live case) nothing merges; when a read carries a
backlog (a fast server, a stalled consumer) it becomes one event instead of a
hundred. Fragments are appended as strings, so no event object is built per
wire fragment at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from providers.errors import IncompleteResponse
from providers.events import ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta
from providers.sse import Hot, SSEDecoder

_NONE: Final = 0
_TEXT: Final = 1
_REASONING: Final = 2
_ARGUMENTS: Final = 3


class EventBuffer:
    """The events of one read, with adjacent fragments of one part merged.

    ``text``, ``reasoning`` and ``arguments`` append a fragment to the open run
    (a new run starts when the kind or the call index changes); ``add`` appends
    any other event (and closes the run); ``drain`` takes everything so far.
    Empty fragments are dropped: an event never carries empty text.
    """

    __slots__ = ("_events", "_index", "_kind", "_run")

    def __init__(self) -> None:
        self._events: list[StreamEvent] = []
        self._run: list[str] = []
        self._kind = _NONE
        self._index = -1

    def text(self, fragment: str) -> None:
        """A piece of the visible answer."""
        if fragment:
            if self._kind != _TEXT:
                self._switch(_TEXT, -1)
            self._run.append(fragment)

    def reasoning(self, fragment: str) -> None:
        """A piece of reasoning."""
        if fragment:
            if self._kind != _REASONING:
                self._switch(_REASONING, -1)
            self._run.append(fragment)

    def arguments(self, index: int, fragment: str) -> None:
        """A piece of call ``index``'s raw argument text."""
        if fragment:
            if self._kind != _ARGUMENTS or self._index != index:
                self._switch(_ARGUMENTS, index)
            self._run.append(fragment)

    def add(self, event: StreamEvent) -> None:
        """Any event; fragment events join the run like their text would."""
        if isinstance(event, TextDelta):
            self.text(event.text)
        elif isinstance(event, ReasoningDelta):
            self.reasoning(event.text)
        elif isinstance(event, ToolCallDelta):
            self.arguments(event.index, event.arguments)
        else:
            if self._kind:
                self._close()
            self._events.append(event)

    def extend(self, events: Iterable[StreamEvent]) -> None:
        """``add`` each of ``events`` in order."""
        for event in events:
            self.add(event)

    def drain(self) -> list[StreamEvent]:
        """Everything added since the last drain, in order."""
        if self._kind:
            self._close()
        events = self._events
        if not events:
            return []  # never the buffer's own list: the caller may keep what it got
        self._events = []
        return events

    def __bool__(self) -> bool:
        return bool(self._events) or bool(self._kind)

    def _switch(self, kind: int, index: int) -> None:
        if self._kind:
            self._close()
        self._kind = kind
        self._index = index

    def _close(self) -> None:
        run = self._run
        text = run[0] if len(run) == 1 else "".join(run)
        run.clear()
        kind, self._kind = self._kind, _NONE
        if kind == _TEXT:
            self._events.append(TextDelta(text))
        elif kind == _REASONING:
            self._events.append(ReasoningDelta(text))
        else:
            self._events.append(ToolCallDelta(self._index, text))


class StreamParser:
    """The sans-IO parser of one response body (one per request attempt).

    Subclasses implement ``feed`` and ``end`` and put events into ``out``;
    they set ``done`` when the stream has ended in band, after which the
    transport reads no more of the body and calls neither method again.
    """

    def __init__(self) -> None:
        self.out = EventBuffer()
        self.done = False

    def feed(self, chunk: bytes) -> None:
        """Parse one body chunk; raise ``StreamError`` on an error in the stream."""
        raise NotImplementedError

    def limit_events(self, size: int) -> None:
        """Refuse (``LimitExceeded``) a line or event that grows past ``size`` bytes."""
        raise NotImplementedError

    def end(self) -> None:
        """The body ended; raise ``IncompleteResponse`` if it ended too soon."""
        raise NotImplementedError

    def push(self, chunk: bytes | None) -> tuple[list[StreamEvent], Exception | None]:
        """Feed ``chunk`` (``None``: the end of the body) and take what it produced.

        An error raised while parsing is returned beside the events the chunk
        produced before it, so the caller can hand those on first: partial
        output before an in-stream error is never lost.
        """
        try:
            if chunk is None:
                self.end()
            else:
                self.feed(chunk)
        except Exception as exc:  # any parser failure: the events before it still count
            return self.out.drain(), exc
        return self.out.drain(), None


class SSEParser(StreamParser):
    """A parser of a server-sent-events body (``providers.sse``): each event goes to
    ``_sse_event``, which returns True at the format's end event (after setting ``done``).

    Args:
        hot: the format's fast path for its hot event shape (``providers.fastpath``).
    """

    INCOMPLETE = "response incomplete: the stream ended before its end event"
    """The message when the body ends before the end event (each format names its own)."""

    def __init__(self, hot: Hot | None = None) -> None:
        super().__init__()
        self._sse = SSEDecoder(self._sse_event, hot)

    def feed(self, chunk: bytes) -> None:
        """Parse a body chunk; the end event sets ``done``."""
        self._sse.feed(chunk)

    def limit_events(self, size: int) -> None:
        """Refuse an SSE line or event over ``size`` bytes."""
        self._sse.max_event = size

    def end(self) -> None:
        """The body ended: dispatch what is pending; before the end event, ``ended_early``."""
        self._sse.flush()
        if not self.done:
            self.ended_early()

    def ended_early(self) -> None:
        """The body ended before the end event: the response is incomplete."""
        raise IncompleteResponse(self.INCOMPLETE)

    def _sse_event(self, event: str, data: str) -> bool:
        raise NotImplementedError
