"""One model response being received: sanitized, accumulated, bounded and checkpointed.

The session feeds every provider event through a ``ResponseStream``: text and reasoning
are sanitized as they arrive, everything is folded into the answer (``Accumulator``), a
call's argument text is bounded (``argument_limit``), and the answer so far is
checkpointed to the transcript about once a second, so a crash loses at most a second of
it. ``close`` finalizes the answer as complete, failed or cancelled.
"""

from __future__ import annotations

import time
import uuid
from typing import Protocol

from providers.accumulate import Accumulator
from providers.conversation import AssistantMessage, Message, UserMessage
from providers.errors import LimitExceeded
from providers.events import (
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    Usage,
)
from providers.settings import MiB, mib
from tui.core.sanitize import StreamSanitizer
from tui.core.transcript.codec import EntryStatus
from tui.core.turn import CallReady, SessionEvent

CHECKPOINT_INTERVAL = 1.0  # seconds between transcript checkpoints of a streaming answer
CHEAP_CHECKPOINT = 64 * 1024
"""Characters of an answer up to which it is checkpointed every ``CHECKPOINT_INTERVAL``."""


class TranscriptSink(Protocol):
    """What the session needs from a transcript writer."""

    def append_user(self, msg: UserMessage) -> None: ...
    def append(self, msg: Message) -> None: ...
    def checkpoint(self, stream_id: str, partial: AssistantMessage) -> None: ...
    def finish_partial(
        self,
        stream_id: str,
        msg: AssistantMessage,
        status: EntryStatus = "complete",
        error: str | None = None,
    ) -> None: ...
    def note(self, kind: str, text: str) -> None: ...


def argument_limit(max_write_bytes: int) -> int:
    """The most argument text (characters) one tool call may stream.

    Room for the largest file ``save_file`` accepts, twice over for JSON escapes, and 1 MiB
    for the rest; a call that passes it could only be refused once complete, so the
    response is ended as soon as it does, instead of after the whole body has arrived.
    """
    return 2 * max_write_bytes + MiB


class ResponseStream:
    """One response being received: sanitizes, accumulates, bounds and checkpoints it.

    Checkpoints rewrite the whole answer so far, so they are spaced by size as well as
    time: past ``CHEAP_CHECKPOINT`` characters, the next one waits until the answer has
    grown by half. All checkpoints of an answer then cost O(its size), not O(size²).
    """

    def __init__(
        self, provider: str, transcript: TranscriptSink | None, max_arguments: int
    ) -> None:
        self.acc = Accumulator(provider)
        self.transcript = transcript
        self.stream_id = uuid.uuid4().hex
        self._text = StreamSanitizer()
        self._reasoning = StreamSanitizer()
        self._last_checkpoint = time.monotonic()
        self._max_arguments = max_arguments
        self._arguments: dict[int, int] = {}  # characters received per call index
        self._size = 0  # characters received
        self._checkpointed = 0  # ``_size`` at the last checkpoint

    def add(self, event: StreamEvent) -> list[SessionEvent]:
        """Sanitize and fold one event; returns what to pass on.

        Raises:
            LimitExceeded: a call's arguments passed the limit (the response ends here).
        """
        out: list[SessionEvent] = []
        if isinstance(event, TextDelta | ReasoningDelta):
            sanitizer = self._text if isinstance(event, TextDelta) else self._reasoning
            clean = sanitizer.feed(event.text)
            if not clean:
                return out
            if clean is not event.text:  # rebuilt only when something was stripped
                event = type(event)(clean)
            self._size += len(clean)
        elif isinstance(event, ToolCallDelta):
            self._bound(event)
        self.acc.add(event)
        if not isinstance(event, Usage):  # folded; passed on once, when the request is over
            out.append(event)
        if isinstance(event, ToolCallEnd):
            call = self.acc.message().tool_calls[event.index]
            out.append(CallReady(event.index, call))
        self._maybe_checkpoint()
        return out

    def _bound(self, delta: ToolCallDelta) -> None:
        size = self._arguments.get(delta.index, 0) + len(delta.arguments)
        if size > self._max_arguments:
            raise LimitExceeded(
                f"tool call arguments passed {mib(self._max_arguments)} (twice the largest"
                " file save_file accepts); the response was cut off there"
            )
        self._arguments[delta.index] = size
        self._size += len(delta.arguments)

    def _maybe_checkpoint(self) -> None:
        if self.transcript is None:
            return
        if self._size - self._checkpointed < (self._checkpointed - CHEAP_CHECKPOINT) // 2:
            return  # a large answer: wait until it has grown by half
        now = time.monotonic()
        if now - self._last_checkpoint >= CHECKPOINT_INTERVAL:
            self._last_checkpoint, self._checkpointed = now, self._size
            self.transcript.checkpoint(self.stream_id, self.acc.message())

    def close(self, status: EntryStatus, error: str | None) -> AssistantMessage:
        """Flush held-back text and finalize the answer in the transcript."""
        for sanitizer, kind in ((self._text, TextDelta), (self._reasoning, ReasoningDelta)):
            tail = sanitizer.flush()
            if tail:
                self.acc.add(kind(tail))
        message = self.acc.message()
        if self.transcript is not None:
            self.transcript.finish_partial(self.stream_id, message, status, error)
        return message
