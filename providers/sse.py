"""Server-sent events, decoded from bytes by the WHATWG rules.

Lines end in ``\\n``, ``\\r\\n`` or ``\\r`` and are split as bytes before UTF-8
decoding, so a multi-byte character split across network chunks is never
mangled. ``data:`` lines of one event are joined with ``\\n``; lines starting
with ``:`` are comments (keep-alives such as OpenRouter's
``: OPENROUTER PROCESSING``); unknown fields are ignored; exactly one space
after the colon is removed. https://html.spec.whatwg.org/multipage/server-sent-events.html

One deliberate difference from the spec: an event still pending when the
body ends (no closing blank line) is dispatched rather than dropped, because
some servers omit the last blank line. A truncated event then fails to parse
as JSON and is reported as such instead of vanishing.

The decoder is sans-IO and synchronous: adapters give it a ``dispatch``
callback, called with ``(event name, data)`` for each event; a callback that
returns True stops the decoder (the stream ended in band: nothing after it
is interpreted). Without a callback, ``feed`` returns ``SSEEvent`` objects.
An adapter may also give a ``hot`` function (``providers.fastpath``): at each
event boundary it may consume complete events of its one hot shape from the
decoded text itself, bypassing line splitting and ``dispatch``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from providers.errors import LimitExceeded
from providers.settings import StreamLimits, mib

Dispatch = Callable[[str, str], "bool | None"]
Hot = Callable[[str, int], int]  # (text, position) -> where the events it did not take begin
_BLANKS = re.compile("\n+")
MAX_HELD = 65536  # an incomplete event's lines kept whole between reads, at most
MAX_EVENT = StreamLimits().max_event_bytes  # the default bound on one line or event


def too_big(what: str, size: int) -> LimitExceeded:
    """The error for a line or event of a response past ``size`` bytes."""
    return LimitExceeded(f"response refused: {what} passed {mib(size)} (limit max_event_mb)")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its type (``message`` when unnamed), data and id."""

    event: str
    data: str
    id: str | None = None


