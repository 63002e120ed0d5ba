"""Streamed Markdown as one widget whose cost follows what changed and what is on screen.

Textual's ``Markdown`` makes a widget per block, list item and table cell, and every mount
re-lays them all out: a long answer cost seconds per frame. ``MarkdownView`` is one widget
that draws its lines through the line API (``render_line``):

* ``BlockSplitter`` cuts the source into top-level blocks as it arrives, a complete line at a
  time, O(len(fragment)) per append. A blank line outside a fenced code block ends a block,
  unless the next line is indented (list continuations, nested lists, indented code stay
  with their block). A fence (backticks or tildes, closed by the same character at least as
  long) or an ATX heading at column 0 is a block of its own. Tables and tight lists have no
  blank lines, so they stay whole; a loose list (blank lines between items at column 0) is
  drawn as one list per item, numbered from each item's own number, and a link reference
  definition only applies within its block.
* ``MarkdownDocument`` renders a finished block once, with Rich's Markdown (markdown-it
  tokens, HTML off so tags show as text; our code blocks, tables and rules), at the content
  width, and keeps its lines; the open last block is rendered again when it changed, at most
  once a frame. Blocks on screen (the end of the text while the conversation follows it) and
  the open block come first; a block that scrolled away before it was drawn counts with an
  estimated height and is rendered later, newest first, in slices of ``FRAME_BUDGET`` (so a
  fast stream costs what is on screen, not what arrived). A new width or theme renders every
  block again once, in the same order (old lines stay meanwhile).
* The open block is previewed in pieces of about ``PIECE_CHARS`` (a fence piece is closed
  and reopened, a table piece repeats the header): full pieces are rendered once, so a long
  fence or table costs O(piece) a frame. A finished block is rendered whole, up to
  ``EXACT_CHARS``; a bigger one keeps its pieces (a huge table: one table per piece).
* A fence's lexer is loaded in a thread on first use (compiling one takes 5-60 ms); the
  fence is drawn plain until then.

Untrusted text: Rich Markdown never parses console markup, so ``[bold]`` or
``[@click=app.quit]`` stay literal; control characters are shown as U+FFFD (callers sanitize
first); links are drawn styled but never as terminal hyperlinks (OSC 8): the target goes in
a style's meta, and a click posts ``LinkClicked`` for the owner to vet.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from heapq import heappop, heappush
from time import perf_counter
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.worker import Worker

from tui.ui.compat import RowsKeptWhenTaller
from tui.ui.markdown.blocks import (
    FENCE_OPEN,
    TABLE_RULE,
    BlockSplitter,
)
from tui.ui.markdown.render import (
    HREF,
    Line,
    MarkdownRenderer,
    MarkdownTheme,
    StyleTable,
    lexer_generation,
    lexers_loaded,
    strip_of,
)
from tui.ui.pacing import let_others_run

__all__ = ["MarkdownDocument", "MarkdownView"]

FRAME_BUDGET = 0.004
"""Seconds of rendering in one go (a sync, a slice of a backlog) before yielding."""
DRAIN_LAYOUT = 0.1
"""While a backlog is rendered, seconds between layouts of the growing text."""
DRAIN_IDLE = 0.1
"""Blocks off screen are rendered once the text has not grown (or ended) for this many
seconds: while it streams, and as its turn ends, its frames come first."""
DRAIN_STALLED = 1.0
"""While the text is still open, seconds without growth before its backlog is rendered
slice after slice; until then one slice per ``DRAIN_IDLE``. A stream's updates come 0.1-0.15 s
apart when its frames are slow (``tui.ui.pacing.FRAME_SHARE``): with ``DRAIN_IDLE`` as the
limit, the gaps between them filled with slices, 4-5 ms each, and a key typed meanwhile
waited behind them and the frames (echo 60-80 ms)."""


# -- the document: blocks, their lines, what is shown ------------------------------------------


class MarkdownDocument:
    """Markdown source, its blocks and their rendered lines; no Textual widget involved.

    Lines: every finished block's lines, one blank line between blocks, then the open block's
    preview. A finished block not rendered yet (or rendered for another width or theme)
    counts with an estimated (or its old) height until ``sync`` renders it: the blocks in
    the windows asked for and the open block first, the others newest first, in slices.
    """

    def __init__(self, text: str = "") -> None:
        self.splitter = BlockSplitter()
        self.finished = False
        self.size = 0
        """Characters appended."""
        self.renders = 0
        """Sources rendered (blocks, preview pieces): instrumentation for tests."""
        self.rendered_chars = 0
        """Characters of source rendered (instrumentation for tests)."""
        self.styles = StyleTable()
        """The style ids of this document's lines (its own: they go with it)."""
        self.renderer = MarkdownRenderer(MarkdownTheme(), self.styles)
        self._parts: list[str] = []
        self._rendered: list[list[Line] | None] = []  # per finished block (maybe stale)
        self._estimates: list[int] = []  # height of a block never rendered
        self._fresh = bytearray()  # 1: rendered for the current width, theme and lexers
        self._todo: list[int] = []  # heap of -index of blocks maybe not fresh
        self._waiting: set[int] = set()  # blocks drawn without their lexer
        self._starts: list[int] = []  # first line of each block
        self._height = 0  # lines of the finished blocks
        self._generation = lexer_generation()
        self._open: list[_Piece] = []  # the open block's preview pieces
        self._previews: dict[str, _Piece] = {}  # the previous sync's (a block's last preview)
        self._open_lines: list[Line] = []  # the lines of ``_open``'s pieces
        self._redraw_open = False  # a lexer came: ``_open``'s plain pieces are drawn again
        self._width = 0
        if text:
            self.append(text)
            self.finish()

    # source -----------------------------------------------------------------------------

    @property
    def raw(self) -> str:
        """The Markdown source appended so far."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def append(self, text: str) -> None:
        """Add a fragment: O(len(text)); nothing is rendered until ``sync``."""
        if text and not self.finished:
            self._parts.append(text)
            self.size += len(text)
            self.splitter.feed(text)

    def finish(self) -> None:
        """The source is complete: the open block becomes a finished block."""
        if not self.finished:
            self.finished = True
            self.splitter.close()

    # lines ------------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """The width the lines are for (0 before the first ``sync``)."""
        return self._width

    @property
    def height(self) -> int:
        """Lines shown: finished blocks, then the open block's preview."""
        gap = 1 if self._height and self._open_lines else 0
        return self._height + gap + len(self._open_lines)

    @property
    def backlog(self) -> bool:
        """Whether some block is not rendered for the current width, theme and lexers."""
        return (
            bool(self._todo)
            or len(self._rendered) < len(self.splitter.blocks)
            or (self.waiting and self._generation != lexer_generation())
        )

    @property
    def waiting(self) -> bool:
        """Whether a code block is drawn plain until its lexer is loaded."""
        return bool(self._waiting) or any(piece.waiting for piece in self._open)

    def line(self, y: int) -> Line | None:
        """Line ``y``; None on a separator, in a block not rendered yet, or out of range."""
        if y < 0:
            return None
        if y < self._height:
            index = bisect_right(self._starts, y) - 1
            lines = self._rendered[index]
            offset = y - self._starts[index]
            return lines[offset] if lines is not None and 0 <= offset < len(lines) else None
        y -= self._height + (1 if self._height else 0)
        return self._open_lines[y] if 0 <= y < len(self._open_lines) else None

    def lines(self) -> list[Line | None]:
        """Every line (None for separators)."""
        return [self.line(y) for y in range(self.height)]

    def line_text(self, y: int) -> str:
        """The plain text of line ``y`` ("" where ``line`` gives None)."""
        line = self.line(y)
        return "" if line is None else line[0]

    def sync(
        self,
        width: int,
        theme: MarkdownTheme,
        budget: float | None = None,
        windows: Iterable[tuple[int, int]] = (),
        tail: int = 0,
    ) -> int | None:
        """Render what changed: the open block, the blocks in ``windows`` (line ranges: what
        was on screen) and in the last ``tail`` lines (what is on screen when following the
        output) always; others, newest first, for about ``budget`` seconds (None: all).

        Returns:
            The first line that may have changed, or None if none did.
        """
        if width <= 0:
            return None
        deadline = None if budget is None else perf_counter() + budget
        self._previews = {piece.source: piece for piece in self._open}
        self._invalidate(width, theme)
        first = self._add_finished()
        first = _lowest(first, self._sync_open())
        if tail:
            first = _lowest(first, self._render_window(max(0, self.height - tail), self.height))
        for top, bottom in windows:
            first = _lowest(first, self._render_window(top, bottom))
        lowest = None
        while self._todo and (deadline is None or perf_counter() < deadline):
            index = -heappop(self._todo)
            if not self._fresh[index]:
                self._render_block(index)
                lowest = index
        if lowest is not None:
            first = _lowest(first, self._relayout(lowest))
        return first

    def render_window(self, top: int, bottom: int) -> int | None:
        """Render the finished blocks in lines ``top`` to ``bottom`` that are not rendered for
        the current width, theme and lexers (they scrolled into view before their turn).

        Nothing else: the open block and blocks finished since the last ``sync`` wait for
        it, so a repaint between two syncs costs nothing when the window is rendered.

        Returns:
            The first line that may have changed, or None if none did.
        """
        if not self._width or not self._todo:
            return None
        return self._render_window(top, bottom)

    def _invalidate(self, width: int, theme: MarkdownTheme) -> None:
        """A new width or theme makes every block stale; a loaded lexer, the plain ones."""
        generation = lexer_generation()  # read once: the loader thread moves it at any time
        if theme != self.renderer.theme or width != self._width:
            self.renderer = MarkdownRenderer(theme, self.styles)
            self._width = width
            self._fresh = bytearray(len(self._rendered))
            self._todo = [-index for index in range(len(self._rendered) - 1, -1, -1)]
            self._waiting.clear()
            self._open, self._open_lines, self._previews = [], [], {}
        elif self._generation != generation:
            for index in self._waiting:
                self._fresh[index] = 0
                heappush(self._todo, -index)
            self._waiting.clear()
            # Pieces drawn plain are drawn again: by _sync_open for the open block (its
            # lines stay until then), and not reused when their block has just finished.
            self._redraw_open = any(piece.waiting for piece in self._open)
            self._previews = {k: p for k, p in self._previews.items() if not p.waiting}
        self._generation = generation

    def _add_finished(self) -> int | None:
        """Blocks finished since the last sync join with an estimated height."""
        blocks, start = self.splitter.blocks, len(self._rendered)
        if start == len(blocks):
            return None
        for index in range(start, len(blocks)):
            self._rendered.append(None)
            self._estimates.append(_estimate(blocks[index], self._width))
            self._fresh.append(0)
            self._starts.append(0)
            heappush(self._todo, -index)
        return self._relayout(start)

    def _render_window(self, top: int, bottom: int) -> int | None:
        """Render the blocks in lines ``top`` to ``bottom``; heights change, so again."""
        first = None
        for _ in range(8):
            start = max(0, bisect_right(self._starts, top) - 1)
            stop = bisect_right(self._starts, max(top, bottom - 1))
            stale = [i for i in range(start, stop) if not self._fresh[i]]
            if not stale:
                break
            for index in stale:
                self._render_block(index)
            first = _lowest(first, self._relayout(stale[0]))
        return first

    def _render_block(self, index: int) -> None:
        source, pieces = self.splitter.blocks[index], self.splitter.block_pieces[index]
        lines: list[Line] = []
        waiting = False
        for text in [source] if pieces is None else pieces:
            piece = self._previews.get(text) or self._render_piece(text)
            lines += piece.lines
            waiting = waiting or piece.waiting
        self._rendered[index] = lines
        self._fresh[index] = 1
        if waiting:
            self._waiting.add(index)

    def _relayout(self, index: int) -> int:
        """Place blocks from ``index`` on; return the first line that may have changed."""
        height = 0
        if index:
            height = self._starts[index - 1] + self._block_height(index - 1)
        first = height
        for i in range(index, len(self._rendered)):
            count = self._block_height(i)
            if count and height:
                height += 1  # the blank line between blocks
            self._starts[i] = height
            height += count
        self._height = height
        return max(0, first - 1)

    def _block_height(self, index: int) -> int:
        lines = self._rendered[index]
        return self._estimates[index] if lines is None else len(lines)

    def _render_piece(self, source: str) -> _Piece:
        self.renders += 1
        self.rendered_chars += len(source)
        lines = self.renderer.render(source, self._width)
        return _Piece(source, lines, self.renderer.waiting)

    def _sync_open(self) -> int | None:
        sources = [] if self.finished else self.splitter.pieces()
        old, redraw, self._redraw_open = self._open, self._redraw_open, False
        if (
            not redraw
            and len(old) == len(sources)
            and all(piece.source == source for piece, source in zip(old, sources, strict=True))
        ):
            return None
        self._open = [
            old[index]
            if index < len(old)
            and old[index].source == source
            and not (redraw and old[index].waiting)
            # A new preview piece, the last one (it grew), or one whose lexer came: again.
            else self._render_piece(source)
            for index, source in enumerate(sources)
        ]
        before = self._open_lines
        self._open_lines = [line for piece in self._open for line in piece.lines]
        same = 0
        for a, b in zip(before, self._open_lines, strict=False):
            if a is not b:
                break
            same += 1
        return self._height + same


