"""Writing transcripts: one append-only JSONL file per conversation (format in the package doc)."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from providers.conversation import (
    AssistantMessage,
    ImagePart,
    Message,
    UserMessage,
)
from tui import __version__
from tui.core import locations
from tui.core.transcript.codec import (
    FORMAT_VERSION,
    STATUSES,
    EntryStatus,
    Transcript,
    TranscriptError,
    dumps,
    message_to_dict,
)
from tui.core.transcript.replay import ATTACHMENTS, _replay, transcript_of
from tui.core.transcript.sync import Syncer, SyncNow

try:
    import fcntl
except ImportError:  # Windows: O_APPEND alone keeps each whole-line write together
    fcntl = None  # type: ignore[assignment]

META_FIELDS = ("id", "created", "provider", "model", "workspace", "chattui_version", "title")
TITLE_CHARS = 80
NOTE_CHARS = 2000
# O_BINARY: on Windows a descriptor otherwise turns each "\n" into "\r\n".
_OPEN_FLAGS = os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_ID_ATTEMPTS = 50


class TranscriptWriter:
    """Appends one conversation's records to its JSONL file as they happen.

    Use ``create`` for a new conversation and ``reopen`` to resume one. Write
    errors (disk full, say) raise ``OSError``: the caller decides whether to
    send a request it could not record. Also a context manager.

    Each record is written by the caller, in order; the ``fsync`` of the records
    that must survive a power cut is the ``syncer``'s (``tui.core.transcript.sync``):
    at once by default, in a background thread for the TUI. A failed background
    sync is raised by the next record that asks for a sync, before it is written.
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
        head: str | None = None,
        syncer: Syncer | None = None,
    ) -> None:
        self.id = conv_id
        self.syncer: Syncer = syncer if syncer is not None else SyncNow()
        """Makes the records durable; a new writer for this session takes the same one."""
        self.path = path
        self._fd: int | None = fd
        self._pending_meta = meta
        self._created_here = meta is not None
        self._wrote = False
        self._turn = turn
        self._finalized = finalized if finalized is not None else set()
        self.head = head
        """The id of the message the next one follows (None: it is the first)."""
        self._stream_nodes: dict[str, str] = {}  # stream_id -> the answer's message id
        self._parents: dict[str, str | None] = {}  # parent of each message written here

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        provider: str,
        model: str,
        workspace: str,
        syncer: Syncer | None = None,
    ) -> TranscriptWriter:
        """Start a new transcript with a fresh id ``YYYYMMDD-HHMMSS-xxxx`` (UTC).

        Args:
            directory: the transcripts directory; created 0o700 if missing.
            provider: provider name as configured.
            model: model name.
            workspace: the workspace path the tools work in.
            syncer: when the records are fsync'ed (None: at once, ``SyncNow``).

        Returns:
            A writer whose file exists (0o600) but is empty until the first record.
        """
        directory = Path(directory)
        locations.ensure_private_dir(directory)
        now = _utcnow()
        syncer = syncer if syncer is not None else SyncNow()
        conv_id, fd = _new_file(directory, f"{now:%Y%m%d-%H%M%S}", syncer)
        meta: dict[str, Any] = dict(id=conv_id, created=_iso(now), provider=provider, model=model)
        meta.update(workspace=workspace, chattui_version=__version__, title="")
        path = directory / f"{conv_id}.jsonl"
        return cls(path, fd, conv_id=conv_id, meta=meta, syncer=syncer)

    @classmethod
    def reopen(cls, path: Path, syncer: Syncer | None = None) -> TranscriptWriter:
        """Append to an existing transcript (resume): turn numbering continues.

        Raises:
            FileNotFoundError: the file does not exist (it is never created here).
        """
        return cls.resume(path, syncer)[0]

    @classmethod
    def resume(
        cls, path: Path, syncer: Syncer | None = None
    ) -> tuple[TranscriptWriter, Transcript]:
        """``load`` and ``reopen`` in one read of the file: what it holds, and a writer
        that appends to it (a long transcript is parsed once, not twice, on resume).
        ``syncer``: as for ``create``.

        Raises:
            FileNotFoundError: the file does not exist (it is never created here).
        """
        path = Path(path)
        state = _replay(path)
        fd = os.open(path, _OPEN_FLAGS)
        conv_id = str(state.meta.get("id") or path.stem)
        writer = cls(
            path,
            fd,
            conv_id=conv_id,
            meta=None,
            turn=state.turn,
            finalized=set(state.finalized),
            head=state.tree.head,
            syncer=syncer,
        )
        return writer, transcript_of(path, state)

    def append_user(self, msg: UserMessage) -> None:
        """Record the user's message and have it synced; call BEFORE sending the request.

        It is written (in the operating system: a killed process loses nothing) when
        this returns; its ``fsync`` is the syncer's, at once or in the background.
        """
        if not isinstance(msg, UserMessage):
            raise TypeError(f"append_user takes a UserMessage, not {type(msg).__name__}")
        self.syncer.check()  # an earlier record failed to sync: say so before this one
        self._turn += 1
        for image in msg.images:
            keep_image(self.path.parent, image, self.syncer)
        if self._pending_meta is not None and not self._pending_meta["title"]:
            self._pending_meta["title"] = _title(msg.text)
        record = self._record("message", status="complete", message=message_to_dict(msg))
        self._write(self._node(record), sync=True)

    def append(self, msg: Message) -> None:
        """Record a complete message (assistant or tool result) and have it synced."""
        if isinstance(msg, UserMessage):
            self.append_user(msg)
            return
        self.syncer.check()  # before the record takes its place in the tree
        record = self._record("message", status="complete", message=message_to_dict(msg))
        self._write(self._node(record), sync=True)

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
        self._write(self._node(record, stream_id), sync=False)

    def finish_partial(
        self,
        stream_id: str,
        msg: AssistantMessage,
        status: EntryStatus = "complete",
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
        self.syncer.check()
        fields: dict[str, Any] = {"stream_id": stream_id, "status": status}
        if error is not None:
            fields["error"] = error
        record = self._record("message", **fields, message=message_to_dict(msg))
        self._write(self._node(record, stream_id), sync=True)
        self._finalized.add(stream_id)

    def note(self, kind: str, text: str) -> None:
        """Record a one-line note (newlines folded, long text cut) for export."""
        line = " ".join(str(text).splitlines()).strip()[:NOTE_CHARS]
        self._write(self._record("event", kind=str(kind), text=line), sync=False)

    def switched(self, provider: str, model: str) -> None:
        """Record that later turns use ``provider`` / ``model``.

        Before the first record, the meta line (not yet written) just takes the
        new names; afterwards an ``event`` of kind ``model`` says it, with the
        names as fields.
        """
        if self._pending_meta is not None:
            self._pending_meta.update(provider=provider, model=model)
            return
        text = f"switched to {provider} · {model}"
        record = self._record("event", kind="model", text=text, provider=provider, model=model)
        self._write(record, sync=False)

    def rewind(self, node: str | None) -> None:
        """Make the next message follow ``node`` (an edit or a regenerate starts a branch).

        Nothing is written: the next message's ``parent`` says it.
        """
        self.head = node

    def select(self, node: str) -> None:
        """Record that the branch ending at ``node`` is the current one (a branch switch)."""
        self.head = node
        self._write(self._record("head", id=node), sync=False)

    def _node(self, record: dict[str, Any], stream_id: str | None = None) -> dict[str, Any]:
        """Give a message record its id and parent; a streamed answer keeps one id."""
        node = self._stream_nodes.get(stream_id) if stream_id is not None else None
        if node is None:
            node = secrets.token_hex(6)
            record.update(id=node, parent=self.head)
            self.head = node
            if stream_id is not None:
                self._stream_nodes[stream_id] = node
        else:
            record.update(id=node, parent=self._parents[node])
        self._parents[node] = record["parent"]
        return record

    def close(self) -> None:
        """Have the file synced and close it; a new transcript that got no record is removed.

        With a background syncer this returns at once (the file is written; its last sync
        runs in the syncer's thread, which the end of the process waits for).
        """
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        unused = self._created_here and not self._wrote
        try:
            if not unused:
                self.syncer.sync(fd, str(self.path))
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
            self.syncer.sync(self._fd, str(self.path))


def keep_image(directory: Path, image: ImagePart, syncer: Syncer | None = None) -> None:
    """Keep a copy of ``image`` as ``attachments/<sha256>`` beside the transcripts (once).

    Written to a temporary name and renamed, so a killed process leaves no half image
    under the final name; 0o600 like the transcripts. Synced before the rename by
    ``SyncNow`` (the default); a background ``syncer`` syncs it after, so a power cut
    just then can leave it torn, and the loader, which checks each image's sha256,
    reports it as no longer available.
    """
    if not image.sha256 or not image.data:
        return
    store = locations.ensure_private_dir(directory / ATTACHMENTS)
    target = store / image.sha256
    if target.exists():
        return
    partial = store / f".{image.sha256}.{secrets.token_hex(4)}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        view = memoryview(image.data)
        while view:
            view = view[os.write(fd, view) :]
        (syncer or SyncNow()).sync(fd, str(target))
    finally:
        os.close(fd)
    os.replace(partial, target)


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


def _new_file(directory: Path, stamp: str, syncer: Syncer) -> tuple[str, int]:
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
        _sync_dir(directory, syncer)
        return conv_id, fd
    raise TranscriptError(f"could not pick an unused transcript id in {directory}")


def _sync_dir(directory: Path, syncer: Syncer) -> None:
    # Makes the new file's directory entry durable. Windows cannot open a
    # directory; there the entry is durable once the file's data is.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        syncer.sync(fd, str(directory), best_effort=True)
    except OSError:
        pass  # the background syncer's fstat or dup: the directory sync is best effort
    finally:
        os.close(fd)


def _title(text: str) -> str:
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    line = "".join(ch for ch in line if ch.isprintable())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")
