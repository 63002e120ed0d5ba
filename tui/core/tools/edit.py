"""edit_file: replace an exact piece of a text file, and the diff that shows it.

The model sends ``old_string`` (text copied from the file) and ``new_string``. The edit
applies only when ``old_string`` occurs exactly once, or at least once with ``replace_all``;
otherwise the error says why and where the closest match is, so the model can fix its call.

Line endings: a file whose every newline is ``\\r\\n`` is edited with ``\\n`` newlines (the
model's strings are normalized the same way) and written back with ``\\r\\n``, so a CRLF
file stays CRLF whatever the model sends. Any other file is matched byte for byte.

The diff is a list of ``DiffRow`` (context, removed, added, gap), one hunk per changed block
of lines: the whole lines the match touches are removed and replaced by the same lines with
the replacement made. That is exactly what the live card builds while ``new_string`` streams
(``tui.core.tools.live_edit``). The approval shows it refined (``tui.core.tools.refine``): the
lines a block's two sides share become context, so a one-line change inside a long
``old_string`` shows as one line changed; the card swaps to it when the call is complete.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tui.core.tools.files import open_regular
from tui.core.tools.paths import Resolved, ToolError, Workspace, quoted, visible_path

CONTEXT = 3
"""Unchanged lines shown above and below each change."""
MAX_LISTED = 5
"""Line numbers listed when ``old_string`` matches several times."""
_CHUNK = 64 * 1024


class RowKind(StrEnum):
    """What one row of an edit's diff shows."""

    CONTEXT = " "
    REMOVED = "-"
    ADDED = "+"
    GAP = "~"
    """Unchanged lines left out between two hunks."""


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a diff: its kind, its numbers in the old and new file (1-based), its text."""

    kind: RowKind
    old: int | None
    new: int | None
    text: str


GAP_TEXT = "⋯"


@dataclass(frozen=True, slots=True)
class Source:
    """A file read for editing.

    Attributes:
        text: the content, with ``\\n`` newlines when ``crlf``.
        digest: sha256 of the bytes on disk, to detect a change before writing.
        mode: permission bits.
        crlf: every newline of the file is ``\\r\\n``.
    """

    text: str
    digest: str
    mode: int
    crlf: bool

    def encode(self, text: str) -> bytes:
        """``text`` (``\\n`` newlines) as the bytes to write, in the file's line endings."""
        return (text.replace("\n", "\r\n") if self.crlf else text).encode("utf-8")

    def normalize(self, model_text: str) -> str:
        """A string from the model, in the newlines ``text`` uses."""
        return model_text.replace("\r\n", "\n") if self.crlf else model_text


def read_source(resolved: Resolved, max_bytes: int) -> Source:
    """Read an existing UTF-8 text file for editing.

    Raises:
        ToolError: missing, not a regular file, over ``max_bytes``, binary or not UTF-8.
    """
    if not os.path.lexists(resolved.real):
        raise ToolError(f"{quoted(resolved.rel)} does not exist; use save_file to create it")
    with open_regular(resolved) as f:
        mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
        sha, data = hashlib.sha256(), bytearray()
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            data += chunk
            if len(data) > max_bytes:
                raise ToolError(f"{quoted(resolved.rel)} is over the {max_bytes:,}-byte limit")
    if b"\x00" in data:
        raise ToolError(f"{quoted(resolved.rel)} looks binary (it contains NUL bytes)")
    try:
        text = codecs.decode(data, "utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{quoted(resolved.rel)} is not UTF-8 text") from None
    newlines = text.count("\n")
    crlf = newlines > 0 and text.count("\r\n") == newlines
    if crlf:
        text = text.replace("\r\n", "\n")
    return Source(text, sha.hexdigest(), mode, crlf)


def find_all(text: str, old: str) -> list[int]:
    """Start offsets of the non-overlapping occurrences of ``old``, left to right."""
    found, start = [], text.find(old)
    while start != -1:
        found.append(start)
        start = text.find(old, start + len(old))
    return found


