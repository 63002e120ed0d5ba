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

Branches: message and partial records carry ``"id"`` and ``"parent"`` (the id of
the message they follow, null for the first), so an edited prompt or a
regenerated answer is a sibling and every version stays in the file; the
current branch ends at the newest message, or at the last ``head`` record's.
Files written before branches (no ids) still load: each message follows the one
before it (``tree`` explains the ids they get). An older chattui reading a file
with branches sees every message in file order.
- ``head``: ``{"id"}``, the user switched to the branch ending at that message.
- ``event``: ``{"turn", "kind", "text"}``, a one-line note (an error, say) for export.
  Kind ``model`` (a switch of provider or model mid-conversation) also carries
  ``"provider"`` and ``"model"``.

Durability (a crash, a SIGKILL or a second chattui on the same file loses
nothing): each record is one ``os.write`` on an ``O_APPEND`` descriptor under
``flock``, made by the caller before the call returns, so two processes never
interleave within a line and a record is in the operating system the moment it
is written; the user message is written before the request goes out. User
messages, tool results and finalized answers are also fsync'ed (checkpoints
and notes are not), by the writer's syncer (``sync``): in the caller by default
(pipe mode), in one background thread in the TUI, because one fsync can take
from a fraction of a millisecond to seconds (a busy laptop disk, a network
home directory) and a frozen screen is worse than what it buys, survival of a
power cut or an OS crash for the last records. There such a failure can lose
the records not yet synced; a failed fsync is raised by the next record that
asks for one. The file is never rewritten, so no edit can truncate history. The
loader skips a torn or corrupt line and counts it; a writer that finds a torn
last line starts its record on a new line, so resuming never glues onto it.

No Textual or httpx import: pipe mode and ``chattui export`` use this module.
"""

from tui.core.transcript.codec import (
    FORMAT_VERSION,
    STATUSES,
    AmbiguousTranscript,
    Entry,
    EntryStatus,
    Note,
    Transcript,
    TranscriptError,
    TranscriptNotFound,
    dumps,
    message_from_dict,
    message_to_dict,
)
from tui.core.transcript.export import to_json, to_markdown, write_markdown
from tui.core.transcript.replay import (
    TranscriptInfo,
    history_for_request,
    list_transcripts,
    load,
    request_history,
    resolve,
)
from tui.core.transcript.tree import Fork, Tree
from tui.core.transcript.writer import TranscriptWriter

__all__ = [
    "FORMAT_VERSION",
    "STATUSES",
    "EntryStatus",
    "AmbiguousTranscript",
    "Entry",
    "Fork",
    "Note",
    "Transcript",
    "TranscriptError",
    "TranscriptInfo",
    "TranscriptNotFound",
    "TranscriptWriter",
    "Tree",
    "dumps",
    "history_for_request",
    "list_transcripts",
    "load",
    "message_from_dict",
    "message_to_dict",
    "request_history",
    "resolve",
    "to_json",
    "to_markdown",
    "write_markdown",
]
