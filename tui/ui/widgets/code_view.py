"""A live, syntax-highlighted view of a file while a model writes it.

`CodeView` is a line-API widget (like Textual's `Log`): it keeps the text as a list of lines and
renders only the rows on screen, so the cost of an update follows what is visible, not the size
of the file.

Highlighting while streaming. Pygments lexers carry state across lines (docstrings, block
comments), so a line cannot be lexed alone. When a visible line has no cached strip, the view
lexes a *window*: from a start line to the last uncached visible line, and caches the strips of
the lines it was asked for. The start is the nearest line above that a previous lex saw begin in
the lexer's root state (its preceding newline was a plain whitespace token, so not inside a
string or comment), looking back at most `CONTEXT_LINES` lines / `CONTEXT_CHARS` characters.
While following the tail, a frame therefore re-lexes only the open last line and the few lines
since the last root-state line. When no such line is within reach, the lines above were never
lexed (text streamed past faster than a screen a frame, or a jump far away): lexing 100 unknown
lines would only guess the state from further up, so the window guesses from `GUESS_LINES`
above instead (exact unless a multi-line string or comment spans that start; `complete()` fixes
colours in the end). Lines longer than `LONG_LINE` are shown plain.

Exact colours at the end. `complete()` lexes the whole file once (O(n); for big files in
slices with pauses as long as the slices, so the UI and a tool run stay responsive, starting
`FINAL_DELAY_SECONDS` later, after what follows a call's completion) and keeps the result as
two flat arrays (token start offsets and token types); each visible line then finds its
tokens by bisection.

Per frame, CSS styles are resolved once (in `render_lines`), and a finished row (gutter plus
cropped code) is reused while its code strip, scroll offset, width and styles are unchanged, so
rows that merely move up as the view follows the tail cost a dictionary lookup.

The text is data: it is never parsed as markup. Control characters and lone surrogates are
shown as U+FFFD (callers should sanitize first; this only keeps the widget from writing them).
"""

from __future__ import annotations

import asyncio
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from itertools import accumulate
from time import perf_counter
from typing import ClassVar

from pygments.lexer import Lexer
from pygments.lexers.special import TextLexer
from pygments.token import _TokenType
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.ui.compat import ScrollbarsKeptWhenSame, set_scroll_range
from tui.ui.pacing import let_others_run
from tui.ui.widgets.code_text import (
    advance,
    display,
    expand_tabs,
    is_plain,
    lex,
    line_pieces,
    new_lexer,
    theme_name,
    token_style,
    warm_up,
)

__all__ = ["CodeView", "warm_up"]

CONTEXT_LINES = 100
"""Most lines lexed above a requested line to recover the lexer state."""
CONTEXT_CHARS = 16_000
"""Most characters lexed above a requested line."""
GUESS_LINES = 10
"""Lines lexed above a requested line when no line within reach is known to start clean."""
WINDOW_CHARS = 32_000
"""Most characters of requested lines lexed in one window."""
LONG_LINE = 4_000
"""Lines longer than this are shown without highlighting while streaming."""
FINAL_SLICE_SECONDS = 0.005
"""Time budget of one slice of the final full-file lex."""
FINAL_PAUSE_SECONDS = 0.005
"""Pause between two slices of the final lex: at most half of the loop's time goes to it."""
FINAL_SYNC_CHARS = 2_000
"""Files up to this size are lexed whole in `complete()` (about 4 ms); bigger ones in slices."""
FINAL_DELAY_SECONDS = 0.25
"""Wait before the first slice of a sliced final lex. What follows a call's completion (the
tool runs, its result is drawn) is what the user waits for; the lines on screen are already
highlighted, and the exact colours of the rest (~0.4 s of CPU for 200 KB of Python) can
come later. Slices that started at once delayed the card's result frame by 10-16 ms."""
_Tokens = tuple["array[int]", list[_TokenType]]


