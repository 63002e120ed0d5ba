"""Streamed Markdown as one widget whose cost follows what changed and what is on screen.

Textual's ``Markdown`` makes a widget per block, list item and table cell, and every mount
re-lays them all out: a long answer cost seconds per frame. ``MarkdownView`` is one widget
that draws the lines of a ``MarkdownDocument`` (``document``: the source, its blocks and
their rendered lines) through the line API (``render_line``):

* An append is rendered with the next frame (at most one sync a frame), or at once by
  ``sync_now`` for callers that update once a frame. A sync renders the open block, the
  lines painted last and a screenful at the end (where the conversation is when it follows
  the output), and repaints only the lines that changed (``RowsKeptWhenTaller``).
* The rest (blocks that scrolled away before they were drawn, every block after a new width
  or theme) is rendered by a worker in slices of ``FRAME_BUDGET``, newest first, yielding to
  the event loop; while the text streams, the stream's frames come first (``DRAIN_IDLE``,
  ``DRAIN_STALLED``), and a new height is laid out at most every ``DRAIN_LAYOUT``. A block
  scrolled into view before its turn is rendered when it is painted.
* A fence is drawn plain until its lexer is loaded (in a thread, on first use: compiling
  one takes 5-60 ms), and drawn again once it came.

Untrusted text: Rich Markdown never parses console markup, so ``[bold]`` or
``[@click=app.quit]`` stay literal; control characters are shown as U+FFFD (callers sanitize
first); links are drawn styled but never as terminal hyperlinks (OSC 8): the target goes in
a style's meta, and a click posts ``LinkClicked`` for the owner to vet.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from time import perf_counter
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.worker import Worker

from tui.ui.compat import RowsKeptWhenTaller, lay_out_again
from tui.ui.markdown.document import MarkdownDocument, earliest
from tui.ui.markdown.render import HREF, Line, MarkdownTheme, lexers_loaded, strip_of
from tui.ui.pacing import let_others_run

__all__ = ["MarkdownView"]

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
        if not self._shown:
            self.refresh(layout=True)  # the layout renders, at its width
            return False
        width = self.content_size.width
        height, size = self.document.height, self.document.size
        first = self._sync_document(width, budget)
        if size != self._synced_size:
            self._synced_size, self._grew_at = size, perf_counter()
        backlog = self.document.backlog
        if self.document.height != height:
            self._layout_owed = True
            # Lines past the height laid out are repainted with the layout that shows them.
            self._stale_from = earliest(self._stale_from, min(height, self._laid_out))
        now = perf_counter()
        deferred = draining and (streaming or (backlog and now < self._layout_at))
        if self._layout_owed and not deferred:
            self._layout_owed = False
            self._layout_at = now + DRAIN_LAYOUT
            self._repaint_from(earliest(first, self._stale_from), layout=True)
        elif first is not None and first < height:
            self._repaint_from(first)
        return backlog or self.document.waiting

    @property
    def _shown(self) -> bool:
        """Whether the view has a width to render at (mounted, not hidden)."""
        return self.is_mounted and self.content_size.width > 0

    def _repaint_from(self, first: int | None, layout: bool = False) -> None:
        """Repaint the lines from ``first`` on (all if None), laying out when ``layout``.

        Only those: the rows above stay rendered (``RowsKeptWhenTaller``), so a frame of a
        growing answer costs the lines that changed, not every line on screen.
        """
        end = max(self.document.height, self._laid_out)
        if first is None:
            regions: tuple[Region, ...] = ()
        elif first < end:
            regions = (Region(0, first, self.size.width, end - first),)
        elif layout:
            regions = ()
        else:
            return
        if layout:
            self._laid_out, self._stale_from = self.document.height, None
            # Counted even while an earlier request is pending: a frame may have measured
            # this view in between (under load), and Textual would keep that measure.
            lay_out_again(self, *regions)
        else:
            self.refresh(*regions)

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
                    if not self._shown:
                        # Hidden (a collapsed reasoning block) or removed: a slice would only
                        # ask for a layout, the next one at once (a whole screen's layout in a
                        # loop, 100% CPU for good). Shown again, the view syncs (``on_show``).
                        break
                    self._slice(FRAME_BUDGET, draining=True)
                elif self.document.waiting and await lexers_loaded():
                    pass  # a lexer came: the blocks drawn plain are part of the backlog now
                else:
                    if self._layout_owed:  # the stream stopped before laying out its slices
                        self._slice(0.0)
                    break
        finally:
            self._drain = None

    def on_show(self) -> None:
        """Shown again (a block expanded): blocks left while hidden are rendered."""
        if self.document.backlog:
            self._request_sync()

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
