"""The diff of an ``edit_file`` call, built while its arguments stream.

``LiveEdit`` is fed the growth events of ``tui.core.partial_json.PartialJSON`` (which string
grew, by what). Once ``path`` and ``old_string`` are complete (another argument starts to
grow, or the call ends), it reads the file once and locates ``old_string``: ``state`` says
found, not found or ambiguous (``count`` matches). From then on it emits operations for a
diff view: the unchanged lines above and the removed lines as ``Run`` + text, then an
``ADDED`` run whose text grows with ``new_string``, one append per fragment. When the call
is complete the rest of the changed line and the unchanged lines below follow.

Cost: the file is read and searched once; after that a fragment costs O(its length),
however long the file. The rows built are exactly ``tui.core.tools.edit.diff_rows`` of the
final call (``rows_from_ops`` rebuilds them, for checking), except when the replacement
removes the newline of the last changed line, which joins the next line to the change. The
approval's diff is these rows refined to the lines that changed (``tui.core.tools.refine``);
a view compares the two when the call is complete and shows the approval's if they differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tui.core.partial_json import Growth
from tui.core.tools.edit import (
    Block,
    DiffRow,
    RowKind,
    Source,
    context_after,
    context_before,
    find_all,
    line_end,
    line_of,
    line_start,
    removed_rows,
    split_lines,
)
from tui.core.tools.paths import Resolved, ToolError

Reader = Callable[[str], tuple[Resolved, Source]]
"""Confines a raw path and reads the file (``tui.core.tools.edit.open_for_edit``)."""


class LiveState(StrEnum):
    """Where the live diff of an edit stands."""

    WAITING = "waiting"
    """``path`` or ``old_string`` is still streaming."""
    FOUND = "found"
    NOT_FOUND = "not found"
    AMBIGUOUS = "ambiguous"
    """``old_string`` matches several times (``count``); the first is shown."""
    UNREADABLE = "unreadable"
    """The path is refused or the file cannot be read (``error`` says why)."""


@dataclass(frozen=True, slots=True)
class Run:
    """Start a run of rows of one kind at the current line; numbers count up from here."""

    kind: RowKind
    old: int | None
    new: int | None


Op = Run | str
"""A diff-view operation: start a run, or append text (may hold partial lines)."""

_KEYS = ("path", "old_string", "new_string")


class LiveEdit:
    """Diff operations for one streaming ``edit_file`` call.

    Args:
        read: confines the path and reads the file (called at most once).
    """

    def __init__(self, read: Reader) -> None:
        self._read = read
        self.state = LiveState.WAITING
        self.count = 0
        self.error = ""
        self.rel = ""
        self.ops: list[Op] = []
        """Operations not yet applied to a view (``take`` empties it)."""
        self._parts: dict[str, list[str]] = {key: [] for key in _KEYS}
        self._done: set[str] = set()
        self._growing: str | None = None
        self._source: Source | None = None
        self._block: Block | None = None
        self._suffix = ""
        self._held = ""  # a "\r" that may start a CRLF split across fragments
        self._added_newlines = 0
        self._added_last = ""
        self._finished = False

    def feed(self, growth: Sequence[Growth]) -> None:
        """Take the growth events of one fragment. O(their length) once located."""
        for path, text in growth:
            key = path[0] if len(path) == 1 and isinstance(path[0], str) else None
            if key != self._growing:
                self._close(self._growing)
                self._growing = key
            if key not in self._parts or key in self._done:
                continue
            if key == "new_string" and self._block is not None:
                self._add(text)
            else:
                self._parts[key].append(text)

    def finish(self) -> None:
        """The call is complete: every argument is whole."""
        if self._finished:
            return
        for key in _KEYS:
            self._close(key)
        self._finished = True
        block, source = self._block, self._source
        if block is None or source is None:
            return
        self._add(self._suffix, final=True)
        shift = self._added_lines() - len(split_lines(source.text[block.start : block.end]))
        self._emit_rows(context_after(source.text, block, shift))

    def take(self) -> list[Op]:
        """The operations since the last call."""
        ops, self.ops = self.ops, []
        return ops

    def value(self, key: str) -> str:
        """An argument's text as far as it streamed (before location)."""
        parts = self._parts[key]
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    # Locating ---------------------------------------------------------------------------------

    def _close(self, key: str | None) -> None:
        if key is None or key in self._done or key not in self._parts:
            return
        self._done.add(key)
        if {"path", "old_string"} <= self._done and self.state is LiveState.WAITING:
            self._locate()

    def _locate(self) -> None:
        try:
            resolved, source = self._read(self.value("path"))
        except ToolError as exc:
            self.state, self.error = LiveState.UNREADABLE, str(exc)
            return
        self.rel, self._source = resolved.rel, source
        old = source.normalize(self.value("old_string"))
        offsets = find_all(source.text, old) if old else []
        self.count = len(offsets)
        if not offsets:
            self.state = LiveState.NOT_FOUND
            return
        self.state = LiveState.FOUND if len(offsets) == 1 else LiveState.AMBIGUOUS
        self._start(source, offsets[0], old)

    def _start(self, source: Source, offset: int, old: str) -> None:
        text, end = source.text, offset + len(old)
        start, stop = line_start(text, offset), line_end(text, end - 1)
        block = self._block = Block(start, stop, line_of(text, start), "")
        self._suffix = text[end:stop]
        self._emit_rows(context_before(text, block))
        self._emit_rows(removed_rows(text, block))
        self.ops.append(Run(RowKind.ADDED, None, block.line))
        self._add(text[start:offset])
        pending = self.value("new_string")
        self._parts["new_string"] = []
        self._add(pending)

    # Emitting ---------------------------------------------------------------------------------

    def _add(self, text: str, *, final: bool = False) -> None:
        source = self._source
        if source is not None and source.crlf:
            text = self._held + text
            self._held = ""
            if text.endswith("\r") and not final:
                text, self._held = text[:-1], "\r"
            text = text.replace("\r\n", "\n")
        if text:
            self._added_newlines += text.count("\n")
            self._added_last = text[-1]
            self.ops.append(text)

    def _added_lines(self) -> int:
        trailing = self._added_last not in ("", "\n")
        return self._added_newlines + trailing

    def _emit_rows(self, rows: Sequence[DiffRow]) -> None:
        """Rows of one kind with consecutive numbers: one run, one append."""
        if rows:
            self.ops.append(Run(rows[0].kind, rows[0].old, rows[0].new))
            self.ops.append("".join(row.text + "\n" for row in rows))


def _step(number: int | None, lines: int) -> int | None:
    return None if number is None else number + lines


def rows_from_ops(ops: Sequence[Op]) -> list[DiffRow]:
    """The rows a view shows after applying ``ops`` (for tests and checks)."""
    rows: list[DiffRow] = []
    run: Run | None = None
    text: list[str] = []

    def close() -> None:
        if run is not None:
            for i, line in enumerate(split_lines("".join(text))):
                rows.append(DiffRow(run.kind, _step(run.old, i), _step(run.new, i), line))

    for op in ops:
        if isinstance(op, Run):
            close()
            run, text = op, []
        else:
            text.append(op)
    close()
    return rows
