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
import re
import threading
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from heapq import heappop, heappush
from io import StringIO
from time import perf_counter
from typing import ClassVar

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.token import _TokenType
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import (
    HorizontalRule,
    ListItem,
    MarkdownElement,
    TableElement,
    TextElement,
)
from rich.markdown import Markdown as RichMarkdown
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.syntax import PygmentsSyntaxTheme, Syntax
from rich.table import Table
from rich.text import Text
from rich.theme import Theme
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import Worker

__all__ = ["BlockSplitter", "MarkdownDocument", "MarkdownView"]

PIECE_CHARS = 2_000
"""Size of a preview piece of the open block (rendered once when full)."""
EXACT_CHARS = 16_000
"""Largest block rendered whole when it ends; a bigger one keeps its preview pieces."""
PARTIAL_CHARS = 8_000
"""Most characters of an unfinished line previewed (its tail)."""
FRAME_BUDGET = 0.004
"""Seconds of rendering in one go (a sync, a slice of a backlog) before yielding."""
DRAIN_LAYOUT = 0.1
"""While a backlog is rendered, seconds between layouts of the growing text."""
DRAIN_IDLE = 0.1
"""Blocks off screen are rendered once the text has not grown for this many seconds (or is
finished): while it streams, its frames come first."""
LEXER_POLL = 0.05
"""Seconds between looks for a lexer loading in a thread."""
LEXER_CACHE = 128
"""Most lexers kept (fence languages come from model text)."""
HREF = "markdown-view-href"
"""Style meta key holding a link's target."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_FENCE_OPEN = re.compile(r"([ \t]*)(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*")
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
_TABLE_RULE = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")


# -- splitting --------------------------------------------------------------------------------


@dataclass
class _Cut:
    """Where a preview piece of the open block starts, with the context it needs."""

    line: int
    close_before: str = ""  # appended to the previous piece (a fence closer)
    prefix: str = ""  # prepended to this piece (the fence opener, a table's header)


class BlockSplitter:
    """Cuts Markdown into top-level blocks incrementally (see the module docstring).

    ``blocks`` holds the finished blocks' sources; ``pieces()`` gives the open block's
    preview pieces. Only complete lines are classified, so the result does not depend on
    how the text was cut into fragments.
    """

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.block_pieces: list[list[str] | None] = []
        """Per finished block: its pieces if bigger than ``EXACT_CHARS``, else None."""
        self._partial: list[str] = []  # fragments of the unfinished line
        self._reset()

    def _reset(self) -> None:
        self._lines: list[str] = []  # complete lines of the open block
        self._fence: tuple[str, int, bool, str] | None = None  # char, length, column 0, opener
        self._blanks = 0  # blank lines seen after the open block's last line
        self._cuts: list[_Cut] = [_Cut(0)]
        self._piece_chars = 0
        self._table: str | None = None  # header and rule of the table being read
        self._previous = ""

    def feed(self, text: str) -> None:
        """Take the next fragment (any size, cut anywhere): O(len(text))."""
        if "\n" not in text:
            if text:
                self._partial.append(text)
                if self._blanks and len(self._partial) == 1 and text[0] not in " \t":
                    self._end()
            return
        lines = text.split("\n")
        self._partial.append(lines[0])
        self._line("".join(self._partial))
        for line in lines[1:-1]:
            self._line(line)
        self._partial = [lines[-1]] if lines[-1] else []
        if self._blanks and self._partial and self._partial[0][0] not in " \t":
            self._end()  # a blank line, then column 0: the block is over, whatever follows

    def close(self) -> None:
        """The source ended: the unfinished line and the open block are finished."""
        partial = "".join(self._partial)
        self._partial = []
        if partial.strip():
            self._line(partial)
        self._end()

    def pieces(self) -> list[str]:
        """The open block's preview pieces; the last one holds the unfinished line."""
        partial = "".join(self._partial)
        if len(partial) > PARTIAL_CHARS:
            partial = partial[-PARTIAL_CHARS:]
        return self._pieces(partial if partial.strip() else "")

    def _pieces(self, partial: str = "") -> list[str]:
        lines, cuts = self._lines, self._cuts
        out: list[str] = []
        for index, cut in enumerate(cuts):
            last = index + 1 == len(cuts)
            body = "\n".join(lines[cut.line : len(lines) if last else cuts[index + 1].line])
            if last and partial:
                gap = "\n" * (self._blanks + 1) if body else ""
                body = f"{body}{gap}{partial}"
            if body:
                out.append(cut.prefix + body + ("" if last else cuts[index + 1].close_before))
        return out

    def _line(self, line: str) -> None:
        fence = self._fence
        if fence is not None:
            closing = _FENCE_CLOSE.fullmatch(line)
            if closing and closing[1][0] == fence[0] and len(closing[1]) >= fence[1]:
                self._fence = None
                self._add(line)
                if fence[2]:
                    self._end()
            else:
                self._add(line)
            return
        if not line.strip():
            if self._lines:
                self._blanks += 1
            self._table = None
            return
        opening = _FENCE_OPEN.fullmatch(line)
        if opening and opening[2][0] == "`" and "`" in opening[3]:
            opening = None  # a backtick fence's info string has no backtick
        heading = _HEADING.match(line) is not None
        alone = heading or (opening is not None and not opening[1])
        if self._blanks:
            if line[0] in " \t" and not alone:  # an indented line continues the block
                for _ in range(self._blanks):
                    self._add("")
            else:
                self._end()
            self._blanks = 0
        elif alone:
            self._end()
        if opening is not None:
            self._fence = (opening[2][0], len(opening[2]), not opening[1], line.lstrip())
        self._add(line)
        if heading:
            self._end()

    def _add(self, line: str) -> None:
        """Append a line to the open block; start a new preview piece when one is full."""
        if self._fence is None:
            if "|" in line and "|" in self._previous and _TABLE_RULE.fullmatch(line):
                self._table = f"{self._previous}\n{line}\n"
            elif "|" not in line:
                self._table = None
        self._previous = line
        self._lines.append(line)
        self._piece_chars += len(line) + 1
        if self._piece_chars >= PIECE_CHARS:
            self._piece_chars = 0
            cut = _Cut(len(self._lines))
            if self._fence is not None:
                char, length, _, opener = self._fence
                cut.close_before, cut.prefix = "\n" + char * length, opener + "\n"
            elif self._table is not None:
                cut.prefix = self._table
            self._cuts.append(cut)

    def _end(self) -> None:
        if self._lines:
            source = "\n".join(self._lines)
            self.blocks.append(source)
            self.block_pieces.append(None if len(source) <= EXACT_CHARS else self._pieces())
        self._reset()


