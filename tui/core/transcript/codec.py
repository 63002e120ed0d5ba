"""Transcript data and its storage encoding (JSON lines); exports live in ``export``.

Messages become plain JSON-ready dicts and back, losslessly: a resumed
conversation is sent back to the API, so reasoning echo data (signatures,
encrypted items), tool call ids, the raw argument text and its parse error
must all survive the trip. ``message_from_dict(message_to_dict(m)) == m``
for every message whose ``echo`` and ``arguments`` hold JSON values and that has
no images (an image's bytes are kept in a file of their own, not in the line).

Shapes (``role`` tells the message kind, ``type`` the part kind)::

    {"role": "user", "text": ..., "images": [{"path", "media_type", "size", "sha256"}]}
    {"role": "assistant", "parts": [...], "provider": ..., "finish_reason": ..., "usage": ...}
    {"role": "tool", "call_id": ..., "name": ..., "content": ..., "is_error": ...}
    part: {"type": "text", "text"} | {"type": "reasoning", "text", "echo"}
          | {"type": "tool_call", "id", "name", "arguments", "raw_arguments", "error", "echo"}

Stored text is kept exactly as given. No Textual or httpx import: pipe mode
and ``chattui export`` use this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard, get_args

from providers.conversation import (
    AssistantMessage,
    AssistantPart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from providers.events import Usage
from tui.core.transcript.tree import Tree

_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "cost_usd",
)

FORMAT_VERSION = 1
EntryStatus = Literal["complete", "incomplete", "cancelled", "failed"]
"""How a stored message ended."""
STATUSES: tuple[EntryStatus, ...] = get_args(EntryStatus)


def is_entry_status(value: object) -> TypeGuard[EntryStatus]:
    """Whether ``value`` is one of ``STATUSES``."""
    return value in STATUSES


class TranscriptError(Exception):
    """A transcript could not be created, found or resumed."""


class TranscriptNotFound(TranscriptError, LookupError):
    """No transcript matches the reference; the message lists recent ids."""


class AmbiguousTranscript(TranscriptNotFound):
    """An id prefix matches more than one transcript."""


@dataclass
class Entry:
    """One loaded message and how it ended.

    Attributes:
        message: the message as stored.
        status: complete | incomplete | cancelled | failed.
        error: why it failed, when the session recorded a reason.
        id: the message's id in its transcript ("" when not stored).
        parent: the id of the message it follows (None: the first message).
    """

    message: Message
    status: EntryStatus = "complete"
    error: str | None = None
    id: str = field(default="", compare=False)  # where it sits, not what it says
    parent: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Note:
    """An ``event`` record: ``position`` is how many entries of the path came before it.

    ``after`` is the id of the message it follows (None: before the first).
    """

    kind: str
    text: str
    ts: str
    position: int
    after: str | None = None


@dataclass
class Transcript:
    """A loaded conversation.

    Attributes:
        id: the conversation id.
        path: the JSONL file.
        meta: the meta record's fields (without v/type/ts); {} if it was unreadable.
        entries: the current branch's messages in order, each with its status.
        skipped_lines: torn or corrupt lines that were left out.
        notes: event records on the current branch, positioned between entries.
        tree: every message of every branch (``tree.head`` ends ``entries``).
    """

    id: str
    path: Path
    meta: dict[str, Any]
    entries: list[Entry]
    skipped_lines: int = 0
    notes: list[Note] = field(default_factory=list)
    tree: Tree = field(default_factory=Tree)

    @property
    def messages(self) -> tuple[Message, ...]:
        """The messages in order, whatever their status."""
        return tuple(e.message for e in self.entries)

    @property
    def title(self) -> str:
        """The stored title, or a fallback naming the id."""
        return str(self.meta.get("title") or f"Conversation {self.id}")


# json.dumps(ensure_ascii=False) leaves DEL, C1 controls and lone surrogates raw.
# Raw C1 bytes can drive a terminal that `cat`s the file, and a lone surrogate
# cannot be encoded as UTF-8 at all, so both are written as \uXXXX escapes:
# still valid JSON, still the exact same string once loaded.
_ESCAPE_RE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """Serialize to JSON text that is valid UTF-8 and terminal-safe.

    Args:
        obj: a JSON-ready value.
        indent: pretty-print indent; None gives one compact line (no raw newlines).

    Returns:
        The JSON text, with readable non-ASCII kept as is.
    """
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(obj, ensure_ascii=False, indent=indent, separators=separators)
    return _ESCAPE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def message_to_dict(msg: Message) -> dict[str, Any]:
    """Turn a message into a JSON-ready dict holding all of its fields.

    Args:
        msg: a user message, assistant message or tool result.

    Returns:
        A dict of plain JSON values (see the module docstring for the shapes).

    Raises:
        TypeError: for anything that is not a message.
    """
    match msg:
        case UserMessage(text=text, images=images):
            if not images:
                return {"role": "user", "text": text}
            return {"role": "user", "text": text, "images": [_image_to_dict(i) for i in images]}
        case AssistantMessage():
            return {
                "role": "assistant",
                "parts": [_part_to_dict(p) for p in msg.parts],
                "provider": msg.provider,
                "finish_reason": msg.finish_reason,
                "usage": _usage_to_dict(msg.usage),
            }
        case ToolResult():
            return {
                "role": "tool",
                "call_id": msg.call_id,
                "name": msg.name,
                "content": msg.content,
                "is_error": msg.is_error,
                "refused": msg.refused,
            }
    raise TypeError(f"not a message: {type(msg).__name__}")


LEGACY_REFUSAL = "the user refused this call"
"""How a refusal's result began in transcripts written before ``ToolResult.refused``."""