def _estimate(source: str, width: int) -> int:
    """Roughly the lines ``source`` renders to: one per source line, wrapped, at least."""
    lines = source.split("\n")
    if FENCE_OPEN.fullmatch(lines[0]):
        lines = lines[1:-1] or [""]
    elif len(lines) > 1 and "|" in lines[1] and TABLE_RULE.fullmatch(lines[1]):
        return len(lines) + 1  # borders: top, under the header, bottom
    width = max(1, width - 3)
    return sum(1 + (len(line) - 1) // width if line else 1 for line in lines)


@dataclass(frozen=True)
class _Piece:
    """A rendered piece of Markdown source."""

    source: str
    lines: list[Line]
    waiting: bool = False  # a code block was drawn without its lexer


def _lowest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


# -- the widget ----------------------------------------------------------------------------


class MarkdownView(RowsKeptWhenTaller):
    """A Markdown text that grows by ``append``: one widget, cached lines (line API).

    Args:
        text: Initial source; if given, the view is finished (a saved answer).
        name: Widget name.
        id: Widget id.
        classes: Widget classes.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"markdown-view--h{level}" for level in range(1, 7)),
        "markdown-view--code",
        "markdown-view--link",
        "markdown-view--quote",
        "markdown-view--rule",
        "markdown-view--table",
        "markdown-view--table-header",
        "markdown-view--bullet",
    }
    DEFAULT_CSS = """
    MarkdownView {
        height: auto;
        & > .markdown-view--h1 { color: $markdown-h1-color; text-style: $markdown-h1-text-style; }
        & > .markdown-view--h2 { color: $markdown-h2-color; text-style: $markdown-h2-text-style; }
        & > .markdown-view--h3 { color: $markdown-h3-color; text-style: $markdown-h3-text-style; }
        & > .markdown-view--h4 { color: $markdown-h4-color; text-style: $markdown-h4-text-style; }
        & > .markdown-view--h5 { color: $markdown-h5-color; text-style: $markdown-h5-text-style; }
        & > .markdown-view--h6 { color: $markdown-h6-color; text-style: $markdown-h6-text-style; }
        &:dark > .markdown-view--code { background: $warning 10%; color: $text-warning 95%; }
        &:light > .markdown-view--code { background: $error 5%; color: $text-error 95%; }
        & > .markdown-view--link { color: $text-accent; text-style: underline; }
        & > .markdown-view--quote { color: $text-muted; }
        & > .markdown-view--rule { color: $foreground 30%; }
        & > .markdown-view--table { color: $foreground 30%; }
        & > .markdown-view--table-header { color: $text-primary; text-style: bold; }
        & > .markdown-view--bullet { color: $text-primary; }
    }
    """
    _THEME_STYLES: ClassVar[tuple[tuple[str, str], ...]] = (
        *((f"markdown.h{level}", f"markdown-view--h{level}") for level in range(1, 7)),
        ("markdown.code", "markdown-view--code"),
        ("markdown.link", "markdown-view--link"),
        ("markdown.link_url", "markdown-view--link"),
        ("markdown.block_quote", "markdown-view--quote"),
        ("markdown.hr", "markdown-view--rule"),
        ("markdown.table.border", "markdown-view--table"),
        ("markdown.table.header", "markdown-view--table-header"),
        ("markdown.item.bullet", "markdown-view--bullet"),
        ("markdown.item.number", "markdown-view--bullet"),
    )

    @dataclass
    class LinkClicked(Message):
        """A link in the text was clicked (its target is untrusted: vet it)."""

        view: MarkdownView
        href: str

    def __init__(
        self,
        text: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.document = MarkdownDocument(text)
        self._theme: MarkdownTheme | None = None
        self._sync_requested = False
        self._drain: Worker[None] | None = None
        self._layout_owed = False
        self._layout_at = 0.0
        self._laid_out = 0  # the document's height at the last layout asked for
        self._stale_from: int | None = None  # first line changed since then, not repainted
        self._painted: tuple[int, int] | None = None  # content lines painted last
        self._synced_size = 0  # document size at the last sync, and when it last grew
        self._grew_at = 0.0
        self._base: tuple[Style, Strip] | None = None
        self._rows: LRUCache[int, tuple[Line, Strip]] = LRUCache(256)  # rows on screen

    @property
    def raw(self) -> str:
        """The Markdown source (for copy and export)."""
        return self.document.raw

    @property
    def finished(self) -> bool:
        """Whether ``finish`` was called (or the view was made with its text)."""
        return self.document.finished

    @property
    def rendered_text(self) -> str:
        """Every line as plain text, all blocks rendered first (for tests and benchmarks:
        O(text))."""
        if self.document.width:
            self.document.sync(self.document.width, self.markdown_theme)
        return "\n".join(self.document.line_text(y).rstrip() for y in range(self.document.height))

    def append(self, text: str) -> None:
        """Add a fragment; it is rendered with the next frame. O(len(text))."""
        self.document.append(text)
        self._request_sync()

    def finish(self) -> None:
        """The text is complete: its last block is rendered for good, at once (``sync_now``):
        the end of a turn waits for it, and after the next frame it cost one more."""
        self.document.finish()
        self._grew_at = perf_counter()  # the backlog waits for the end of the turn too
        self.sync_now()

    def sync_now(self) -> None:
        """Render what changed now, so that the next frame draws it; before the first layout
        (no width yet), after it. For callers that update once a frame (a stream's flush):
        the frame's cost then holds the rendering, where a sync after the refresh needed a
        second refresh, which the app's frame budget did not see."""
        if self.is_mounted and self.document.width:
            self.sync()
        else:
            self._request_sync()

    def sync(self) -> None:
        """Render what changed on screen and repaint it; the rest of the blocks are rendered
        by a worker, in slices of about ``FRAME_BUDGET``, yielding to the event loop."""
        self._sync_requested = False
        if self._slice(0.0) and self._drain is None:
            self._drain = self.run_worker(
                self._drain_backlog(), group="markdown-view", exit_on_error=False
            )

    def _sync_document(self, width: int, budget: float | None) -> int | None:
        """Sync the document: the lines painted last and a screenful at the end (where the
        conversation is when it follows the output) are rendered first."""
        windows = [] if self._painted is None else [self._painted]
        tail = self.screen.size.height
        return self.document.sync(width, self.markdown_theme, budget, windows, tail)

    def _slice(self, budget: float, draining: bool = False, streaming: bool = False) -> bool:
        """One sync; returns whether blocks still wait to be rendered.

        While draining, a new height is laid out at most every ``DRAIN_LAYOUT`` seconds: each
        layout repaints the whole screen, which would take the time the slices need; while
        the text also streams (``streaming``), not at all: the stream's next update does.
        """
        width = self.content_size.width
        if not self.is_mounted or width <= 0:
            self.refresh(layout=True)  # the layout renders, at its width
            return False
        height, size = self.document.height, self.document.size
        first = self._sync_document(width, budget)
        if size != self._synced_size:
            self._synced_size, self._grew_at = size, perf_counter()
        backlog = self.document.backlog
        if self.document.height != height:
            self._layout_owed = True
            # Lines past the height laid out are repainted with the layout that shows them.
            self._stale_from = _lowest(self._stale_from, min(height, self._laid_out))
        now = perf_counter()
        deferred = draining and (streaming or (backlog and now < self._layout_at))
        if self._layout_owed and not deferred:
            self._layout_owed = False
            self._layout_at = now + DRAIN_LAYOUT
            self._repaint_from(_lowest(first, self._stale_from), layout=True)
        elif first is not None and first < height:
            self._repaint_from(first)
        return backlog or self.document.waiting

    def _repaint_from(self, first: int | None, layout: bool = False) -> None:
        """Repaint the lines from ``first`` on (all if None), laying out when ``layout``.

        Only those: the rows above stay rendered (``RowsKeptWhenTaller``), so a frame of a
        growing answer costs the lines that changed, not every line on screen.
        """
        end = max(self.document.height, self._laid_out)
        if layout:
            self._laid_out, self._stale_from = self.document.height, None
        if first is None:
            self.refresh(layout=layout)
        elif first < end:
            self.refresh(Region(0, first, self.size.width, end - first), layout=layout)
        elif layout:
            self.refresh(layout=True)

    async def _drain_backlog(self) -> None:
        """Render blocks off screen in slices, and blocks drawn plain once their lexer came."""
        try:
            while True:
                quiet = perf_counter() - self._grew_at
                if quiet < DRAIN_IDLE and self.document.finished:
                    # The text just ended: the end of its turn and the frame showing it come
                    # first (slices here held the turn's last frame 20-40 ms).
                    await asyncio.sleep(DRAIN_IDLE - quiet)
                elif quiet < DRAIN_STALLED and not self.document.finished:
                    # Text is streaming: its frames come first, the backlog gets a slice now
                    # and then (so a slow stream's blocks are rendered as they scroll away).
                    await asyncio.sleep(DRAIN_IDLE)
                    if not self._streaming_slice():
                        break
                elif self.document.backlog:
                    await let_others_run()  # one turn per slice held a key's echo 50-77 ms
                    self._slice(FRAME_BUDGET, draining=True)
                elif self.document.waiting and await lexers_loaded():
                    pass  # a lexer came: the blocks drawn plain are part of the backlog now
                else:
                    if self._layout_owed:  # the stream stopped before laying out its slices
                        self._slice(0.0)
                    break
        finally:
            self._drain = None

    def _streaming_slice(self) -> bool:
        """A slice of the backlog while the text is open; False when nothing is left to do.

        While the text grew in the last ``DRAIN_IDLE``, its new heights are laid out by the
        stream's next update, not by a layout of their own (a whole frame every
        ``DRAIN_IDLE`` taken from the stream); in a pause, by the slice.
        """
        if self.document.finished:
            return True  # the loop's next turn waits for the end of the turn
        streaming = perf_counter() - self._grew_at < DRAIN_IDLE
        if self.document.backlog:
            self._slice(FRAME_BUDGET, draining=True, streaming=streaming)
            return True
        if self._layout_owed and not streaming:
            self._slice(0.0)
        return self._layout_owed or self.document.waiting

    def _request_sync(self) -> None:
        """Sync after the next screen refresh (at most once a frame)."""
        if not self._sync_requested and self.is_attached:
            self._sync_requested = True
            self.call_after_refresh(self.sync)

    @property
    def markdown_theme(self) -> MarkdownTheme:
        """Styles from this widget's CSS and the app theme (code: monokai when dark)."""
        if self._theme is None:
            style = self.get_component_rich_style
            self._theme = MarkdownTheme(
                tuple((name, style(component)) for name, component in self._THEME_STYLES),
                "monokai" if self.app.current_theme.dark else "default",
            )
        return self._theme

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._theme = None  # compared at the next sync: blocks render again only if changed
        if self.document.width:
            self._request_sync()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self.document.width:
            # First layout or a new width: what is on screen now, the rest in slices.
            self._sync_document(width, 0.0)
            if self.document.backlog:
                self._request_sync()
        return self.document.height

    def render_lines(self, crop: Region) -> list[Strip]:
        top = self.styles.gutter.top
        self._painted = (max(0, crop.y - top), max(0, crop.bottom - top))
        if self.document.backlog:
            # Blocks scrolled into view before their turn: render them now; rows cached with
            # their estimate are dropped, and a new height is laid out with the next frame.
            # (Only those: the open block and new blocks are the next sync's work.)
            height = self.document.height
            first = self.document.render_window(*self._painted)
            if first is not None:
                self._repaint_from(first, layout=self.document.height != height)
        # The base style walks the ancestors: resolve it once per repaint, not once per row.
        style = self.rich_style
        self._base = (style, Strip.blank(self.content_size.width, style))
        try:
            return super().render_lines(crop)
        finally:
            self._base = None

    def render_line(self, y: int) -> Strip:
        style, blank = self._base or (self.rich_style, Strip.blank(self.size.width))
        line = self.document.line(y)
        if line is None:
            return blank
        row = self._rows.get(y)
        if row is None or row[0] is not line:
            row = self._rows[y] = (line, strip_of(line, self.document.styles))
        return row[1].apply_style(style)

    def on_click(self, event: events.Click) -> None:
        href = event.style.meta.get(HREF)
        if isinstance(href, str) and href:
            event.stop()
            self.post_message(self.LinkClicked(self, href))
