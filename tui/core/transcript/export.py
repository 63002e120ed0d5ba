"""Transcript exports: one JSON document, or readable Markdown.

The Markdown export strips C0 (but newline and tab), DEL and C1 controls from
all text, because stored text is kept exactly as given; a ``save_file`` body
becomes a fenced code block in its file's language, with a fence longer than
any backtick run inside it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from providers.conversation import (
    AssistantPart,
    ReasoningPart,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from tui.core.pricing import format_usd, total_cost, usage_summary
from tui.core.transcript.codec import Entry, Note, Transcript, dumps, message_to_dict


def to_json(t: Transcript) -> str:
    """Export as one JSON document: meta, every branch's messages, the current branch, notes.

    ``messages`` holds every message of every branch in file order, each with its
    ``id`` and ``parent``; ``current`` lists the ids of the current branch in
    order (for a conversation that never branched: all of them); notes are those
    of the current branch, ``after_message`` counting its messages.

    Returns:
        Indented JSON; ``messages[i].message`` is ``message_to_dict`` output.
    """
    every = list(t.tree.nodes.values()) or t.entries
    doc = {
        "v": 1,
        "id": t.id,
        "meta": t.meta,
        "messages": [
            {
                "id": e.id,
                "parent": e.parent,
                "status": e.status,
                "error": e.error,
                "message": message_to_dict(e.message),
            }
            for e in every
        ],
        "current": [e.id for e in t.entries],
        "notes": [
            {"kind": n.kind, "text": n.text, "ts": n.ts, "after_message": n.position}
            for n in t.notes
        ],
        "skipped_lines": t.skipped_lines,
    }
    return dumps(doc, indent=2) + "\n"


_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FENCE_LINE_RE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".jsx": "jsx",
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".md": "markdown",
    ".sh": "bash",
    ".html": "html",
    ".css": "css",
    ".rs": "rust",
    ".go": "go",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".java": "java",
    ".rb": "ruby",
    ".sql": "sql",
    ".txt": "text",
}
RESULT_CHARS = 4000
RESULT_LINES = 80
_STATUS_TEXT = {
    "incomplete": "incomplete: the response was interrupted before it finished",
    "cancelled": "cancelled before it finished",
    "failed": "failed",
}


def to_markdown(t: Transcript) -> str:
    """Export as readable Markdown, safe to print to a terminal.

    A title and the meta, then ``## User`` / ``## Assistant`` sections; reasoning
    as a blockquote; tool calls with their arguments and results fenced (a
    ``save_file`` content in the file's language); long results cut with a note;
    unfinished messages and notes marked. Only the current branch is written; a
    message with other versions says which one it is.
    """
    notes: dict[int, list[Note]] = {}
    for note in t.notes:
        notes.setdefault(note.position, []).append(note)
    blocks = [_md_header(t)]
    versions = {fork.node: fork for fork in t.tree.forks()}
    for index, entry in enumerate([*t.entries, None]):
        blocks += [f"> **Note ({n.kind}):** {n.text}" for n in notes.get(index, [])]
        if entry is not None:
            fork = versions.get(entry.id)
            if fork is not None:
                blocks.append(f"> **Branch:** version {fork.index} of {fork.count} from here")
            blocks.append(_md_entry(entry))
    # Fences were sized on cleaned text already; this pass covers everything else.
    return _clean("\n\n".join(b for b in blocks if b).rstrip() + "\n")


def write_markdown(t: Transcript, folders: Iterable[Path]) -> Path | None:
    """Write ``t`` as ``<id>.md`` into the first of ``folders`` that takes it.

    Returns:
        The file written, or None when no folder could be written to.
    """
    text = to_markdown(t)
    for folder in folders:
        target = folder / f"{t.id}.md"
        try:
            target.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return target
    return None


def _md_header(t: Transcript) -> str:
    meta = t.meta
    lines = [f"# {t.title}", "", f"- Conversation: {_code_span(t.id)}"]
    for key, label in (
        ("created", "Created"),
        ("provider", "Provider"),
        ("model", "Model"),
        ("workspace", "Workspace"),
    ):
        if meta.get(key):
            lines.append(f"- {label}: {_code_span(str(meta[key]))}")
    cost = total_cost(t.messages)
    if cost is not None:
        lines.append(f"- Cost: {format_usd(cost)} (the requests whose price was known)")
    if t.skipped_lines:
        lines.append(f"- {t.skipped_lines} unreadable line(s) of the file were skipped")
    return "\n".join(lines)


def _md_entry(entry: Entry) -> str:
    msg = entry.message
    if isinstance(msg, UserMessage):
        return "## User\n\n" + _close_fences(msg.text)
    if isinstance(msg, ToolResult):
        return _md_result(msg)
    status = _STATUS_TEXT.get(entry.status)
    blocks = ["## Assistant" + (f" ({entry.status})" if status else "")]
    for part in msg.parts:
        blocks.append(_md_part(part))
    if status:
        reason = f": {entry.error}" if entry.error else ""
        blocks.append(f"*[{status}{reason}]*")
    if msg.usage is not None:
        cost = msg.usage.cost_usd
        priced = "" if cost is None else f" · {format_usd(cost)}"
        blocks.append(f"*{usage_summary(msg.usage)}{priced}*")
    return "\n\n".join(b for b in blocks if b)


def _md_part(part: AssistantPart) -> str:
    match part:
        case TextPart(text=text):
            return _close_fences(text)
        case ReasoningPart(text=text) if text.strip():
            quoted = "\n".join(f"> {line}" for line in _close_fences(text).split("\n"))
            return "> **Reasoning**\n>\n" + quoted
        case ToolCall():
            return _md_call(part)
    return ""


def _md_call(call: ToolCall) -> str:
    if call.error is not None:
        head = f"**Tool call** {_code_span(call.name)} (invalid arguments: {call.error})"
        return head + "\n\n" + _fence(call.raw_arguments, "text")
    args = dict(call.arguments)
    content, path = args.get("content"), args.get("path")
    if call.name != "save_file" or not isinstance(content, str) or not isinstance(path, str):
        body = _fence(dumps(args, indent=2), "json") if args else ""
        return f"**Tool call** {_code_span(call.name)}\n\n{body}".rstrip()
    del args["content"], args["path"]
    language = _LANGUAGES.get(os.path.splitext(path)[1].lower(), "")
    blocks = [
        f"**Tool call** {_code_span(f'save_file(path={dumps(path)})')}",
        _fence(content, language),
    ]
    if args:
        blocks.append(_fence(dumps(args, indent=2), "json"))
    return "\n\n".join(blocks)


def _md_result(result: ToolResult) -> str:
    head = f"**Tool result** {_code_span(result.name)}" + (" (error)" if result.is_error else "")
    text = result.content[:RESULT_CHARS]
    lines = text.split("\n")
    if len(lines) > RESULT_LINES:
        text = "\n".join(lines[:RESULT_LINES])
    blocks = [head, _fence(text, "text")]
    if len(text) < len(result.content):
        blocks.append(f"*[truncated: {len(result.content) - len(text)} more characters]*")
    return "\n\n".join(blocks)


def _fence(text: str, language: str) -> str:
    """A fenced block longer than any backtick run inside, so nothing closes it early."""
    text = _clean(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{language}\n{body}{fence}"


def _code_span(text: str) -> str:
    text = _clean(text).replace("\n", " ")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _close_fences(text: str) -> str:
    """Close a code fence left open (an interrupted answer), so it cannot swallow the rest."""
    text = _clean(text)
    open_fence = ""
    for line in text.split("\n"):
        m = _FENCE_LINE_RE.fullmatch(line)
        if m is None:
            continue
        marker, rest = m.groups()
        if not open_fence:
            open_fence = marker
        elif marker[0] == open_fence[0] and len(marker) >= len(open_fence) and not rest.strip():
            open_fence = ""
    return f"{text.rstrip()}\n{open_fence}" if open_fence else text


def _clean(text: str) -> str:
    return _CONTROL_RE.sub("", text)