# -- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkdownTheme:
    """What rendered strips depend on besides the source and the width.

    Args:
        styles: Rich theme styles by name (``markdown.h1``, ``markdown.code``...).
        code_theme: Pygments style for code blocks.
    """

    styles: tuple[tuple[str, Style], ...] = ()
    code_theme: str = "monokai"


_parser: MarkdownIt | None = None
_lexers: dict[str, Lexer] = {}
_PLAIN = TextLexer()
_loading: set[str] = set()
_lexer_generation = 0
"""Lexers loaded in threads so far: blocks drawn without their lexer are drawn again when
this changes (views waiting for one poll it)."""
_code_themes: dict[str, PygmentsSyntaxTheme] = {}


def _markdown_parser() -> MarkdownIt:
    global _parser
    if _parser is None:  # HTML off: tags in model text are shown, not dropped
        _parser = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])
    return _parser


def _lexer(name: str) -> Lexer | None:
    """The lexer for a fence's language; None while it loads.

    The first use of a language compiles its lexer's regular expressions (5-60 ms: more than
    a frame), so with an event loop running it is loaded in a thread, and blocks drawn without
    it are drawn again once it is there (see ``MarkdownDocument``).
    """
    lexer = _lexers.get(name)
    if lexer is not None or name in _loading:
        return lexer
    if not name or len(_lexers) >= LEXER_CACHE:  # names come from model text: a bound
        return _PLAIN
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no event loop to keep responsive (tests, a script): load it now
        return _load_lexer(name)
    _loading.add(name)
    threading.Thread(target=_load_in_thread, args=(name,), daemon=True).start()
    return None


