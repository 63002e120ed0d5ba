"""Reading transcripts: load (replaying partials), list, resolve an id, build a request history.

The file format is described in ``tui.core.transcript``; reading skips (and counts) torn or
corrupt lines, so a crash mid-write never makes a conversation unreadable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from providers.conversation import (
    AssistantMessage,
    Message,
    TextPart,
    ToolCall,
    ToolResult,
)
from tui.core.transcript.codec import (
    FORMAT_VERSION,
    AmbiguousTranscript,
    Entry,
    Note,
    Transcript,
    TranscriptNotFound,
    dumps,
    is_entry_status,
    message_from_dict,
)

# Our own compact serialization always starts a message record with these
# bytes, so listing can count messages without parsing every line.
_MESSAGE_PREFIX = dumps({"v": FORMAT_VERSION, "type": "message"})[:-1].encode()


@dataclass(frozen=True)
class TranscriptInfo:
    """A listing row, read from the meta line plus a count of message lines."""

    id: str
    path: Path
    title: str
    created: str
    message_count: int
    provider: str = ""
    model: str = ""


def load(path: Path) -> Transcript:
    """Read a transcript, skipping (and counting) torn or corrupt lines.

    Partials never finalized (the process died mid-stream) become entries
    with status ``incomplete``, where their stream began.

    Raises:
        FileNotFoundError: no such file.
    """
    path = Path(path)
    state = _replay(path)
    return Transcript(
        id=str(state.meta.get("id") or path.stem),
        path=path,
        meta=state.meta,
        entries=state.entries,
        skipped_lines=state.skipped,
        notes=state.notes,
    )


def list_transcripts(directory: Path) -> list[TranscriptInfo]:
    """List transcripts newest first (by created time, then id).

    Cheap: reads the meta line and counts lines that start like a message
    record, without parsing them. Files without a readable meta line (a new
    conversation that never got a message) are left out.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    infos = [info for p in directory.glob("*.jsonl") if (info := _info(p)) is not None]
    return sorted(infos, key=lambda i: (i.created, i.id), reverse=True)


def resolve(directory: Path, ref: str) -> Path:
    """Find a transcript by ``latest``, its id, a unique id prefix, or a .jsonl path.

    Raises:
        TranscriptNotFound: nothing matches; the message lists a few recent ids.
        AmbiguousTranscript: the prefix matches several (a TranscriptNotFound).
    """
    if ref.endswith(".jsonl") and Path(ref).is_file():
        return Path(ref)
    infos = list_transcripts(directory)
    if ref == "latest" and infos:
        return infos[0].path
    exact = [i for i in infos if i.id == ref]
    if exact:
        return exact[0].path
    matches = [i for i in infos if ref and i.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0].path
    if matches:
        ids = ", ".join(i.id for i in matches[:5])
        raise AmbiguousTranscript(
            f"{ref!r} matches {len(matches)} transcripts ({ids}); give more of the id"
        )
    recent = ", ".join(i.id for i in infos[:5])
    hint = f"; recent: {recent}" if recent else " (there are none yet)"
    raise TranscriptNotFound(f"no transcript {ref!r} in {directory}{hint}")


def history_for_request(t: Transcript) -> tuple[Message, ...]:
    """The messages to send when resuming ``t``.

    Complete messages as stored; incomplete or cancelled assistant messages
    reduced to their text (their reasoning lacks a signature and their calls
    never ran); failed ones left out. Every API rejects a tool call without
    its result and a result without its call, so those are dropped, and so is
    an assistant turn left with neither text nor calls.
    """
    candidates = [m for e in t.entries if (m := _request_form(e)) is not None]
    return _drop_unpaired_calls(candidates)


def _request_form(entry: Entry) -> Message | None:
    msg = entry.message
    if not isinstance(msg, AssistantMessage) or entry.status == "complete":
        return msg
    if entry.status == "failed":
        return None
    texts = tuple(p for p in msg.parts if isinstance(p, TextPart))
    if not "".join(p.text for p in texts).strip():
        return None
    return replace(msg, parts=texts)