def line_of(text: str, offset: int) -> int:
    """The 1-based line number of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1


def check_match(text: str, old: str, offsets: Sequence[int], replace_all: bool, rel: str) -> None:
    """Refuse an edit whose ``old_string`` is missing, or not unique without ``replace_all``.

    Raises:
        ToolError: with the closest match's line, or the lines of the matches.
    """
    where = quoted(rel)
    if not offsets:
        raise ToolError(f"old_string was not found in {where}; {closest_hint(text, old)}")
    if len(offsets) > 1 and not replace_all:
        lines = ", ".join(str(line_of(text, o)) for o in offsets[:MAX_LISTED])
        more = ", …" if len(offsets) > MAX_LISTED else ""
        raise ToolError(
            f"old_string matches {len(offsets)} times in {where} (lines {lines}{more}); "
            "include more surrounding lines to make it unique, or set replace_all"
        )


def closest_hint(text: str, old: str) -> str:
    """Where the text the model meant probably is, for a "not found" error."""
    lines = text.split("\n")
    wanted = [line.strip() for line in old.strip("\n").split("\n")]
    stripped = [line.strip() for line in lines]
    first = next((w for w in wanted if w), "")
    if not first:
        return "old_string holds only whitespace"
    for index, line in enumerate(stripped):
        if line == wanted[0] and stripped[index : index + len(wanted)] == wanted:
            return (
                f"it matches at line {index + 1} if whitespace is ignored "
                "(indentation or trailing spaces differ); copy the lines exactly"
            )
    close = difflib.get_close_matches(first, stripped, n=1, cutoff=0.6)
    if not close:
        return "nothing similar was found; read the file again before editing it"
    number = stripped.index(close[0]) + 1
    shown = lines[number - 1].strip()
    shown = shown if len(shown) <= 80 else shown[:79] + "…"
    return f"the closest match is line {number}: {shown!r}; read the file again and copy it exactly"


# --- the diff ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """Whole lines touched by one or more matches, and what they become.

    Attributes:
        start, end: offsets of the block in the old text (from a line start to just after
            a newline, or to the end of the text).
        line: 1-based number of the block's first line.
        new: the block's text after the replacements.
    """

    start: int
    end: int
    line: int
    new: str


def line_start(text: str, offset: int) -> int:
    """Offset of the start of the line holding ``offset``."""
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """Offset just after the newline ending the line holding ``offset`` (or the text's end)."""
    stop = text.find("\n", offset)
    return len(text) if stop == -1 else stop + 1


def blocks(text: str, offsets: Sequence[int], old: str, new: str) -> list[Block]:
    """The changed blocks of lines; matches that share a line share a block."""
    groups: list[tuple[int, int, list[int]]] = []  # (start, stop, offsets)
    for offset in offsets:
        start = line_start(text, offset)
        stop = line_end(text, offset + len(old) - 1)
        if groups and start < groups[-1][1]:
            groups[-1] = (groups[-1][0], stop, [*groups[-1][2], offset])
        else:
            groups.append((start, stop, [offset]))
    out: list[Block] = []
    line, counted, index = 1, 0, 0
    while index < len(groups):
        start, stop, found = groups[index]
        index += 1
        changed = _replaced(text, start, stop, found, len(old), new)
        while stop < len(text) and changed and not changed.endswith("\n"):
            # The replacement ate the block's last newline: the next line joins it.
            stop = line_end(text, stop)
            while index < len(groups) and groups[index][0] < stop:
                stop = max(stop, groups[index][1])
                found = [*found, *groups[index][2]]
                index += 1
            changed = _replaced(text, start, stop, found, len(old), new)
        line += text.count("\n", counted, start)
        counted = start
        out.append(Block(start, stop, line, changed))
    return out


def _replaced(text: str, start: int, stop: int, found: Sequence[int], size: int, new: str) -> str:
    pieces, cursor = [], start
    for offset in found:
        pieces += [text[cursor:offset], new]
        cursor = offset + size
    pieces.append(text[cursor:stop])
    return "".join(pieces)


def split_lines(segment: str) -> list[str]:
    """The lines of a run of whole lines (a final line may lack its newline)."""
    if not segment:
        return []
    return (segment[:-1] if segment.endswith("\n") else segment).split("\n")


def _rows(kind: RowKind, lines: Sequence[str], old: int | None, new: int | None) -> list[DiffRow]:
    return [
        DiffRow(
            kind,
            None if old is None else old + i,
            None if new is None else new + i,
            line,
        )
        for i, line in enumerate(lines)
    ]


def context_before(text: str, block: Block, shift: int = 0) -> list[DiffRow]:
    """Up to ``CONTEXT`` unchanged lines above the first block."""
    start = block.start
    for _ in range(CONTEXT):
        if start == 0:
            break
        start = line_start(text, start - 1)
    lines = split_lines(text[start : block.start])
    first = block.line - len(lines)
    return _rows(RowKind.CONTEXT, lines, first, first + shift)


def context_after(text: str, block: Block, shift: int) -> list[DiffRow]:
    """Up to ``CONTEXT`` unchanged lines below the last block (new numbers moved by
    ``shift``, the lines the edit added minus those it removed)."""
    stop = block.end
    for _ in range(CONTEXT):
        if stop >= len(text):
            break
        stop = line_end(text, stop)
    lines = split_lines(text[block.end : stop])
    first = block.line + len(split_lines(text[block.start : block.end]))
    return _rows(RowKind.CONTEXT, lines, first, first + shift)


def removed_rows(text: str, block: Block) -> list[DiffRow]:
    """The old lines of a block."""
    return _rows(RowKind.REMOVED, split_lines(text[block.start : block.end]), block.line, None)


def added_rows(block: Block, shift: int) -> list[DiffRow]:
    """The new lines of a block."""
    return _rows(RowKind.ADDED, split_lines(block.new), None, block.line + shift)


def _between(text: str, previous: Block, block: Block, shift: int) -> list[DiffRow]:
    """Unchanged lines between two blocks: all of them, or both ends around a gap row."""
    lines = split_lines(text[previous.end : block.start])
    first = block.line - len(lines)
    return around_gap(_rows(RowKind.CONTEXT, lines, first, first + shift))


def around_gap(context: Sequence[DiffRow]) -> list[DiffRow]:
    """Unchanged rows between two changes: all of them, or ``CONTEXT`` at each end around a
    gap row."""
    if len(context) <= 2 * CONTEXT:
        return list(context)
    return [*context[:CONTEXT], DiffRow(RowKind.GAP, None, None, GAP_TEXT), *context[-CONTEXT:]]


def diff_rows(text: str, changed: Sequence[Block]) -> list[DiffRow]:
    """The whole diff of an edit: each block's removed and added lines, with context."""
    rows: list[DiffRow] = []
    shift = 0
    for index, block in enumerate(changed):
        if index:
            rows += _between(text, changed[index - 1], block, shift)
        else:
            rows += context_before(text, block)
        removed = removed_rows(text, block)
        added = added_rows(block, shift)
        rows += removed + added
        shift += len(added) - len(removed)
    if changed:
        rows += context_after(text, changed[-1], shift)
    return rows


def unified(rows: Sequence[DiffRow], rel: str) -> str:
    """The rows as a unified diff (``--- a/rel``, ``+++ b/rel``, ``@@`` hunks)."""
    name = visible_path(rel)
    out = [f"--- a/{name}\n", f"+++ b/{name}\n"]
    for hunk in _hunks(rows):
        olds = [r.old for r in hunk if r.old is not None]
        news = [r.new for r in hunk if r.new is not None]
        old_start = olds[0] if olds else 0
        new_start = news[0] if news else max(old_start - 1, 0)
        out.append(f"@@ -{old_start},{len(olds)} +{new_start},{len(news)} @@\n")
        out += [f"{row.kind.value}{row.text}\n" for row in hunk]
    return "".join(out)


def _hunks(rows: Sequence[DiffRow]) -> Iterator[list[DiffRow]]:
    hunk: list[DiffRow] = []
    for row in rows:
        if row.kind is RowKind.GAP:
            yield hunk
            hunk = []
        else:
            hunk.append(row)
    if hunk:
        yield hunk


# --- applying ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EditPlan:
    """An edit checked against the file: what to write and the diff to show.

    Attributes:
        text: the whole new content (``\n`` newlines when the file is CRLF).
        count: replacements made.
        rows: the diff, each changed block whole (what the live card draws).
    """

    text: str
    count: int
    rows: tuple[DiffRow, ...]


def open_for_edit(workspace: Workspace, raw: str, max_bytes: int) -> tuple[Resolved, Source]:
    """Confine ``raw`` as a write target (save_file's rules) and read the file to edit.

    Raises:
        ToolError: outside the workspace, protected, a symlink, or not a readable text file.
    """
    resolved = workspace.resolve_write(raw)
    return resolved, read_source(resolved, max_bytes)


def plan_edit(
    source: Source, old_string: str, new_string: str, replace_all: bool, rel: str
) -> EditPlan:
    """Check an edit against the file's content and work out its result and diff.

    Raises:
        ToolError: empty or unchanged strings, no match, or several without replace_all.
    """
    if not old_string:
        raise ToolError("old_string is empty; use save_file to create or rewrite a whole file")
    old, new = source.normalize(old_string), source.normalize(new_string)
    if old == new:
        raise ToolError("old_string and new_string are the same; nothing would change")
    text = source.text
    offsets = find_all(text, old)
    check_match(text, old, offsets, replace_all, rel)
    changed = blocks(text, offsets, old, new)
    result = text.replace(old, new) if replace_all else text.replace(old, new, 1)
    return EditPlan(result, len(offsets), tuple(diff_rows(text, changed)))
