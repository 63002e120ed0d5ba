"""The body of an ``edit_file`` card: where ``old_string`` is, and the diff growing under it.

``EditPreview`` owns a ``LiveEdit`` (core: locates ``old_string`` once, then turns each
fragment of ``new_string`` into diff operations) and a ``DiffView`` (draws them). The card
passes it each fragment's growth events (``feed``, O(the fragment)) and calls ``flush`` once a
frame, which applies the operations gathered since the last frame.

Above the diff, one line says where the match stands while it streams: the file it was looked
up in, "not found" or "matches N times" (the first is shown), or why the file cannot be read.
When the call is complete, the diff the user approves is the registry's (``show_final``); it
only replaces the live one when they differ. Without a workspace to read from (a call loaded
from a transcript), the diff shows ``old_string`` removed and ``new_string`` added, unnumbered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static

from tui.core.partial_json import Growth
from tui.core.sanitize import visible
from tui.core.tools.edit import DiffRow, RowKind, split_lines
from tui.core.tools.live_edit import LiveEdit, LiveState, Reader
from tui.ui.widgets.diff_view import DiffView

__all__ = ["EditPreview"]


class EditPreview(Vertical):
    """Live diff of one ``edit_file`` call.

    Args:
        read: confines a path and reads the file (the registry's ``read_for_edit``); None
            when there is no workspace to read (then only the final arguments are shown).
    """

    DEFAULT_CSS = """
    EditPreview { height: auto; }
    EditPreview > #where { height: 1; color: $text-muted; }
    EditPreview > #where.-problem { color: $warning; }
    """

    def __init__(self, read: Reader | None) -> None:
        super().__init__()
        self.live = LiveEdit(read) if read is not None else None
        self._language_set = False
        self._shown_state: tuple[LiveState, int] | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="where")
        yield DiffView(id="edit-diff")

    @property
    def diff(self) -> DiffView:
        """The diff widget."""
        return self.query_one(DiffView)

    def path(self) -> str:
        """The path as far as it streamed ("" before)."""
        return self.live.value("path") if self.live is not None else ""

    def feed(self, growth: Sequence[Growth]) -> None:
        """Take one fragment's growth events (widgets change in ``flush``)."""
        if self.live is not None:
            self.live.feed(growth)

    def flush(self) -> None:
        """Apply what arrived since the last frame."""
        live = self.live
        if live is None:
            return
        ops = live.take()
        if ops:
            if not self._language_set:
                self._language_set = True
                self.diff.set_language_from_path(live.rel)
            self.diff.apply(ops)
        self._show_where(live)

    def finish(self, arguments: Mapping[str, Any]) -> None:
        """The call is complete: close the diff (or show the arguments when nothing located)."""
        if self.live is not None:
            self.live.finish()
            self.flush()
        if self.diff.row_count == 0:
            self.diff.show_rows(_argument_rows(arguments))

    def show_final(self, rows: Sequence[DiffRow] | None) -> None:
        """Show the registry's diff of the prepared call, if it differs from the live one."""
        if rows is not None and list(rows) != self.diff.rows():
            self.diff.show_rows(rows)

    def _show_where(self, live: LiveEdit) -> None:
        state = (live.state, live.count)
        if state == self._shown_state:
            return
        self._shown_state = state
        where = self.query_one("#where", Static)
        text, problem = _where(live)
        where.set_class(problem, "-problem")
        where.update(Text(text))


def _where(live: LiveEdit) -> tuple[str, bool]:
    """The status line for ``live`` and whether it reports a problem."""
    path = visible(live.rel)
    match live.state:
        case LiveState.WAITING:
            return "locating old_string…", False
        case LiveState.FOUND:
            return f"old_string found in {path}", False
        case LiveState.NOT_FOUND:
            return f"old_string not found in {path}", True
        case LiveState.AMBIGUOUS:
            return f"old_string matches {live.count} times in {path} (the first shown)", True
        case LiveState.UNREADABLE:
            return visible(live.error), True


def _argument_rows(arguments: Mapping[str, Any]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    for key, kind in (("old_string", RowKind.REMOVED), ("new_string", RowKind.ADDED)):
        value = arguments.get(key)
        if isinstance(value, str):
            rows += [DiffRow(kind, None, None, line) for line in split_lines(value)]
    return rows