class SSEDecoder:
    """Incremental decoder: ``feed(bytes)`` dispatches the events completed so far.

    Args:
        dispatch: called with ``(event, data)`` per event; returning True stops
            the decoder. Without it, ``feed`` and ``flush`` return the events.
        hot: tried at every event boundary with the decoded text and a
            position; consumes the hot events there (see the module note).
    """

    def __init__(self, dispatch: Dispatch | None = None, hot: Hot | None = None) -> None:
        self.max_event = MAX_EVENT  # a longer line or event raises LimitExceeded
        self._pending = 0  # bytes since the last event boundary, about (a read's worth)
        self._partial = bytearray()  # bytes of a line not yet terminated
        self._skip_lf = False  # the last chunk ended in CR; a leading LF belongs to it
        self._first_line = True
        self._event = ""
        self._data: list[str] = []  # non-empty once the pending event has a data line
        self._last_id: str | None = None
        self._collected: list[SSEEvent] = []
        self._dispatch: Dispatch = dispatch or self._collect
        self._hot = hot
        self._held = ""  # complete lines of an event not yet complete (fast path only)
        self.stopped = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode a chunk of the body; returns the events it completed (no callback)."""
        if not chunk or self.stopped:
            return []  # an empty read must not forget a CR still waiting for its LF
        if self._skip_lf and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._skip_lf = chunk.endswith(b"\r")
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if not end:
            self._partial += chunk  # inside a long line: never rescan what came before
            if len(self._partial) > self.max_event:
                raise too_big("a line", self.max_event)
            return []
        if self._partial:
            self._partial += chunk[:end]
            complete: bytes | bytearray = self._partial
            self._partial = bytearray(chunk[end:])
        else:
            complete = chunk[:end]
            self._partial += chunk[end:]
        # CR and LF never occur inside a UTF-8 sequence, so the complete lines
        # decode as a whole exactly as they would one by one.
        self._lines(complete.decode("utf-8", errors="replace"))
        self._bound(complete)
        return self._take()

    def _bound(self, complete: bytes | bytearray) -> None:
        """Count the lines of the event still open after ``complete`` against the limit."""
        if not (self._data or self._event or self._held):
            self._pending = 0
            return
        # Its lines follow the last blank line of this read (or began in an earlier one).
        cut = max(complete.rfind(b"\n\n"), complete.rfind(b"\r\n\r\n"), complete.rfind(b"\r\r"))
        size = len(complete)
        self._pending = size - cut if cut >= 0 else self._pending + size
        if self._pending + len(self._partial) > self.max_event:
            raise too_big("an event", self.max_event)

    def flush(self) -> list[SSEEvent]:
        """End of body: dispatch whatever is pending (see the module note)."""
        if self._held and not self.stopped:
            self._lines("", hold=False)
        if self._partial and not self.stopped:
            self._lines(self._partial.decode("utf-8", errors="replace") + "\n", hold=False)
        self._partial = bytearray()
        if not self.stopped:
            event, data = self._event, self._data
            self._event, self._data = "", []
            if data:
                self.stopped = bool(self._dispatch(event or "message", "\n".join(data)))
        return self._take()

    def _collect(self, event: str, data: str) -> None:
        self._collected.append(SSEEvent(event, data, self._last_id))

    def _take(self) -> list[SSEEvent]:
        out = self._collected
        if not out:
            return []  # never the decoder's own list: the caller may keep what it got
        self._collected = []
        return out

    def _lines(self, text: str, hold: bool = True) -> None:
        """Interpret complete lines; ``text`` ends with a line ending (or is empty)."""
        if self._first_line:
            self._first_line = False
            text = text.removeprefix("\ufeff")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        hot = self._hot
        if hot is None:
            lines = text.split("\n")
            lines.pop()  # the empty string after the last line ending
            self._interpret(lines)
            return
        if self._held:
            text, self._held = self._held + text, ""
        pos, size = 0, len(text)
        while pos < size:
            if not self._data and not self._event:  # an event boundary
                pos = hot(text, pos)
                if text.startswith("\n", pos):  # blank lines between events mean nothing
                    pos = _BLANKS.match(text, pos).end()  # type: ignore[union-attr]
                if pos >= size:
                    return
                end = text.find("\n\n", pos)
                if end < 0 and hold and size - pos <= MAX_HELD:
                    # The event's blank line has not come yet: keep its lines, so that
                    # next time it starts at a boundary and may take the fast path.
                    self._held = text[pos:]
                    return
            else:
                end = text.find("\n\n", pos)
            end = size if end < 0 else end + 2  # the end of one event the hot path did not take
            lines = text[pos:end].split("\n")
            lines.pop()
            pos = end
            if self._interpret(lines):
                return

    def _interpret(self, lines: list[str]) -> bool:
        """Interpret whole lines; True when ``dispatch`` stopped the decoder."""
        data = self._data
        dispatch = self._dispatch
        # The shapes every API sends get the shortest path; _field has the rest.
        for line in lines:
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line:
                if data:
                    event = self._event or "message"
                    self._event = ""
                    self._data = []
                    if dispatch(event, data[0] if len(data) == 1 else "\n".join(data)):
                        self.stopped = True
                        return True
                    data = self._data
                self._event = ""
            elif line.startswith("event: "):
                self._event = line[7:]
            else:
                self._field(line)
        return False

    def _field(self, line: str) -> None:
        if line.startswith(":"):
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\x00" not in value:
            self._last_id = value


class LineSplitter:
    """Incremental splitter of a byte stream into non-empty text lines (NDJSON)."""

    def __init__(self) -> None:
        self._partial = bytearray()
        self.max_line = MAX_EVENT  # a longer line raises LimitExceeded

    def feed(self, chunk: bytes) -> list[str]:
        """The lines ``chunk`` completed, stripped, empty ones left out."""
        if b"\n" not in chunk:
            self._partial += chunk  # inside a long line: never rescan what came before
            if len(self._partial) > self.max_line:
                raise too_big("a line", self.max_line)
            return []
        if self._partial:
            self._partial += chunk
            chunk, self._partial = bytes(self._partial), bytearray()
        lines = chunk.split(b"\n")
        self._partial = bytearray(lines.pop())
        out = []
        for line in lines:
            text = line.decode("utf-8", errors="replace").strip()
            if text:
                out.append(text)
        return out

    def flush(self) -> list[str]:
        """End of body: the last line, if it had no newline."""
        tail = self._partial.decode("utf-8", errors="replace").strip()
        self._partial = bytearray()
        return [tail] if tail else []
