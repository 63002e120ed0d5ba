"""Conversation transcripts: an append-only JSONL log, load/resume, export.

One file per conversation, ``<id>.jsonl`` in the transcripts directory (0o700;
files 0o600). Every line is one JSON object with ``"v": 1``, ``"type"`` and
``"ts"`` (ISO-8601 UTC):

- ``meta``: first line: id, created, provider, model, workspace, chattui_version,
  title (the first user line). Written together with the first record, so the
  title is known; the writer has no parameter that could carry a key or header.
- ``message``: ``{"turn", "status", "message": {...}}`` plus ``"stream_id"`` (and
  ``"error"``) when it finalizes a streamed partial. ``turn`` counts user messages.
- ``partial``: ``{"turn", "stream_id", "status": "incomplete", "message": {...}}``,
  the assistant message streaming now; a later partial with the same stream_id
  supersedes it, a message with that stream_id finalizes it (once).
- ``event``: ``{"turn", "kind", "text"}``, a one-line note (an error, say) for export.

Durability (the recipe in THREATS.md section 5, rows T28 and T30): the user
message is fsync'ed before the request goes out; each record is one
``os.write`` on an ``O_APPEND`` descriptor under ``flock``, so two processes
never interleave within a line; finalized messages are fsync'ed, checkpoints
are not. The file is never rewritten, so no edit can truncate history. The
loader skips a torn or corrupt line and counts it; a writer that finds a torn
last line starts its record on a new line, so resuming never glues onto it.

No Textual or httpx import: pipe mode and ``chattui export`` use this module.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from providers.conversation import (
    AssistantMessage,
    Message,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from tui import locations
from tui.transcript_codec import (  # re-exported: callers import everything from here
    Entry,
    Note,
    Transcript,
    dumps,
    message_from_dict,
    message_to_dict,
)
from tui.transcript_export import to_json, to_markdown

try:
    import fcntl
except ImportError:  # Windows: O_APPEND alone keeps each whole-line write together
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "AmbiguousTranscript",
    "Entry",
    "Note",
    "Transcript",
    "TranscriptError",
    "TranscriptInfo",
    "TranscriptNotFound",
    "TranscriptWriter",
    "history_for_request",
    "list_transcripts",
    "load",
    "message_from_dict",
    "message_to_dict",
    "resolve",
    "to_json",
    "to_markdown",
]

FORMAT_VERSION = 1
STATUSES = ("complete", "incomplete", "cancelled", "failed")
META_FIELDS = ("id", "created", "provider", "model", "workspace", "chattui_version", "title")
TITLE_CHARS = 80
NOTE_CHARS = 2000
# O_BINARY: on Windows a descriptor otherwise turns each "\n" into "\r\n".
_OPEN_FLAGS = os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_ID_ATTEMPTS = 50
# Our own compact serialization always starts a message record with these
# bytes, so listing can count messages without parsing every line.
_MESSAGE_PREFIX = dumps({"v": FORMAT_VERSION, "type": "message"})[:-1].encode()


class TranscriptError(Exception):
    """A transcript could not be created, found or resumed."""


class TranscriptNotFound(TranscriptError, LookupError):
    """No transcript matches the reference; the message lists recent ids."""


class AmbiguousTranscript(TranscriptNotFound):
    """An id prefix matches more than one transcript."""


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


class TranscriptWriter:
    """Appends one conversation's records to its JSONL file as they happen.

    Use ``create`` for a new conversation and ``reopen`` to resume one. Write
    errors (disk full, say) raise ``OSError``: the caller decides whether to
    send a request it could not record. Also a context manager.
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        *,
        conv_id: str,
        meta: dict[str, Any] | None,
        turn: int = 0,
        finalized: set[str] | None = None,
    ) -> None:
        self.id = conv_id
        self.path = path
        self._fd: int | None = fd
        self._pending_meta = meta
        self._created_here = meta is not None
        self._wrote = False
        self._turn = turn
        self._finalized = finalized if finalized is not None else set()

    @classmethod
    def create(
        cls, directory: Path, *, provider: str, model: str, workspace: str
    ) -> TranscriptWriter:
        """Start a new transcript with a fresh id ``YYYYMMDD-HHMMSS-xxxx`` (UTC).

        Args:
            directory: the transcripts directory; created 0o700 if missing.
            provider: provider name as configured.
            model: model name.
            workspace: the workspace path the tools work in.

        Returns:
            A writer whose file exists (0o600) but is empty until the first record.
        """
        directory = Path(directory)
        locations.ensure_private_dir(directory)
        now = _utcnow()
        conv_id, fd = _new_file(directory, f"{now:%Y%m%d-%H%M%S}")
        meta: dict[str, Any] = dict(id=conv_id, created=_iso(now), provider=provider, model=model)
        meta.update(workspace=workspace, chattui_version=_version(), title="")
        return cls(directory / f"{conv_id}.jsonl", fd, conv_id=conv_id, meta=meta)

    @classmethod
    def reopen(cls, path: Path) -> TranscriptWriter:
        """Append to an existing transcript (resume): turn numbering continues.

        Raises:
            FileNotFoundError: the file does not exist (it is never created here).
        """
        path = Path(path)
        state = _replay(path)
        fd = os.open(path, _OPEN_FLAGS)
        conv_id = str(state.meta.get("id") or path.stem)
        return cls(
            path, fd, conv_id=conv_id, meta=None, turn=state.turn, finalized=set(state.finalized)
        )

    def append_user(self, msg: UserMessage) -> None:
        """Record the user's message and fsync it; call BEFORE sending the request."""
        if not isinstance(msg, UserMessage):
            raise TypeError(f"append_user takes a UserMessage, not {type(msg).__name__}")
        self._turn += 1
        if self._pending_meta is not None and not self._pending_meta["title"]:
            self._pending_meta["title"] = _title(msg.text)
        self._write(
            self._record("message", status="complete", message=message_to_dict(msg)), sync=True
        )

    def append(self, msg: Message) -> None:
        """Record a complete message (assistant or tool result) and fsync it."""
        if isinstance(msg, UserMessage):
            self.append_user(msg)
            return
        self._write(
            self._record("message", status="complete", message=message_to_dict(msg)), sync=True
        )

    def checkpoint(self, stream_id: str, partial: AssistantMessage) -> None:
        """Record the streaming message so far; supersedes earlier checkpoints.

        Meant for about one call a second: each call serializes the whole
        partial (cheap at that rate) and is not fsync'ed. Ignored once
        ``stream_id`` has been finalized, so a late checkpoint is harmless.
        """
        if not isinstance(partial, AssistantMessage):
            raise TypeError("checkpoint takes an AssistantMessage")
        if stream_id in self._finalized:
            return
        record = self._record(
            "partial", stream_id=stream_id, status="incomplete", message=message_to_dict(partial)
        )
        self._write(record, sync=False)

    def finish_partial(
        self,
        stream_id: str,
        msg: AssistantMessage,
        status: str = "complete",
        error: str | None = None,
    ) -> None:
        """Finalize a stream with its last message and how it ended; idempotent.

        Args:
            stream_id: the id used for its checkpoints (none are needed).
            msg: the message as it stands now.
            status: complete | incomplete | cancelled | failed.
            error: a reason, for failed (or cancelled) streams.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if stream_id in self._finalized:
            return
        fields: dict[str, Any] = {"stream_id": stream_id, "status": status}
        if error is not None:
            fields["error"] = error
        self._write(self._record("message", **fields, message=message_to_dict(msg)), sync=True)
        self._finalized.add(stream_id)

    def note(self, kind: str, text: str) -> None:
        """Record a one-line note (newlines folded, long text cut) for export."""
        line = " ".join(str(text).splitlines()).strip()[:NOTE_CHARS]
        self._write(self._record("event", kind=str(kind), text=line), sync=False)

    def close(self) -> None:
        """Flush to disk and close; a new transcript that got no record is removed."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        unused = self._created_here and not self._wrote
        try:
            if not unused:
                os.fsync(fd)
        finally:
            os.close(fd)
        if unused:  # after closing: Windows cannot delete an open file
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> TranscriptWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _record(self, record_type: str, **fields: Any) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "type": record_type,
            "ts": _iso(_utcnow()),
            "turn": self._turn,
            **fields,
        }

    def _write(self, record: dict[str, Any], *, sync: bool) -> None:
        if self._fd is None:
            raise ValueError("transcript writer is closed")
        records = [record]
        if self._pending_meta is not None:
            meta = {k: v for k, v in self._pending_meta.items() if v is not None}
            records.insert(0, {"v": FORMAT_VERSION, "type": "meta", "ts": record["ts"], **meta})
        _locked_append(self._fd, "".join(dumps(r) + "\n" for r in records).encode("utf-8"))
        self._pending_meta = None
        self._wrote = True
        if sync:
            os.fsync(self._fd)


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
            status if status in STATUSES else "incomplete",
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


