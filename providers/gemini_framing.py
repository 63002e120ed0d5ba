"""Gemini body framing: SSE ``data`` events or the elements of a streamed JSON array.

Gemini answers ``?alt=sse`` with SSE (CRLF framing), and without it with one
pretty-printed JSON array streamed element by element. An intermediary may
also append raw, possibly multi-line ``{"error": ...}`` JSON outside the SSE
framing at the end of the body; those lines are kept in ``leftover`` so the
adapter can raise the error instead of dropping it.
"""

from __future__ import annotations

from providers.sse import SSEDecoder

SSE_FIELDS = {"data", "event", "id", "retry"}
_SSE_PREFIXES = (b"data:", b"event:", b"id:", b"retry:", b":")
MAX_LEFTOVER = 65536  # enough for any error object; stops an endless garbage body


class Framing:
    """Splits the body into JSON texts: SSE ``data`` or JSON-array elements.

    In SSE mode, lines that are no SSE field (raw JSON an intermediary
    appended) are kept in ``leftover`` instead of being dropped.
    """

    def __init__(self) -> None:
        self._head = b""
        self._array: JsonArraySplitter | None = None
        self._sse: SSEDecoder | None = None
        self._partial = b""
        self.leftover = ""

    def feed(self, chunk: bytes) -> list[str]:
        """JSON texts completed by ``chunk``."""
        if self._array is None and self._sse is None:
            self._head += chunk
            start = self._head.lstrip()
            if not start:
                return []
            if start.startswith(b"["):
                self._array = JsonArraySplitter()
            else:
                self._sse = SSEDecoder()
            chunk, self._head = self._head, b""
        if self._array is not None:
            return self._array.feed(chunk)
        assert self._sse is not None
        self._collect(chunk)
        return [event.data for event in self._sse.feed(chunk)]

    def flush(self) -> list[str]:
        """End of body: whatever is still pending."""
        if self._array is not None:
            texts = self._array.flush()
            self._keep(self._array.trailing)
            return texts
        self._collect(b"\n")  # completes a last unterminated line
        return [event.data for event in self._sse.flush()] if self._sse else []

    def _collect(self, chunk: bytes) -> None:
        lines = (self._partial + chunk).splitlines(keepends=True)
        self._partial = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        if self._partial.startswith(_SSE_PREFIXES):
            self._partial = self._partial[:8]  # enough to classify; a data line can be long
        for raw in lines:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            name = line.partition(":")[0]
            if line.strip() and not line.startswith(":") and name not in SSE_FIELDS:
                self._keep(line + "\n")

    def _keep(self, text: str) -> None:
        if len(self.leftover) < MAX_LEFTOVER:
            self.leftover += text


_WHITESPACE = frozenset(b" \t\r\n")


class JsonArraySplitter:
    """Incremental splitter of a streamed JSON array into its element texts.

    Works on bytes: UTF-8 continuation bytes never equal an ASCII bracket,
    quote or backslash, so multi-byte characters split across chunks are safe.
    Text after the closing ``]`` is kept in ``trailing``.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._started = False
        self._ended = False
        self.trailing = ""

    def feed(self, chunk: bytes) -> list[str]:
        """Element texts completed by ``chunk``."""
        out: list[str] = []
        for i, byte in enumerate(chunk):
            if self._ended:
                self.trailing += chunk[i:].decode("utf-8", errors="replace")
                break
            if not self._started:
                self._started = byte == ord("[")
                continue
            if self._in_string:
                self._string_byte(byte)
            elif byte in b"{[":
                self._depth += 1
                self._buf.append(byte)
            elif byte in b"}]" and self._depth > 0:
                self._depth -= 1
                self._buf.append(byte)
                if self._depth == 0:
                    self._emit(out)
            elif self._depth == 0 and byte in b",]":
                self._emit(out)
                self._ended = byte == ord("]")
            elif byte == ord('"'):
                self._in_string = True
                self._buf.append(byte)
            elif self._depth > 0 or byte not in _WHITESPACE:
                self._buf.append(byte)
        return out

    def flush(self) -> list[str]:
        """An unfinished last element, so that parsing it reports the truncation."""
        out: list[str] = []
        self._emit(out)
        return out

    def _string_byte(self, byte: int) -> None:
        self._buf.append(byte)
        if self._escaped:
            self._escaped = False
        elif byte == ord("\\"):
            self._escaped = True
        elif byte == ord('"'):
            self._in_string = False

    def _emit(self, out: list[str]) -> None:
        text = self._buf.decode("utf-8", errors="replace").strip()
        self._buf.clear()
        if text:
            out.append(text)
