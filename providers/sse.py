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
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its type (``message`` when unnamed), data and id."""

    event: str
    data: str
    id: str | None = None


class SSEDecoder:
    """Incremental decoder: ``feed(bytes)`` returns the events completed so far."""

    def __init__(self) -> None:
        self._partial = bytearray()  # bytes of a line not yet terminated
        self._skip_lf = False  # the last chunk ended in CR; a leading LF belongs to it
        self._first_line = True
        self._event = ""
        self._data: list[str] = []  # non-empty once the pending event has a data line
        self._last_id: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode a chunk of the body; returns the events it completed."""
        if not chunk:
            return []  # an empty read must not forget a CR still waiting for its LF
        if self._skip_lf and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._skip_lf = chunk.endswith(b"\r")
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if not end:
            self._partial += chunk  # inside a long line: never rescan what came before
            return []
        complete = chunk[:end]
        if self._partial:
            complete = bytes(self._partial) + complete
            self._partial = bytearray()
        self._partial += chunk[end:]
        # CR and LF never occur inside a UTF-8 sequence, so the complete lines
        # decode as a whole exactly as they would one by one.
        return self._lines(complete.decode("utf-8", errors="replace"))

    def flush(self) -> list[SSEEvent]:
        """End of body: dispatch whatever is pending (see the module note)."""
        out: list[SSEEvent] = []
        if self._partial:
            out += self._lines(self._partial.decode("utf-8", errors="replace") + "\n")
            self._partial = bytearray()
        event = self._dispatch()
        if event is not None:
            out.append(event)
        return out

    def _lines(self, text: str) -> list[SSEEvent]:
        """Interpret complete lines; ``text`` ends with a line ending."""
        if self._first_line:
            self._first_line = False
            text = text.removeprefix("\ufeff")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        lines.pop()  # the empty string after the last line ending
        out: list[SSEEvent] = []
        data = self._data
        # The shapes every API sends get the shortest path; _field has the rest.
        for line in lines:
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line:
                if data:
                    out.append(SSEEvent(self._event or "message", "\n".join(data), self._last_id))
                    data = self._data = []
                self._event = ""
            elif line.startswith("event: "):
                self._event = line[7:]
            else:
                self._field(line)
        return out

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

    def _dispatch(self) -> SSEEvent | None:
        event, data = self._event, self._data
        self._event, self._data = "", []
        if not data:
            return None
        return SSEEvent(event or "message", "\n".join(data), self._last_id)


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Decode an async stream of body chunks into SSE events."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event


async def aiter_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """Split a byte stream into non-empty text lines (NDJSON, JSON lines)."""
    partial = bytearray()
    async for chunk in chunks:
        if b"\n" not in chunk:
            partial += chunk  # inside a long line: never rescan what came before
            continue
        lines = (bytes(partial) + chunk).split(b"\n")
        partial = bytearray(lines.pop())
        for line in lines:
            text = line.decode("utf-8", errors="replace").strip()
            if text:
                yield text
    tail = partial.decode("utf-8", errors="replace").strip()
    if tail:
        yield tail