def _locked_append(fd: int, data: bytes) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        if _ends_mid_line(fd):
            data = b"\n" + data  # a killed writer left a torn line: don't extend it
        view = memoryview(data)
        while view:  # one write normally; more only after a short write (disk full)
            view = view[os.write(fd, view) :]
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _ends_mid_line(fd: int) -> bool:
    size = os.fstat(fd).st_size
    if size == 0 or not hasattr(os, "pread"):
        return False
    return os.pread(fd, 1, size - 1) != b"\n"


def _new_file(directory: Path, stamp: str) -> tuple[str, int]:
    for _ in range(_ID_ATTEMPTS):
        conv_id = f"{stamp}-{secrets.token_hex(2)}"
        try:
            fd = os.open(
                directory / f"{conv_id}.jsonl", _OPEN_FLAGS | os.O_CREAT | os.O_EXCL, 0o600
            )
        except FileExistsError:
            continue  # two conversations started in the same second
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # the umask can only narrow the mode; make it exact
        _fsync_dir(directory)
        return conv_id, fd
    raise TranscriptError(f"could not pick an unused transcript id in {directory}")


def _fsync_dir(directory: Path) -> None:
    # Makes the new file's directory entry durable. Windows cannot open a
    # directory; there the entry is durable once the file's data is.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _title(text: str) -> str:
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    line = "".join(ch for ch in line if ch.isprintable())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def _version() -> str | None:
    try:
        return importlib.metadata.version("chattui")
    except importlib.metadata.PackageNotFoundError:
        return None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")