def _load_lexer(name: str) -> Lexer:
    try:
        lexer: Lexer = get_lexer_by_name(name, stripnl=False)
    except Exception:  # noqa: BLE001 - ClassNotFound, or a broken plugin: plain text
        lexer = _PLAIN
    _lexers[name] = lexer
    return lexer


def _load_in_thread(name: str) -> None:
    global _lexer_generation
    _load_lexer(name)
    _loading.discard(name)
    _lexer_generation += 1


def _code_theme(name: str) -> PygmentsSyntaxTheme:
    theme = _code_themes.get(name)
    if theme is None:
        syntax_theme = Syntax.get_theme(name)
        assert isinstance(syntax_theme, PygmentsSyntaxTheme)
        theme = _code_themes[name] = syntax_theme
    return theme


_token_styles: dict[tuple[str, _TokenType], Style] = {}


def _token_style(theme_name: str, token_type: _TokenType) -> Style:
    style = _token_styles.get((theme_name, token_type))
    if style is None:
        theme = _code_theme(theme_name)
        style = theme.get_background_style() + theme.get_style_for_token(token_type)
        style = _token_styles[(theme_name, token_type)] = style
    return style


def _code_lines(code: str, lexer: Lexer, theme_name: str) -> list[list[Segment]]:
    """Highlighted lines of ``code``, tabs expanded (a lexer failure costs colour only)."""
    try:
        tokens = list(lexer.get_tokens(code))
    except Exception:  # noqa: BLE001
        tokens = [(_TokenType(), code)]
    lines: list[list[Segment]] = [[]]
    for token_type, value in tokens:
        style = _token_style(theme_name, token_type)
        for index, part in enumerate(value.split("\n")):
            if index:
                lines.append([])
            if part:
                lines[-1].append(Segment(part, style))
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    for index, line in enumerate(lines):
        if any("\t" in text for text, _, _ in line):
            lines[index] = _expand_tabs(line)
    return lines


def _expand_tabs(line: list[Segment], tab_size: int = 4) -> list[Segment]:
    column = 0
    out: list[Segment] = []
    for text, style, _ in line:
        pieces = text.split("\t")
        for index, piece in enumerate(pieces):
            if index:
                spaces = tab_size - column % tab_size
                out.append(Segment(" " * spaces, style))
                column += spaces
            if piece:
                out.append(Segment(piece, style))
                column += cell_len(piece)
    return out


class _CodeBlock(TextElement):
    """A fenced or indented code block: highlighted, folded to the width, on the theme's
    background. Drawn here rather than by Rich's ``Syntax`` (4x slower on small blocks: it
    looks the lexer up and word-wraps through ``Text`` on every render)."""

    def __init__(self, lexer_name: str, markdown: _Markdown) -> None:
        self.lexer_name = lexer_name
        self.markdown = markdown

    @classmethod
    def create(cls, markdown: RichMarkdown, token: Token) -> MarkdownElement:
        assert isinstance(markdown, _Markdown)
        return cls((token.info or "").partition(" ")[0].lower(), markdown)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        theme = self.markdown.code_theme
        background = _code_theme(theme).get_background_style()
        inner = max(1, options.max_width - 2)
        pad, new_line = Segment(" ", background), Segment.line()
        lexer = _lexer(self.lexer_name)
        if lexer is None:
            self.markdown.waiting = True  # drawn plain now, again once the lexer is loaded
            lexer = _PLAIN
        for line in _code_lines(str(self.text), lexer, theme):
            length = Segment.get_line_length(line)
            rows = [line] if length <= inner else Segment.divide(line, range(inner, length, inner))
            for row in rows:
                yield pad
                yield from row
                yield Segment(" " * (inner - Segment.get_line_length(row) + 1), background)
                yield new_line


