"""A live diff of an ``edit_file`` call: context, removed and added rows, numbered from the file.

``DiffView`` is a line-API widget like ``CodeView``: it keeps rows in flat lists and renders
only the rows on screen. It is fed the operations of ``tui.core.tools.live_edit.LiveEdit``
(start a run of rows of one kind at given line numbers; append text), so a fragment of
``new_string`` costs O(its length): the open last row keeps its pieces in a list, joined once
a frame when drawn. A 5,000-line file costs the same per fragment as a 5-line one, because
only the rows near the change were ever added.

Each row is drawn as two line-number columns (old, new), a sign, and the text, tinted red for
removed and green for added rows; the text is highlighted line by line by the file's language
(a line lexed alone: a multi-line string may be coloured as code, never shown wrongly).

The text is data: never parsed as markup; hidden characters (bidi controls, zero-width)
are made visible and control characters are drawn as U+FFFD.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from pygments.lexer import Lexer
from pygments.lexers.special import TextLexer
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.core.tools.edit import GAP_TEXT, DiffRow, RowKind
from tui.core.tools.live_edit import Op, Run
from tui.ui.compat import lay_out_again
from tui.ui.widgets.code_text import display, expand_tabs, lex, new_lexer, theme_name, token_style
from tui.ui.widgets.code_view import LONG_LINE
from tui.ui.widgets.safe import shown

__all__ = ["DiffView"]

_TINTS = {
    RowKind.REMOVED: "diff-view--removed",
    RowKind.ADDED: "diff-view--added",
    RowKind.GAP: "diff-view--gap",
    RowKind.CONTEXT: "",
}


class DiffView(ScrollView, can_focus=True):
    """Rows of an edit's diff, growing while the edit streams, following the tail.

    Args:
        id: Widget id.
        classes: Widget classes.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--gutter",
        "diff-view--removed",
        "diff-view--added",
        "diff-view--gap",
    }
    DEFAULT_CSS = """
    DiffView {
        height: auto;
        max-height: 20;
        background: $surface;
        color: $foreground;
        overflow: auto auto;
        scrollbar-size-vertical: 1;
        & > .diff-view--gutter { color: $text-muted; }
        & > .diff-view--removed { background: $error 25%; }
        & > .diff-view--added { background: $success 25%; }
        & > .diff-view--gap { color: $text-muted; }
    }
    """

    following: var[bool] = var(True)
    """True while the view follows the tail; False once the user scrolls up."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.tab_size = 4
        self._lexer: Lexer = TextLexer()
        self._strips: LRUCache[tuple[int, str], Strip] = LRUCache(512)
        self._theme = ""
        self._frame: dict[str, Style] | None = None
        self.clear()

    def clear(self) -> None:
        """Forget every row."""
        self._kinds: list[RowKind] = []
        self._old: list[int | None] = []
        self._new: list[int | None] = []
        self._text: list[str] = []
        self._open: list[str] | None = None  # pieces of the last row while it grows
        self._run = Run(RowKind.CONTEXT, None, None)
        self._line_in_run = 0
        self._number_width = 1
        self._max_width = 0
        self._strips.clear()
        self._update_size()

    def set_language_from_path(self, path: str) -> None:
        """Highlight by the language of ``path``'s file name."""
        self._lexer = new_lexer(path)
        self._strips.clear()
        self.refresh()

    @property
    def row_count(self) -> int:
        """Rows shown (the growing last row included)."""
        return len(self._kinds)

    def rows(self) -> list[DiffRow]:
        """The rows as ``DiffRow`` (what is shown, for checks and tests)."""
        numbers = zip(self._old, self._new, strict=True)
        return [
            DiffRow(kind, old, new, self._row_text(i))
            for i, (kind, (old, new)) in enumerate(zip(self._kinds, numbers, strict=True))
        ]

    def show_rows(self, rows: Iterable[DiffRow]) -> None:
        """Replace everything with finished rows (a final diff)."""
        self.clear()
        for row in rows:
            self._start_row(row.kind, row.old, row.new)
            self._text[-1] = row.text
            self._close_row()
        self._update_size()

    def apply(self, ops: Iterable[Op]) -> None:
        """Apply ``LiveEdit`` operations: O(their text), whatever the rows so far."""
        for op in ops:
            if isinstance(op, Run):
                self._close_row()
                self._run, self._line_in_run = op, 0
                continue
            *whole, last = op.split("\n")
            for piece in whole:  # lines this text ends
                self._append(piece)
                self._close_row()
            if last:
                self._append(last)
        self._update_size()
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        self.refresh()

    # Rows ------------------------------------------------------------------------------------

    def _append(self, piece: str) -> None:
        parts = self._open if self._open is not None else self._open_row()
        if piece:
            parts.append(piece)

    def _open_row(self) -> list[str]:
        run, step = self._run, self._line_in_run
        old = None if run.old is None else run.old + step
        new = None if run.new is None else run.new + step
        self._start_row(run.kind, old, new)
        self._line_in_run += 1
        self._open = []
        return self._open

    def _start_row(self, kind: RowKind, old: int | None, new: int | None) -> None:
        self._kinds.append(kind)
        self._old.append(old)
        self._new.append(new)
        self._text.append("")
        largest = max(old or 0, new or 0)
        self._number_width = max(self._number_width, len(str(largest)))

    def _close_row(self) -> None:
        if self._open is not None:
            self._text[-1] = "".join(self._open)
            self._open = None
        if self._text:
            self._max_width = max(self._max_width, cell_len(self._text[-1][:LONG_LINE]))

    def _row_text(self, index: int) -> str:
        if index == len(self._text) - 1 and self._open is not None:
            if len(self._open) > 1:
                self._open[:] = ["".join(self._open)]
            return self._open[0] if self._open else ""
        return self._text[index]

    def _gutter_width(self) -> int:
        return 2 * self._number_width + 4

    def _update_size(self) -> None:
        size = Size(self._gutter_width() + self._max_width + 1, self.row_count)
        if size != self.virtual_size:
            self.virtual_size = size
            lay_out_again(self)  # its height follows its rows (else it may stay 0 high)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = round(new_value) >= self.max_scroll_y

    # Drawing ---------------------------------------------------------------------------------

    def _styles(self) -> dict[str, Style]:
        styles = {name: self.get_component_rich_style(name) for name in self.COMPONENT_CLASSES}
        styles[""] = self.rich_style
        return styles

    def render_lines(self, crop):  # type: ignore[no-untyped-def]
        # Resolving CSS styles walks the ancestors: once per repaint, not once per row.
        self._frame = self._styles()
        theme = theme_name(self.app.current_theme.dark)
        if theme != self._theme:  # token colours follow the app's dark/light theme
            self._theme = theme
            self._strips.clear()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the view: numbers, sign and the highlighted, scrolled text."""
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        styles = self._frame or self._styles()
        base = styles[""]
        if index >= self.row_count:
            return Strip.blank(width, base)
        kind = self._kinds[index]
        tint = base + styles[_TINTS[kind]] if _TINTS[kind] else base
        numbers = f"{_number(self._old[index], self._number_width)} "
        numbers += f"{_number(self._new[index], self._number_width)} "
        gutter = Strip(
            [
                Segment(numbers, base + styles["diff-view--gutter"]),
                Segment(f"{kind.value if kind is not RowKind.GAP else ' '} ", tint),
            ],
            self._gutter_width(),
        )
        code = self._code(index, kind)
        body = code.apply_style(tint).crop_extend(
            scroll_x, scroll_x + max(0, width - self._gutter_width()), tint
        )
        return Strip.join([gutter, body]).crop(0, width)

    def _code(self, index: int, kind: RowKind) -> Strip:
        text = GAP_TEXT if kind is RowKind.GAP else display(shown(self._row_text(index)))
        key = (index, text)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._highlight(text)
            self._strips[key] = strip
        return strip

    def _highlight(self, text: str) -> Strip:
        if len(text) > LONG_LINE:
            return Strip([Segment(text[:LONG_LINE])])
        segments: list[Segment] = []
        column = 0
        for _offset, token_type, value in lex(self._lexer, text):
            if "\t" in value:
                value, column = expand_tabs(value, column, self.tab_size)
            else:
                column += cell_len(value)
            segments.append(Segment(value, token_style(self._theme, token_type)))
        return Strip(segments, column)


def _number(value: int | None, width: int) -> str:
    return " " * width if value is None else f"{value:>{width}}"