def message_from_dict(d: Mapping[str, Any]) -> Message:
    """Rebuild a message from ``message_to_dict`` output.

    Args:
        d: the dict, typically fresh from ``json.loads``.

    Returns:
        The equal frozen message (tuples for parts, dicts for echo and arguments).

    Raises:
        ValueError: unknown role or part type, or a field of the wrong type.
        KeyError: a required field is missing.
    """
    match d.get("role"):
        case "user":
            images = tuple(_image_from_dict(i) for i in _list(d.get("images", [])))
            return UserMessage(text=_str(d["text"]), images=images)
        case "assistant":
            return AssistantMessage(
                parts=tuple(_part_from_dict(p) for p in _list(d.get("parts", []))),
                provider=_str(d.get("provider", "")),
                finish_reason=d.get("finish_reason"),
                usage=_usage_from_dict(d.get("usage")),
            )
        case "tool":
            return ToolResult(
                call_id=_str(d["call_id"]),
                name=_str(d["name"]),
                content=_str(d["content"]),
                is_error=bool(d.get("is_error", False)),
                refused=_refused(d),
            )
    raise ValueError(f"unknown message role: {d.get('role')!r}")


def _image_to_dict(image: ImagePart) -> dict[str, Any]:
    # The bytes are not inline: the writer keeps a copy named by sha256 (see the package doc).
    return {
        "path": image.path,
        "media_type": image.media_type,
        "size": len(image.data),
        "sha256": image.sha256,
    }


def _image_from_dict(d: Any) -> ImagePart:
    """The image's record; its bytes are filled in by the loader from the kept copy."""
    fields = _map(d)
    digest = _str(fields["sha256"])
    if not re.fullmatch("[0-9a-f]{64}", digest):
        raise ValueError("an image's sha256 must be 64 hex digits")
    return ImagePart(_str(fields["media_type"]), b"", _str(fields.get("path", "")), digest)


def _refused(d: Mapping[str, Any]) -> bool:
    if "refused" in d:
        return bool(d["refused"])
    # Written before results had the field: a refusal was told by the text the registry wrote.
    content = d.get("content")
    return (
        bool(d.get("is_error")) and isinstance(content, str) and content.startswith(LEGACY_REFUSAL)
    )


def _part_to_dict(part: AssistantPart) -> dict[str, Any]:
    match part:
        case TextPart(text=text):
            return {"type": "text", "text": text}
        case ReasoningPart(text=text, echo=echo):
            return {"type": "reasoning", "text": text, "echo": dict(echo)}
        case ToolCall():
            return {
                "type": "tool_call",
                "id": part.id,
                "name": part.name,
                "arguments": dict(part.arguments),
                "raw_arguments": part.raw_arguments,
                "error": part.error,
                "echo": dict(part.echo),
            }
    raise TypeError(f"not an assistant part: {type(part).__name__}")


def _part_from_dict(d: Any) -> AssistantPart:
    if not isinstance(d, Mapping):
        raise ValueError("assistant part is not an object")
    match d.get("type"):
        case "text":
            return TextPart(text=_str(d["text"]))
        case "reasoning":
            return ReasoningPart(text=_str(d.get("text", "")), echo=_map(d.get("echo", {})))
        case "tool_call":
            error = d.get("error")
            return ToolCall(
                id=_str(d["id"]),
                name=_str(d["name"]),
                arguments=_map(d.get("arguments", {})),
                raw_arguments=_str(d.get("raw_arguments", "")),
                error=None if error is None else _str(error),
                echo=_map(d.get("echo", {})),
            )
    raise ValueError(f"unknown assistant part type: {d.get('type')!r}")


def _usage_to_dict(usage: Usage | None) -> dict[str, float | None] | None:
    if usage is None:
        return None
    # Fields never reported are left out, so older readers and diffs stay quiet.
    return {
        name: value
        for name in _USAGE_FIELDS
        if (value := getattr(usage, name)) is not None or name in _USAGE_FIELDS[:4]
    }


def _usage_from_dict(d: Any) -> Usage | None:
    if d is None:
        return None
    counts = _map(d)
    return Usage(**{name: _number(counts.get(name)) for name in _USAGE_FIELDS})


def _number(value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _map(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return dict(value)
