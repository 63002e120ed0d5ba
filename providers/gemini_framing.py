"""Gemini body framing: the ``data`` of each SSE event, and the text outside the framing.

The adapter always asks for ``?alt=sse``, and Gemini answers with SSE (CRLF
framing). An intermediary may also append raw, possibly multi-line
``{"error": ...}`` JSON outside the SSE framing at the end of the body; those
lines are kept in ``leftover`` (at most ``MAX_LEFTOVER`` characters) so the
adapter can raise the error instead of dropping it. A body that is not SSE at
all (the JSON array Gemini sends without ``alt=sse``) ends up there too.

Cost: every byte is looked at a constant number of times. Of each line only
its first ``MAX_LEFTOVER`` bytes are kept to classify it, so neither a huge
``data:`` line nor a huge junk line is ever copied again as it grows.
"""

from __future__ import annotations

from providers.sse import SSEDecoder

SSE_FIELDS = {"data", "event", "id", "retry"}
_SSE_PREFIXES = (b"data:", b"event:", b"id:", b"retry:", b":")
MAX_LEFTOVER = 65536  # enough for any error object; stops an endless garbage body


class Framing:
    """Splits an SSE body into its events' ``data``; keeps lines that are no SSE field."""

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._line = bytearray()  # the start of the current line, at most MAX_LEFTOVER bytes
        self.leftover = ""

    def limit_events(self, size: int) -> None:
        """Refuse (``LimitExceeded``) an SSE line or event over ``size`` bytes."""
        self._sse.max_event = size

    def feed(self, chunk: bytes) -> list[str]:
        """The ``data`` of the events completed by ``chunk``."""
        self._collect(chunk)
        return [event.data for event in self._sse.feed(chunk)]

    def flush(self) -> list[str]:
        """End of body: whatever is still pending."""
        self._collect(b"\n")  # completes a last unterminated line
        return [event.data for event in self._sse.flush()]

    def _collect(self, chunk: bytes) -> None:
        for piece in chunk.splitlines(keepends=True):
            room = MAX_LEFTOVER - len(self._line)
            if room > 0:
                self._line += piece[:room]
            if piece.endswith((b"\n", b"\r")):
                self._classify(self._line)
                self._line = bytearray()

    def _classify(self, raw: bytearray) -> None:
        if len(self.leftover) >= MAX_LEFTOVER or raw.startswith(_SSE_PREFIXES):
            return
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n").removeprefix("\ufeff")
        name = line.partition(":")[0]
        if line.strip() and not line.startswith(":") and name not in SSE_FIELDS:
            self.leftover += line + "\n"