def _drop_unpaired_calls(msgs: list[Message]) -> tuple[Message, ...]:
    calls = {c.id for m in msgs if isinstance(m, AssistantMessage) for c in m.tool_calls}
    answered = calls & {m.call_id for m in msgs if isinstance(m, ToolResult)}
    kept: list[Message] = []
    for msg in msgs:
        if isinstance(msg, ToolResult) and msg.call_id not in answered:
            continue
        if isinstance(msg, AssistantMessage):
            parts = tuple(p for p in msg.parts if not isinstance(p, ToolCall) or p.id in answered)
            msg = replace(msg, parts=parts) if parts != msg.parts else msg
            if not msg.text.strip() and not msg.tool_calls:
                continue
        kept.append(msg)
    return tuple(kept)


@dataclass
class _Replay:
    """Folds records into entries; shared by ``load`` and ``reopen``."""

    meta: dict[str, Any] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    skipped: int = 0
    turn: int = 0
    finalized: set[str] = field(default_factory=set)
    open_partials: dict[str, int] = field(default_factory=dict)  # stream_id -> entry index

    def feed(self, rec: dict[str, Any]) -> None:
        """Apply one record; raises ValueError/KeyError/TypeError before any change."""
        match rec.get("type"):
            case "meta" if not self.meta:
                self.meta = {k: v for k, v in rec.items() if k not in ("v", "type", "ts")}
            case "message":
                self._message(rec)
            case "partial":
                self._partial(rec)
            case "event":
                self.notes.append(
                    Note(
                        str(rec.get("kind", "")),
                        str(rec.get("text", "")),
                        str(rec.get("ts", "")),
                        len(self.entries),
                    )
                )
        # Unknown types are skipped silently: a newer chattui may add some.
        if isinstance(rec.get("turn"), int):
            self.turn = max(self.turn, rec["turn"])

    def _message(self, rec: dict[str, Any]) -> None:
        msg = message_from_dict(rec["message"])
        status = rec.get("status", "complete")
        error = rec.get("error")
        entry = Entry(
            msg,
            status if is_entry_status(status) else "incomplete",
            None if error is None else str(error),
        )
        stream_id = rec.get("stream_id")
        if stream_id is None:
            self.entries.append(entry)
        elif str(stream_id) not in self.finalized:
            self.finalized.add(str(stream_id))
            self._place(self.open_partials.pop(str(stream_id), None), entry)

    def _partial(self, rec: dict[str, Any]) -> None:
        msg = message_from_dict(rec["message"])
        if not isinstance(msg, AssistantMessage):
            raise ValueError("a partial must be an assistant message")
        stream_id = str(rec["stream_id"])
        if stream_id in self.finalized:
            return
        index = self.open_partials.get(stream_id)
        if index is None:
            self.open_partials[stream_id] = len(self.entries)
        self._place(index, Entry(msg, "incomplete"))

    def _place(self, index: int | None, entry: Entry) -> None:
        if index is None:
            self.entries.append(entry)
        else:
            self.entries[index] = entry


def _replay(path: Path) -> _Replay:
    state = _Replay()
    for line in _lines(path):
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("record is not an object")
            state.feed(rec)
        except (ValueError, KeyError, TypeError):
            state.skipped += 1
    return state


def _lines(path: Path) -> Iterator[bytes]:
    # Split on b"\n" only: str.splitlines() would also break inside a record
    # at U+2028, U+0085 or \x1c, which json.dumps leaves unescaped.
    with open(path, "rb") as f:
        data = f.read()
    return (line for line in data.split(b"\n") if line.strip())


def _info(path: Path) -> TranscriptInfo | None:
    try:
        with open(path, "rb") as f:
            first = f.readline()
            count = sum(1 for line in f if line.startswith(_MESSAGE_PREFIX))
        meta = json.loads(first)
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("type") != "meta":
        return None
    return TranscriptInfo(
        id=str(meta.get("id") or path.stem),
        path=path,
        title=str(meta.get("title", "")),
        created=str(meta.get("created", "")),
        message_count=count,
        provider=str(meta.get("provider", "")),
        model=str(meta.get("model", "")),
    )
