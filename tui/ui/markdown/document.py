"""The model behind a ``MarkdownView``: Markdown source, its blocks and their rendered lines.

No Textual widget is involved: the view asks ``sync`` for what changed and draws ``line(y)``.

* ``BlockSplitter`` (``blocks``) cuts the source into top-level blocks as it arrives, a
  complete line at a time, O(len(fragment)) per append. Tables and tight lists have no blank
  lines, so they stay whole; a loose list (blank lines between items at column 0) is drawn as
  one list per item, numbered from each item's own number, and a link reference definition
  only applies within its block.
* ``MarkdownDocument`` renders a finished block once (``render``: Rich's Markdown, HTML off
  so tags show as text; our code blocks, tables and rules), at the content width, and keeps
  its lines; the open last block is rendered again when it changed, at most once a sync.
  Blocks in the windows asked for (what is on screen) and the open block come first; a block
  that scrolled away before it was drawn counts with an estimated height and is rendered
  later, newest first, in slices of a time budget (so a fast stream costs what is on screen,
  not what arrived). A new width or theme renders every block again once, in the same order
  (old lines stay meanwhile).
* The open block is previewed in pieces of about ``PIECE_CHARS`` (a fence piece is closed
  and reopened, a table piece repeats the header): full pieces are rendered once, so a long
  fence or table costs O(piece) a sync. A finished block is rendered whole, up to
  ``EXACT_CHARS``; a bigger one keeps its pieces (a huge table: one table per piece).
* A fence's lexer is loaded in a thread on first use; the fence is drawn plain until then,
  and its block is rendered again once the lexer came (``lexer_generation``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from heapq import heappop, heappush
from time import perf_counter

from tui.ui.markdown.blocks import FENCE_OPEN, TABLE_RULE, BlockSplitter
from tui.ui.markdown.render import (
    Line,
    MarkdownRenderer,
    MarkdownTheme,
    StyleTable,
    lexer_generation,
)

__all__ = ["MarkdownDocument", "earliest"]


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
        first = earliest(first, self._sync_open())
        if tail:
            first = earliest(first, self._render_window(max(0, self.height - tail), self.height))
        for top, bottom in windows:
            first = earliest(first, self._render_window(top, bottom))
        return earliest(first, self._render_backlog(deadline))

    def _render_backlog(self, deadline: float | None) -> int | None:
        """Render stale blocks, newest first, until ``deadline`` (None: all of them).

        Returns:
            The first line that may have changed, or None if none did.
        """
        lowest = None
        while self._todo and (deadline is None or perf_counter() < deadline):
            index = -heappop(self._todo)
            if not self._fresh[index]:
                self._render_block(index)
                lowest = index
        return None if lowest is None else self._relayout(lowest)

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
            first = earliest(first, self._relayout(stale[0]))
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


def earliest(a: int | None, b: int | None) -> int | None:
    """The lower of two line numbers, either of which may be None (nothing changed)."""
    return b if a is None else a if b is None else min(a, b)