class _Rule(HorizontalRule):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Rule(style=console.get_style("markdown.hr", default="none"), characters="─")


class _Table(TableElement):
    """A table drawn directly when every cell fits on one line (Rich's ``Table`` measures
    and wraps every cell: 10x slower); through ``Table`` otherwise."""

    def _rows(self, console: Console) -> list[list[Text]]:
        rows: list[list[Text]] = []
        if self.header is not None and self.header.row is not None:
            header = []
            for cell in self.header.row.cells:
                text = cell.content.copy()
                text.stylize(console.get_style("markdown.table.header", default="none"))
                header.append(text)
            rows.append(header)
        if self.body is not None:
            rows += [[cell.content for cell in row.cells] for row in self.body.rows]
        return rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = self._rows(console)
        columns = max(map(len, rows), default=0)
        widths = [0] * columns
        for row in rows:
            for index, cell in enumerate(row):
                widths[index] = max(widths[index], cell.cell_len)
        flat = all(
            "\n" not in cell.plain and "\t" not in cell.plain for row in rows for cell in row
        )
        if not columns or not flat or sum(widths) + 3 * columns + 1 > options.max_width:
            yield from self._rich_table(rows, bool(self.header and self.header.row))
            return
        border = console.get_style("markdown.table.border", default="none")
        yield from self._edge(widths, ("╭", "┬", "╮"), border)
        for number, row in enumerate(rows):
            if number == 1 and self.header is not None and self.header.row is not None:
                yield from self._edge(widths, ("├", "┼", "┤"), border)
            yield Segment("│", border)
            for index, width in enumerate(widths):
                cell = row[index] if index < len(row) else Text()
                space = width - cell.cell_len
                left = {"right": space, "center": space // 2}.get(cell.justify or "", 0)
                yield Segment(" " * (left + 1))
                yield from cell.render(console)
                yield Segment(" " * (space - left + 1))
                yield Segment("│", border)
            yield Segment.line()
        yield from self._edge(widths, ("╰", "┴", "╯"), border)

    @staticmethod
    def _edge(widths: list[int], corners: tuple[str, str, str], style: Style) -> RenderResult:
        left, middle, right = corners
        yield Segment(left + middle.join("─" * (w + 2) for w in widths) + right, style)
        yield Segment.line()

    @staticmethod
    def _rich_table(rows: list[list[Text]], header: bool) -> RenderResult:
        table = Table(box=box.ROUNDED, style="markdown.table.border", show_header=header)
        for column in rows[0] if rows and header else range(max(map(len, rows), default=0)):
            table.add_column(column if isinstance(column, Text) else "")
        for row in rows[1:] if header else rows:
            table.add_row(*row)
        yield table


class _ListItem(ListItem):
    """A list item; numbered ones as "1." (Rich draws the bare number)."""

    def render_number(
        self, console: Console, options: ConsoleOptions, number: int, last_number: int
    ) -> RenderResult:
        width = len(str(last_number)) + 3
        lines = console.render_lines(
            self.elements, options.update(width=max(1, options.max_width - width)), style=self.style
        )
        style = console.get_style("markdown.item.number", default="none")
        numeral, padding = Segment(f"{number}.".rjust(width - 1) + " ", style), Segment(" " * width)
        for index, line in enumerate(lines):
            yield numeral if index == 0 else padding
            yield from line
            yield Segment.line()


class _Markdown(RichMarkdown):
    """Rich's Markdown over tokens parsed by the shared parser (its own builds a parser
    per instance), with our code blocks, rules, tables and numbered items."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **RichMarkdown.elements,
        "fence": _CodeBlock,
        "code_block": _CodeBlock,
        "hr": _Rule,
        "table_open": _Table,
        "list_item_open": _ListItem,
    }

    def __init__(self, tokens: list[Token], code_theme: str) -> None:  # noqa: D107
        self.markup = ""
        self.parsed = tokens
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = True  # links become styles; ``_line`` turns them into meta
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme
        self.waiting = False
        """Whether a code block was drawn without its lexer (still loading)."""


Line = tuple[str, tuple[int, ...]]
"""A rendered line: its text and its style runs (length, style id, length, style id...).

Not a ``Strip`` nor a tuple of ``Segment`` s: a long answer has tens of thousands of lines, and
objects that may hold references are visited by every full pass of the garbage collector
(passes of 20-40 ms were seen mid-stream). A tuple of a string and ints is untracked by the
collector. Strips are made for the rows on screen only."""

_styles: list[Style] = [Style.null()]
_style_ids: dict[Style, int] = {Style.null(): 0}


def _style_id(style: Style | None) -> int:
    if style is None:
        return 0
    index = _style_ids.get(style)
    if index is None:
        index = _style_ids[style] = len(_styles)
        _styles.append(style)
    return index


def _strip(line: Line) -> Strip:
    """The segments of a line, for drawing."""
    text, runs = line
    segments: list[Segment] = []
    position = 0
    for index in range(0, len(runs), 2):
        end = position + runs[index]
        segments.append(Segment(text[position:end], _styles[runs[index + 1]]))
        position = end
    return Strip(segments)


def _line(segments: Iterable[Segment]) -> Line:
    texts: list[str] = []
    runs: list[int] = []
    for segment in segments:
        text, style = segment.text, segment.style
        if segment.control or not text:
            continue
        if style is not None and style.link:  # no OSC 8: the target goes in meta
            style = style.update_link(None) + Style.from_meta({HREF: style.link})
        style_id = _style_id(style)
        if runs and runs[-1] == style_id:
            runs[-2] += len(text)
        else:
            runs += (len(text), style_id)
        texts.append(text)
    return "".join(texts), tuple(runs)


def _lines(rendered: Iterable[list[Segment]]) -> list[Line]:
    """Rendered lines, without the blank lines at either end."""
    lines = [_line(line) for line in rendered]
    start, end = 0, len(lines)
    while start < end and _blank(lines[start]):
        start += 1
    while end > start and _blank(lines[end - 1]):
        end -= 1
    return lines[start:end]


def _blank(line: Line) -> bool:
    text, runs = line
    return not text.strip() and all(_styles[i].bgcolor is None for i in runs[1::2])


class MarkdownRenderer:
    """Renders Markdown sources to lines for one theme.

    Args:
        theme: styles and code theme.
    """

    def __init__(self, theme: MarkdownTheme) -> None:
        self.theme = theme
        self.waiting = False
        self._console = Console(
            file=StringIO(),
            width=80,
            color_system="truecolor",
            force_terminal=True,
            legacy_windows=False,
            markup=False,
            emoji=False,
            highlight=False,
            theme=Theme(dict(theme.styles)),
        )

    def render(self, source: str, width: int) -> list[Line]:
        """``source`` rendered at ``width`` cells (never raises).

        ``waiting`` tells whether a code block was drawn without its lexer (still loading).
        """
        self.waiting = False
        width = max(1, width)
        if _CONTROL.search(source) is not None:
            source = _CONTROL.sub("\ufffd", source)
        options = self._console.options.update(width=width, height=None)
        try:
            markdown = _Markdown(_markdown_parser().parse(source), self.theme.code_theme)
            lines = self._console.render_lines(markdown, options, pad=True)
            self.waiting = markdown.waiting
        except Exception:  # noqa: BLE001 - whatever the text, show it rather than fail
            lines = []
        rendered = _lines(lines)
        if not rendered and source.strip():
            # Rich drew nothing (empty list items, quotes nested deeper than the width...):
            # the text is shown as it is rather than lost.
            rendered = _lines(self._console.render_lines(Text(source), options, pad=True))
        return rendered


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
        self.renderer = MarkdownRenderer(MarkdownTheme())
        self._parts: list[str] = []
        self._rendered: list[list[Line] | None] = []  # per finished block (maybe stale)
        self._estimates: list[int] = []  # height of a block never rendered
        self._fresh = bytearray()  # 1: rendered for the current width, theme and lexers
        self._todo: list[int] = []  # heap of -index of blocks maybe not fresh
        self._waiting: set[int] = set()  # blocks drawn without their lexer
        self._starts: list[int] = []  # first line of each block
        self._height = 0  # lines of the finished blocks
        self._generation = _lexer_generation
        self._open: list[_Piece] = []  # the open block's preview pieces
        self._previews: dict[str, _Piece] = {}  # the previous sync's (a block's last preview)
        self._open_lines: list[Line] = []
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
            or (self.waiting and self._generation != _lexer_generation)
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

    def _invalidate(self, width: int, theme: MarkdownTheme) -> None:
        """A new width or theme makes every block stale; a loaded lexer, the plain ones."""
        if theme != self.renderer.theme or width != self._width:
            self.renderer = MarkdownRenderer(theme)
            self._width = width
            self._fresh = bytearray(len(self._rendered))
            self._todo = [-index for index in range(len(self._rendered) - 1, -1, -1)]
            self._waiting.clear()
            self._open, self._open_lines, self._previews = [], [], {}
        elif self._generation != _lexer_generation:
            for index in self._waiting:
                self._fresh[index] = 0
                heappush(self._todo, -index)
            self._waiting.clear()
            self._open = [piece for piece in self._open if not piece.waiting]
        self._generation = _lexer_generation

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
        old = self._open
        if len(old) == len(sources) and all(
            piece.source == source for piece, source in zip(old, sources, strict=True)
        ):
            return None
        self._open = [
            old[index]
            if index < len(old) and old[index].source == source
            # A new preview piece, or the last one (it grew): rendered again.
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
    if _FENCE_OPEN.fullmatch(lines[0]):
        lines = lines[1:-1] or [""]
    elif len(lines) > 1 and "|" in lines[1] and _TABLE_RULE.fullmatch(lines[1]):
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


class MarkdownView(Widget):
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
        """The text is complete: its last block is rendered for good."""
        self.document.finish()
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

    def _slice(self, budget: float, draining: bool = False) -> bool:
        """One sync; returns whether blocks still wait to be rendered.

        While draining, a new height is laid out at most every ``DRAIN_LAYOUT`` seconds: each
        layout repaints the whole screen, which would take the time the slices need.
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
        self._layout_owed |= self.document.height != height
        now = perf_counter()
        if self._layout_owed and not (backlog and draining and now < self._layout_at):
            self._layout_owed = False
            self._layout_at = now + DRAIN_LAYOUT
            self.refresh(layout=True)
        elif first is not None and first < height:
            top = self.styles.gutter.top
            self.refresh(Region(0, top + first, self.outer_size.width, height - first))
        return backlog or self.document.waiting

    async def _drain_backlog(self) -> None:
        """Render blocks off screen in slices, and blocks drawn plain once their lexer came."""
        try:
            while True:
                if not self.document.finished and perf_counter() - self._grew_at < DRAIN_IDLE:
                    # Text is streaming: its frames come first, the backlog gets a slice now
                    # and then (so a slow stream's blocks are rendered as they scroll away).
                    await asyncio.sleep(DRAIN_IDLE)
                    if self.document.backlog:
                        self._slice(FRAME_BUDGET, draining=True)
                elif self.document.backlog:
                    await asyncio.sleep(0)
                    self._slice(FRAME_BUDGET, draining=True)
                elif self.document.waiting:
                    await asyncio.sleep(LEXER_POLL)
                else:
                    break
        finally:
            self._drain = None

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
        if self.document.width and self.document.backlog:
            # Blocks scrolled into view before their turn: render them now; rows cached with
            # their estimate are dropped, and a new height is laid out with the next frame.
            height = self.document.height
            width, theme = self.document.width, self.markdown_theme
            if self.document.sync(width, theme, 0.0, [self._painted]) is not None:
                self.refresh(layout=self.document.height != height)
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
            row = self._rows[y] = (line, _strip(line))
        return row[1].apply_style(style)

    def on_click(self, event: events.Click) -> None:
        href = event.style.meta.get(HREF)
        if isinstance(href, str) and href:
            event.stop()
            self.post_message(self.LinkClicked(self, href))
