"""Pipe mode's two printers: human text (stdout, notes on stderr) and JSON lines.

``tui.pipe`` drives one turn and hands each ``SessionEvent`` to one printer's ``show``;
``close`` ends the output. ``--json`` prints one object per event per line, and each model
request ends with a ``finish`` or an ``error`` line (the format is in README, "Pipe mode").
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, TextIO

from providers.events import (
    Finish,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)
from tui.core.sanitize import sanitize, visible, visible_lines
from tui.core.session import (
    ApprovalNeeded,
    CallReady,
    PriceUnknown,
    RequestFailed,
    SessionEvent,
    StepStarted,
    ToolOutput,
    ToolProgress,
    ToolRan,
    TurnEnded,
    TurnStatus,
)


class TextPrinter:
    """Human output: answer text on stdout, everything else summarized on stderr."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self._line_open = False

    def show(self, event: SessionEvent) -> None:
        """Print one event."""
        match event:
            case TextDelta(text=text):
                self.out.write(text)  # flushed by ``LazyFlush`` once the loop waits
                self._line_open = not text.endswith("\n")
            case ToolCallStart(name=name):
                self._note(f"→ {visible(name)} …")
            case CallReady(call=call):
                args = ", ".join(f"{k}={_short(v)}" for k, v in call.arguments.items())
                bad = f" (invalid: {call.error})" if call.error else ""
                self._note(f"→ {visible(call.name)}({sanitize(args)}){bad}")
            case ToolOutput(text=text):
                self._note_raw(visible_lines(text))
            case ToolRan(result=result):
                mark = "✗" if result.is_error else "✓"
                # model-chosen name: one visible line, so it cannot forge a summary line
                self._note(f"{mark} {visible(result.name)}: {_short(result.content, 200)}")
            case Retrying(attempt=n, delay=delay, reason=reason):
                self._note(f"{sanitize(reason)}; retrying in {delay:.1f} s (retry {n})")
            case RequestFailed(error=error, partial=partial):
                kept = " (the partial answer is kept in the transcript)" if partial.text else ""
                self._note(f"error: {sanitize(str(error))}{kept}")
            case TurnEnded(status=TurnStatus.MAX_STEPS, reason=reason):
                self._note(f"stopped: {reason}")
            case TurnEnded(status=TurnStatus.LENGTH):
                self._note("note: the answer was cut off at the output token limit")

    def _note_raw(self, text: str) -> None:
        """A running command's output, as it arrives, on stderr."""
        if self._line_open:
            self.out.write("\n")
            self._line_open = False
        self.out.flush()  # the answer so far goes out before the note on stderr
        self.err.write(text)
        self.err.flush()

    def _note(self, text: str) -> None:
        self._note_raw(text + "\n")

    def close(self, ended: TurnEnded) -> None:
        """End the output with a newline (the notes said already how the turn ended)."""
        if self._line_open:
            self.out.write("\n")


class JsonPrinter:
    """One JSON object per event per line; a request ends with finish or error."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._finish: Finish | None = None
        self._called = False
        self._error_said = False

    def show(self, event: SessionEvent) -> None:
        """Print one event (a finish is held until the request is over)."""
        record = self._record(event)
        if record is not None:
            self._emit(record)

    def _record(self, event: SessionEvent) -> dict[str, Any] | None:
        match event:
            case TextDelta(text=text):
                return {"type": "text", "text": text}
            case ReasoningDelta(text=text):
                return {"type": "reasoning", "text": text}
            case ToolCallStart(index=i, id=call_id, name=name):
                self._called = True
                return {"type": "tool_call_start", "index": i, "id": call_id, "name": name}
            case ToolCallDelta(index=i, arguments=fragment):
                return {"type": "tool_call_delta", "index": i, "arguments": fragment}
            case CallReady(index=i, call=call):
                args = None if call.error else dict(call.arguments)
                return {
                    "type": "tool_call_end",
                    "index": i,
                    "id": call.id,
                    "name": call.name,
                    "arguments": args,
                    "error": call.error,
                }
            case Usage():
                return usage_record(event)
            case PriceUnknown(reason=reason):
                sys.stderr.write(f"chattui: note: {sanitize(reason)}\n")
            case Finish():
                self._finish = event
                return None
            case StepStarted() | ApprovalNeeded() | TurnEnded():
                self._flush_finish()
            case ToolOutput(call_id=call_id, text=text):
                return {"type": "tool_output", "id": call_id, "text": text}
            case ToolRan(call=call, result=result):
                self._flush_finish()
                return {
                    "type": "tool_result",
                    "id": call.id,
                    "name": call.name,
                    "ok": not result.is_error,
                    "content": result.content,
                }
            case ToolProgress(index=i, progress=done, total=total, message=message):
                self._flush_finish()
                record = {"type": "tool_progress", "index": i, "progress": done, "total": total}
                return record | {"message": message}
            case RequestFailed(error=error):
                self._finish, self._error_said = None, True
                return {"type": "error", "message": str(error)}
            case Retrying(attempt=n, delay=delay, reason=reason):
                sys.stderr.write(f"{sanitize(reason)}; retrying in {delay:.1f} s (retry {n})\n")
        return None

    def _flush_finish(self) -> None:
        if self._finish is not None:
            reason = self._finish.reason
            if self._called and reason == "stop":
                reason = "tool_calls"
            self._emit({"type": "finish", "reason": reason})
            self._finish, self._called = None, False

    def _emit(self, record: dict[str, Any]) -> None:
        self.out.write(dumps_safe(record) + "\n")  # flushed by ``LazyFlush``

    def close(self, ended: TurnEnded) -> None:
        """Emit a finish still held at the end, and an ``error`` line for a turn that did
        not end well (exit status 1) unless a failed request gave one already."""
        self._flush_finish()
        if not ended.status.model_finished and not self._error_said:
            reason = ended.reason or _UNFINISHED.get(ended.status, ended.status.value)
            self._emit({"type": "error", "status": ended.status.value, "message": reason})


def usage_record(usage: Usage) -> dict[str, Any]:
    """The ``usage`` line of one request: counts it reported, ``cost_usd`` when priced."""
    record: dict[str, Any] = {
        "type": "usage",
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
    }
    for name in ("cached_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd"):
        value = getattr(usage, name)
        if value is not None:
            record[name] = value
    return record


_UNFINISHED = {TurnStatus.INCOMPLETE: "the answer ended without a finish reason"}

_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff]")


def dumps_safe(record: dict[str, Any]) -> str:
    """JSON with DEL, C1 controls and lone surrogates escaped too (json.dumps leaves them raw;
    a lone surrogate cannot even be written as UTF-8)."""
    text = json.dumps(record, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    # repr() keeps it one line and shows a newline as \n (a path "a\nb" is not "a b").
    return repr(text[:limit] + "…") if len(text) > limit else repr(text)
