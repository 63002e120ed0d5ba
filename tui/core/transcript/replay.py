"""Reading transcripts: load (replaying partials), list, resolve an id, build a request history.

The file format is described in ``tui.core.transcript``; reading skips (and counts) torn or
corrupt lines, so a crash mid-write never makes a conversation unreadable.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from providers.conversation import (
    AssistantMessage,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from tui.core.transcript.codec import (
    FORMAT_VERSION,
    AmbiguousTranscript,
    Entry,
    Note,
    Transcript,
    TranscriptError,
    TranscriptNotFound,
    dumps,
    is_entry_status,
    message_from_dict,
)
from tui.core.transcript.tree import LEGACY_ID, Tree

ATTACHMENTS = "attachments"
"""The folder beside the transcripts where attached images are kept, named by sha256."""
MAX_KEPT_IMAGE = 20 * 1024 * 1024  # a kept copy larger than any attachment was not ours

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
    with status ``incomplete``, where their stream began. ``entries`` and
    ``notes`` are the current branch's; ``tree`` holds every branch.

    Raises:
        FileNotFoundError: no such file.
    """
    path = Path(path)
    return transcript_of(path, _replay(path))


def transcript_of(path: Path, state: _Replay) -> Transcript:
    """The ``Transcript`` of a replayed file (``load`` without reading it again)."""
    return Transcript(
        id=str(state.meta.get("id") or path.stem),
        path=path,
        meta=state.meta,
        entries=state.entries,
        skipped_lines=state.skipped,
        notes=state.tree.notes_on(state.entries),
        tree=state.tree,
    )


def list_transcripts(directory: Path) -> list[TranscriptInfo]:
    """List transcripts newest first (by created time, then id).

    Cheap: reads the meta line and counts lines that start like a message
    record, without parsing them. Files without a readable meta line (a new
    conversation that never got a message) are left out.
    """
    return _listed(directory, counted=True)


def _listed(directory: Path, counted: bool) -> list[TranscriptInfo]:
    """``list_transcripts``; without ``counted``, only each file's meta line is read (its
    ``message_count`` is then 0): all ``resolve`` needs, however long the transcripts are."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    infos = [info for p in directory.glob("*.jsonl") if (info := _info(p, counted)) is not None]
    return sorted(infos, key=lambda i: (i.created, i.id), reverse=True)


def resolve(directory: Path, ref: str) -> Path:
    """Find a transcript by ``latest``, its id, a unique id prefix, or a .jsonl path.

    Raises:
        TranscriptNotFound: nothing matches; the message lists a few recent ids.
        AmbiguousTranscript: the prefix matches several (a TranscriptNotFound).
    """
    if ref.endswith(".jsonl") and Path(ref).is_file():
        return Path(ref)
    infos = _listed(directory, counted=False)  # ids and paths only: no file read past its meta
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


def on_branch(t: Transcript, head: str | None) -> Transcript:
    """``t`` as if the branch ending at ``head`` were current (None: before the first message)."""
    entries = t.tree.path(head) if head is not None else []
    return replace(t, entries=entries, notes=t.tree.notes_on(entries))


def history_for_request(t: Transcript) -> tuple[Message, ...]:
    """The messages to send when resuming ``t``.

    Complete messages as stored; incomplete or cancelled assistant messages
    reduced to their text (their reasoning lacks a signature and their calls
    never ran); failed ones left out. Every API rejects a tool call without
    its result and a result without its call, so those are dropped, and so is
    an assistant turn left with neither text nor calls.
    """
    return request_history(t.entries)


def request_history(entries: Sequence[Entry]) -> tuple[Message, ...]:
    """``history_for_request`` for a branch's entries (see there)."""
    candidates = [m for e in entries if (m := _request_form(e)) is not None]
    return _drop_unpaired_calls(candidates)


def _request_form(entry: Entry) -> Message | None:
    msg = entry.message
    if isinstance(msg, UserMessage) and any(not i.data for i in msg.images):
        return _without_lost_images(msg)
    if not isinstance(msg, AssistantMessage) or entry.status == "complete":
        return msg
    if entry.status == "failed":
        return None
    texts = tuple(p for p in msg.parts if isinstance(p, TextPart))
    if not "".join(p.text for p in texts).strip():
        return None
    return replace(msg, parts=texts)