class _FinalPass:
    """State of the one full-file lex started by `CodeView.complete`.

    Args:
        tokens: makes the token stream, called at the pass's first step (for a big file
            `FINAL_DELAY_SECONDS` after the completion: joining and cleaning the whole text
            is O(n), a few ms of 200 KB, that would otherwise delay the tool run).
    """

    def __init__(self, tokens: Callable[[], Iterator[tuple[int, _TokenType, str]]]) -> None:
        self._make: Callable[[], Iterator[tuple[int, _TokenType, str]]] | None = tokens
        self._tokens: Iterator[tuple[int, _TokenType, str]] = iter(())
        self.starts: array[int] = array("q")
        self.types: list[_TokenType] = []

    @property
    def tokens(self) -> Iterator[tuple[int, _TokenType, str]]:
        """The token stream (made on first use)."""
        if self._make is not None:
            self._tokens, self._make = self._make(), None
        return self._tokens


class CodeView(ScrollbarsKeptWhenSame, ScrollView, can_focus=True):
    """Live view of a file being written: highlighted, numbered, following the tail.

    Args:
        path: File name used to pick the highlighting language, if known.
        tab_size: Tab stop width in cells.
        name: Widget name.
        id: Widget id.
        classes: Widget classes.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"code-view--gutter", "code-view--cursor-line"}
    DEFAULT_CSS = """
    CodeView {
        height: 16;
        background: $surface;
        color: $foreground;
        overflow: auto auto;
        scrollbar-size-vertical: 1;
        & > .code-view--gutter { color: $text-muted; }
        & > .code-view--cursor-line { background: $foreground 6%; }
        &:focus { background-tint: $foreground 4%; }
    }
    """

    following: var[bool] = var(True, toggle_class="-following")
    """True while the view follows the tail; False once the user scrolls up."""

    def __init__(
        self,
        path: str | None = None,
        *,
        tab_size: int = 4,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tab_size = tab_size
        self.lexed_lines = 0
        """Lines given to the lexer so far (instrumentation for tests and benchmarks)."""
        self._lexer: Lexer = TextLexer()
        self._theme_name = ""
        self._token_styles: dict[_TokenType | None, Style] = {}
        self._strips: LRUCache[int, Strip] = LRUCache(1024)
        self._rows: LRUCache[int, tuple[Strip, tuple[object, ...], Strip]] = LRUCache(256)
        self._sync_scheduled = False
        self._final_job: _FinalPass | None = None
        self._frame_styles: tuple[Style, Style, Style] | None = None
        self._reset()
        if path is not None:
            self.set_language_from_path(path)

    def _reset(self) -> None:
        self._lines: list[str] = []  # closed lines
        self._open_parts: list[str] = []  # fragments of the open last line
        self._starts: array[int] = array("q", [0])  # document offset of every line
        self._clean = bytearray(1)  # 1: a lex saw this line begin in the root state
        self._chars = 0
        self._size_bytes = 0
        self._open_column = 0
        self._max_width = 0
        self._dirty_from: int | None = None
        self._complete = False
        self._final: _Tokens | None = None
        self._final_job = None
        self._strips.clear()

    # Content ---------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The full content (joined on demand, O(n))."""
        return "\n".join([*self._lines, self._open_text()])

    @property
    def line_count(self) -> int:
        """Number of lines shown: a trailing newline does not start a shown line."""
        return len(self._lines) + (self._chars > self._starts[-1])

    @property
    def char_count(self) -> int:
        """Characters appended (what the view's memory grows with)."""
        return self._chars

    @property
    def size_bytes(self) -> int:
        """UTF-8 size of the content (lone surrogates count as 3 bytes)."""
        return self._size_bytes

    @property
    def language(self) -> str:
        """Name of the highlighting language."""
        return str(self._lexer.name)

    @property
    def is_complete(self) -> bool:
        """True once `complete` was called and no text arrived since."""
        return self._complete

    @property
    def is_highlight_final(self) -> bool:
        """True once the full-file lex started by `complete` has finished."""
        return self._final is not None

    def line(self, index: int) -> str:
        """Return line `index` (0-based) without its newline."""
        return self._lines[index] if index < len(self._lines) else self._open_text()

    def _open_text(self) -> str:
        parts = self._open_parts
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    def append(self, text: str) -> None:
        """Append a chunk of the file; it may hold partial lines. O(len(text)).

        The scroll position and virtual size are updated once per batch of appends (from a
        callback queued behind them), not once per call.

        Args:
            text: The next piece of content.
        """
        if not text:
            return
        if self._complete:
            self._reopen()
        self._size_bytes += (
            len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        )
        open_index = len(self._lines)
        self._strips.discard(open_index)
        if self._dirty_from is None:
            self._dirty_from = open_index
        tab_size = self.tab_size
        if "\n" not in text:
            self._open_parts.append(text)
            self._open_column = advance(self._open_column, text, tab_size)
        else:
            parts = text.split("\n")
            middle = parts[1:-1]
            self._max_width = max(self._max_width, self._closed_width(text, parts))
            self._open_parts.append(parts[0])
            self._lines.append(self._open_text())
            self._lines.extend(middle)
            offset = self._chars + len(parts[0]) + 1
            self._starts.extend(accumulate((len(part) + 1 for part in middle), initial=offset))
            self._clean.extend(bytes(len(parts) - 1))
            self._open_parts = [parts[-1]]
            self._open_column = advance(0, parts[-1], tab_size)
        self._max_width = max(self._max_width, self._open_column)
        self._chars += len(text)
        self._schedule_sync()

    def _closed_width(self, text: str, parts: list[str]) -> int:
        """The widest of the lines ``text`` closes (``parts``: it split at newlines)."""
        middle = parts[1:-1]
        if text.isascii() and "\t" not in text:  # a cell a character (controls show as U+FFFD)
            return max(self._open_column + len(parts[0]), max(map(len, middle), default=0))
        tab_size = self.tab_size
        first = advance(self._open_column, parts[0], tab_size)
        return max(first, max((advance(0, part, tab_size) for part in middle), default=0))

    def complete(self) -> None:
        """Mark the content finished: re-highlight the whole file once, for exact colours."""
        self._complete = True
        self._start_final_pass()
        self.refresh()

    def clear(self) -> None:
        """Remove all content."""
        self._reset()
        self.virtual_size = Size(0, 0)
        self.following = True
        self.refresh()

    def set_language_from_path(self, path: str) -> None:
        """Choose the highlighting language from a file name; may be called mid-stream.

        Args:
            path: File name or path; unknown or odd names fall back to plain text.
        """
        self._lexer = new_lexer(path)
        self._strips.clear()
        self._clean = bytearray(len(self._clean))
        self._final = None
        if self._complete:
            self._start_final_pass()
        self.refresh()

    # Updates ---------------------------------------------------------------------------------

    def _schedule_sync(self) -> None:
        if not self._sync_scheduled:
            self._sync_scheduled = True
            self.call_later(self._sync)

    def _gutter_width(self) -> int:
        return max(3, len(str(self.line_count))) + 2

    def _sync(self) -> None:
        """Apply a batch of appends to the virtual size, the dirty lines and the scroll."""
        self._sync_scheduled = False
        size = Size(self._gutter_width() + self._max_width, self.line_count)
        if size != self.virtual_size and self._needs_layout(size):
            self._show_scrollbar_early(size)
            self.virtual_size = size  # a layout refresh repaints every visible line
        elif size != self.virtual_size:
            self._resize_in_place(size)
        elif self._dirty_from is not None:
            top = self.scroll_offset.y
            first = max(self._dirty_from, top)
            last = min(self.line_count, top + self.size.height)
            if first < last:
                self.refresh_lines(first, last - first)
        self._dirty_from = None
        if self.following and self.scroll_y != self.max_scroll_y:
            self._scroll_to_tail()

    def _needs_layout(self, size: Size) -> bool:
        """Whether a new virtual size can change this widget's region or its scrollbars.

        Setting ``virtual_size`` makes Textual lay the whole screen out again. Once the text
        is taller than the view (a fixed or maximum height reached) and wider or narrower
        than it as before, only the scroll range changes: no layout is needed.
        """
        old, view = self.virtual_size, self.scrollable_content_region.size
        return not (
            old.height > view.height
            and size.height > view.height
            and (old.width > view.width) == (size.width > view.width)
        )

    def _show_scrollbar_early(self, size: Size) -> None:
        """Show the vertical scrollbar before the layout in which the text overflows.

        Textual decides on a scrollbar after a layout, from the size the layout gave, and a
        scrollbar that appears asks for a second layout of the screen (10-15 ms, often
        between a call's completion and its result). The most rows this view can have are
        known from its styles (a height, or a maximum height, in rows): text taller than
        that overflows whatever the layout gives, so the scrollbar is shown now and the one
        layout places it. Any other height is left to Textual.
        """
        if self.show_vertical_scrollbar or self.styles.overflow_y != "auto":
            return
        height = self.styles.height
        limit = self.styles.max_height if height is None or height.is_auto else height
        if limit is None or not limit.is_cells:
            return
        if size.height > limit.value - self.styles.gutter.height:
            self.show_vertical_scrollbar = True
            self.vertical_scrollbar.display = True

    def _resize_in_place(self, size: Size) -> None:
        set_scroll_range(self, size)

    def _reopen(self) -> None:
        """Text arrived after `complete`: go back to streaming highlights."""
        self._complete = False
        self._final = None
        self._final_job = None

    def on_mount(self) -> None:
        # Textual calls ScrollView.on_mount itself (handlers run for each class in the MRO).
        self._sync()

    def on_resize(self, event: events.Resize) -> None:
        if self.following:
            self._scroll_to_tail()

    def _scroll_to_tail(self) -> None:
        # force: before the first layout the scrollbar is not shown yet, so scrolling is not
        # "allowed"; the target is clamped again once the layout knows the real size.
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def action_scroll_end(self) -> None:
        # Without animation: an animated scroll aims at the tail as it was when the key was
        # pressed, so while text streams in it would stop short and leave following off.
        self.following = True
        self._scroll_to_tail()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = round(new_value) >= self.max_scroll_y

    # Final full-file highlight ---------------------------------------------------------------

    def _start_final_pass(self) -> None:
        self._final = None
        lexer = self._lexer
        job = _FinalPass(lambda: lex(lexer, display(self.text) + "\n"))
        self._final_job = job
        if not self.is_mounted or self._chars <= FINAL_SYNC_CHARS:
            self._step_final(job, None)
            return
        self.run_worker(
            self._run_final(job), group="code-view-final", exclusive=True, exit_on_error=False
        )

    async def _run_final(self, job: _FinalPass) -> None:
        # Not sleep(0) between slices: with slices back to back (measured on a 200 KB file,
        # ~1 s of them), each step of other work waited for a slice (a tool run of a dozen
        # awaits took 150 ms instead of 40), and a thread (the tool's file write) waited for
        # the GIL. The pause is loop turns as well as time: on a busy machine the timer is
        # often due by the time the loop looks, and a key's echo needs several turns.
        await asyncio.sleep(FINAL_DELAY_SECONDS)
        while self._final_job is job and not self._step_final(job, FINAL_SLICE_SECONDS):
            await let_others_run()
            await asyncio.sleep(FINAL_PAUSE_SECONDS)

    def _step_final(self, job: _FinalPass, budget: float | None) -> bool:
        """Lex for about `budget` seconds (None: to the end); return True when finished."""
        deadline = None if budget is None else perf_counter() + budget
        starts, types = job.starts, job.types
        try:
            for index, token_type, _value in job.tokens:
                starts.append(index)
                types.append(token_type)
                if deadline is not None and not len(types) & 255 and perf_counter() > deadline:
                    return False
        except Exception:  # noqa: BLE001 - a lexer bug must cost colour, not the app
            del starts[:], types[:]
        if self._final_job is job:
            self._final_job = None
            self._final = (starts, types)
            self.lexed_lines += self.line_count
            self._strips.clear()
            self.refresh()
        return True

    # Highlighting ----------------------------------------------------------------------------

    def _token_style(self, token_type: _TokenType | None) -> Style:
        styles = self._token_styles
        style = styles.get(token_type)
        if style is None:
            style = styles[token_type] = token_style(self._theme_name, token_type)
        return style

    def _make_strip(self, pieces: list[tuple[_TokenType | None, str]]) -> Strip:
        segments: list[Segment] = []
        column = 0
        for token_type, text in pieces:
            if "\t" in text:
                text, column = expand_tabs(text, column, self.tab_size)
            else:
                column += cell_len(text)
            segments.append(Segment(text, self._token_style(token_type)))
        return Strip(segments, column)

    def _code_strip(self, index: int) -> Strip:
        strip = self._strips.get(index)
        if strip is not None:
            return strip
        line = display(self.line(index))
        if self._final is not None:
            starts, types = self._final
            strip = self._make_strip(line_pieces(line, self._starts[index], starts, types))
        elif len(line) > LONG_LINE:
            strip = self._make_strip([(None, line)])
        else:
            return self._highlight_window(index)
        self._strips[index] = strip
        return strip

    def _window_start(self, index: int) -> int:
        """Where to start lexing so that line `index` is lexed in the right state."""
        start = index
        budget = CONTEXT_CHARS
        floor = max(0, index - CONTEXT_LINES)
        clean = self._clean
        while start > floor and not clean[start]:
            length = len(self._lines[start - 1])
            if length > LONG_LINE or length >= budget:
                break
            budget -= length + 1
            start -= 1
        if start and not clean[start]:  # nothing known above: guess from a few lines up
            start = max(start, index - GUESS_LINES)
        return start

    def _window_stop(self, index: int) -> int:
        """One past the last line to lex: the uncached visible lines after `index`."""
        bottom = min(self.line_count, self.scroll_offset.y + self.size.height)
        stop = index + 1
        budget = WINDOW_CHARS - len(self.line(index))
        while stop < bottom and stop not in self._strips:
            length = len(self.line(stop))
            if length > LONG_LINE or length >= budget:
                break
            budget -= length + 1
            stop += 1
        return stop

    def _highlight_window(self, index: int) -> Strip:
        """Lex a window around line `index`, cache its lines, return line `index`."""
        start, stop = self._window_start(index), self._window_stop(index)
        lines = [display(self.line(i)) for i in range(start, stop)]
        starts: array[int] = array("q")
        types: list[_TokenType] = []
        try:
            for offset, token_type, _value in lex(self._lexer, "\n".join(lines) + "\n"):
                starts.append(offset)
                types.append(token_type)
        except Exception:  # noqa: BLE001 - a lexer bug must cost colour, not the app
            del starts[:], types[:]
        self.lexed_lines += stop - start
        closed = len(self._lines)
        offset = 0
        for line_index, line in enumerate(lines, start):
            if line_index > start:
                self._note_clean(line_index, offset - 1, starts, types)
            if line_index >= index:
                self._strips[line_index] = self._make_strip(
                    line_pieces(line, offset, starts, types)
                )
            offset += len(line) + 1
        if stop - 1 < closed and stop < len(self._clean):
            self._note_clean(stop, offset - 1, starts, types)
        return self._strips[index]

    def _note_clean(
        self, line_index: int, newline: int, starts: array[int], types: list[_TokenType]
    ) -> None:
        token = bisect_right(starts, newline) - 1
        token_type = types[token] if token >= 0 else None
        clean = token_type is not None and is_plain(token_type)
        self._clean[line_index] = clean

    # Rendering -------------------------------------------------------------------------------

    def _current_styles(self) -> tuple[Style, Style, Style]:
        name = theme_name(self.app.current_theme.dark)
        if name != self._theme_name:  # token colours follow the app's dark/light theme
            self._theme_name = name
            self._token_styles.clear()
            self._strips.clear()
        # Full (not partial) component styles: partial ones drop alpha blending.
        return (
            self.rich_style,
            self.get_component_rich_style("code-view--gutter"),
            self.get_component_rich_style("code-view--cursor-line"),
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        # Resolving CSS styles walks the ancestors: do it once per repaint, not once per row.
        self._frame_styles = self._current_styles()
        try:
            return super().render_lines(crop)
        finally:
            self._frame_styles = None

    def render_line(self, y: int) -> Strip:
        """Render row `y` of the view: gutter plus the horizontally scrolled code."""
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base, gutter_style, cursor_style = self._frame_styles or self._current_styles()
        if index >= self.line_count:
            return Strip.blank(width, base)
        gutter_width = self._gutter_width()
        style = base
        if not self._complete and index == len(self._lines):
            style = cursor_style
        code = self._code_strip(index)
        # While following, every row moves up each frame: reuse the finished row if nothing
        # that shapes it changed (a Strip is costly to build; a tuple compare is not).
        key = (scroll_x, width, gutter_width, style, gutter_style)
        cached = self._rows.get(index)
        if cached is not None and cached[0] is code and cached[1] == key:
            return cached[2]
        gutter = Strip([Segment(f" {index + 1:>{gutter_width - 2}} ", gutter_style)], gutter_width)
        code_width = max(0, width - gutter_width)
        body = code.apply_style(style).crop_extend(scroll_x, scroll_x + code_width, style)
        row = Strip.join([gutter, body]).crop(0, width)
        self._rows[index] = (code, key, row)
        return row