def _without_lost_images(msg: UserMessage) -> UserMessage:
    """The prompt without images whose kept copy is gone, saying so in its text."""
    lost = [i.path or i.sha256[:12] for i in msg.images if not i.data]
    notes = "".join(f"\n[attached image {name} is no longer available]" for name in lost)
    return UserMessage(msg.text + notes, tuple(i for i in msg.images if i.data))


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
    """Folds records into a tree of entries; shared by ``load`` and ``reopen``."""

    meta: dict[str, Any] = field(default_factory=dict)
    tree: Tree = field(default_factory=Tree)
    skipped: int = 0
    turn: int = 0
    finalized: set[str] = field(default_factory=set)
    open_partials: dict[str, str] = field(default_factory=dict)  # stream_id -> node id
    store: Path | None = None  # where attached images are kept

    def _with_images(self, msg: Message) -> Message:
        """A user message with its images' bytes read back from the kept copies."""
        if not isinstance(msg, UserMessage) or not msg.images or self.store is None:
            return msg
        return replace(msg, images=tuple(_kept(self.store, i) for i in msg.images))

    def feed(self, rec: dict[str, Any]) -> None:
        """Apply one record; raises ValueError/KeyError/TypeError before any change."""
        match rec.get("type"):
            case "meta" if not self.meta:
                self.meta = {k: v for k, v in rec.items() if k not in ("v", "type", "ts")}
            case "message":
                self._message(rec)
            case "partial":
                self._partial(rec)
            case "head":
                self._head(rec)
            case "event":
                kind, text, ts = (str(rec.get(k, "")) for k in ("kind", "text", "ts"))
                self.tree.notes.append(Note(kind, text, ts, 0, self.tree.head))
        # Unknown types are skipped silently: a newer chattui may add some.
        if isinstance(rec.get("turn"), int):
            self.turn = max(self.turn, rec["turn"])

    def _message(self, rec: dict[str, Any]) -> None:
        msg = self._with_images(message_from_dict(rec["message"]))
        status = rec.get("status", "complete")
        error = rec.get("error")
        entry = Entry(
            msg,
            status if is_entry_status(status) else "incomplete",
            None if error is None else str(error),
        )
        stream_id = rec.get("stream_id")
        if stream_id is None:
            self._add(rec, entry)
        elif str(stream_id) not in self.finalized:
            self.finalized.add(str(stream_id))
            node = self.open_partials.pop(str(stream_id), None)
            if node is None:
                self._add(rec, entry)
            else:
                self.tree.replace(node, entry)

    def _partial(self, rec: dict[str, Any]) -> None:
        msg = message_from_dict(rec["message"])
        if not isinstance(msg, AssistantMessage):
            raise ValueError("a partial must be an assistant message")
        stream_id = str(rec["stream_id"])
        if stream_id in self.finalized:
            return
        node = self.open_partials.get(stream_id)
        if node is None:
            self.open_partials[stream_id] = self._add(rec, Entry(msg, "incomplete"))
        else:
            self.tree.replace(node, Entry(msg, "incomplete"))

    def _add(self, rec: dict[str, Any], entry: Entry) -> str:
        """Place a new message: its stored id and parent, or (older files) after the head."""
        node = rec.get("id")
        if node is None:
            node = LEGACY_ID.format(len(self.tree.nodes))
        parent = rec["parent"] if "parent" in rec else self.tree.head
        if not isinstance(node, str) or node in self.tree.nodes:
            raise ValueError("a message id must be a new string")
        if parent is not None and not isinstance(parent, str):
            raise ValueError("a parent id must be a string")
        entry.id, entry.parent = node, parent
        self.tree.add(entry)
        return node

    def _head(self, rec: dict[str, Any]) -> None:
        node = rec.get("id")
        if node is None or node in self.tree.nodes:  # an unknown id is left alone
            self.tree.head = node

    @property
    def entries(self) -> list[Entry]:
        """The current branch."""
        return self.tree.path()


def _replay(path: Path) -> _Replay:
    state = _Replay(store=path.parent / ATTACHMENTS)
    for line in _lines(path):
        if line is None:  # longer than MAX_RECORD_BYTES
            state.skipped += 1
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("record is not an object")
            state.feed(rec)
        except (ValueError, KeyError, TypeError):
            state.skipped += 1
    return state


MAX_RECORD_BYTES = 64 * 1024 * 1024
"""The longest line read as a record; a longer one is skipped (and counted), never held."""
_READ = 1024 * 1024


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading, if it is a regular file (never block on a FIFO or device).

    Raises:
        TranscriptError: it is something else (a FIFO named ``*.jsonl`` would hang a reader).
        OSError: it cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise TranscriptError(f"{path}: not a regular file")
    return os.fdopen(fd, "rb")


def _lines(path: Path) -> Iterator[bytes | None]:
    """The file's non-blank lines, read a piece at a time; None for a line too long to read.

    Splits on b"\n" only: str.splitlines() would also break inside a record at U+2028,
    U+0085 or \x1c, which json.dumps leaves unescaped.
    """
    with open_regular(path) as f:
        partial = bytearray()
        too_long = False
        while chunk := f.read(_READ):
            lines = chunk.split(b"\n")
            for line in lines[:-1]:
                if too_long or len(partial) + len(line) > MAX_RECORD_BYTES:
                    yield None
                elif (whole := bytes(partial + line) if partial else line).strip():
                    yield whole
                partial.clear()
                too_long = False
            if not too_long:
                partial += lines[-1]
                if len(partial) > MAX_RECORD_BYTES:
                    too_long = True
                    partial.clear()
        if too_long:
            yield None
        elif partial.strip():
            yield bytes(partial)


def _lines_raw(f: BinaryIO) -> Iterator[bytes]:
    """The starts of ``f``'s remaining lines (at most ``_READ`` bytes each): enough to count."""
    while line := f.readline(_READ):
        yield line
        while not line.endswith(b"\n") and (line := f.readline(_READ)):
            pass  # the rest of a long line


def _kept(store: Path, image: ImagePart) -> ImagePart:
    """``image`` with its kept copy's bytes, when the copy is there and still matches."""
    try:
        with open_regular(store / image.sha256) as f:
            data = f.read(MAX_KEPT_IMAGE + 1)
    except (OSError, TranscriptError):
        return image
    if len(data) > MAX_KEPT_IMAGE or hashlib.sha256(data).hexdigest() != image.sha256:
        return image
    return replace(image, data=data)


def _info(path: Path, counted: bool = True) -> TranscriptInfo | None:
    try:
        with open_regular(path) as f:
            first = f.readline(MAX_RECORD_BYTES)
            lines = _lines_raw(f) if counted else iter(())
            count = sum(1 for line in lines if line.startswith(_MESSAGE_PREFIX))
        meta = json.loads(first)
    except (OSError, ValueError, TranscriptError):
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
