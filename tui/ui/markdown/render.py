"""Rendering one Markdown block to lines: Rich's Markdown with our code blocks, tables and rules.

HTML is off (tags show as text), console markup is never parsed, links carry their target
in a style's meta instead of a terminal hyperlink, and a fence's lexer is loaded in a worker
thread on first use. Used by ``markdown.view``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from io import StringIO
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
from textual.strip import Strip

from tui.ui.compat import init_parsed_markdown

LEXER_CACHE = 128
"""Most lexers kept (fence languages come from model text)."""
HREF = "markdown-view-href"
"""Style meta key holding a link's target."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


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
_loading: dict[str, Future[Lexer]] = {}
"""Lexers loading in the worker thread, by name."""
_loader: ThreadPoolExecutor | None = None
_lexer_generation = 0
"""Lexers loaded in the worker so far: blocks drawn without their lexer are drawn again when
this changes (a view waiting for one awaits ``lexers_loaded``)."""
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
    global _loader
    if _loader is None:  # one thread: compiling regular expressions holds the GIL anyway
        _loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chattui-lexer")
    _loading[name] = _loader.submit(_load_in_thread, name)
    return None


def _load_lexer(name: str) -> Lexer:
    try:
        lexer: Lexer = get_lexer_by_name(name, stripnl=False)
    except Exception:  # noqa: BLE001 - ClassNotFound, or a broken plugin: plain text
        lexer = _PLAIN
    _lexers[name] = lexer
    return lexer


def lexer_generation() -> int:
    """Counts lexers loaded so far: a change means plain-drawn fences can be highlighted."""
    return _lexer_generation


def _load_in_thread(name: str) -> Lexer:
    global _lexer_generation
    lexer = _load_lexer(name)
    _lexer_generation += 1  # before leaving ``_loading``: not loading means the generation moved
    _loading.pop(name, None)
    return lexer


async def lexers_loaded() -> bool:
    """Wait until a lexer loading now has loaded; False at once if none is loading."""
    pending = list(_loading.values())
    if not pending:
        return False
    loop = asyncio.get_running_loop()
    loaded = asyncio.Event()

    def wake(_: object) -> None:  # in the worker thread (or here, if already done)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(loaded.set)

    for future in pending:
        future.add_done_callback(wake)
    await loaded.wait()
    return True


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
        init_parsed_markdown(self, tokens, code_theme)  # not Rich's: it would parse again
        self.waiting = False
        """Whether a code block was drawn without its lexer (still loading)."""


Line = tuple[str, tuple[int, ...]]
"""A rendered line: its text and its style runs (length, style id, length, style id...), the
ids in its document's ``StyleTable``.

Not a ``Strip`` nor a tuple of ``Segment`` s: a long answer has tens of thousands of lines, and
objects that may hold references are visited by every full pass of the garbage collector
(passes of 20-40 ms were seen mid-stream). A tuple of a string and ints is untracked by the
collector. Strips are made for the rows on screen only."""


class StyleTable:
    """The styles of rendered lines, by id (a ``Line`` holds ids, not styles).

    One table per document, not one for the process: a link's target is in its style (see
    ``_line``), so every distinct link makes a new style, and a table shared by all documents
    kept every link ever shown (about 650 bytes each) after its answer had left the screen.
    """

    __slots__ = ("_ids", "styles")

    def __init__(self) -> None:
        self.styles: list[Style] = [Style.null()]
        self._ids: dict[Style, int] = {Style.null(): 0}

    def __len__(self) -> int:
        return len(self.styles)

    def id_of(self, style: Style | None) -> int:
        """The id of ``style`` (0 for no style), added if new."""
        if style is None:
            return 0
        index = self._ids.get(style)
        if index is None:
            index = self._ids[style] = len(self.styles)
            self.styles.append(style)
        return index


def strip_of(line: Line, table: StyleTable) -> Strip:
    """The segments of a line, for drawing (``table``: the one its ids come from)."""
    text, runs = line
    styles = table.styles
    segments: list[Segment] = []
    position = 0
    for index in range(0, len(runs), 2):
        end = position + runs[index]
        segments.append(Segment(text[position:end], styles[runs[index + 1]]))
        position = end
    return Strip(segments)


def _line(segments: Iterable[Segment], table: StyleTable) -> Line:
    texts: list[str] = []
    runs: list[int] = []
    for segment in segments:
        text, style = segment.text, segment.style
        if segment.control or not text:
            continue
        if style is not None and style.link:  # no OSC 8: the target goes in meta
            style = style.update_link(None) + Style.from_meta({HREF: style.link})
        style_id = table.id_of(style)
        if runs and runs[-1] == style_id:
            runs[-2] += len(text)
        else:
            runs += (len(text), style_id)
        texts.append(text)
    return "".join(texts), tuple(runs)


def _lines(rendered: Iterable[list[Segment]], table: StyleTable) -> list[Line]:
    """Rendered lines, without the blank lines at either end."""
    lines = [_line(line, table) for line in rendered]
    start, end = 0, len(lines)
    while start < end and _blank(lines[start], table):
        start += 1
    while end > start and _blank(lines[end - 1], table):
        end -= 1
    return lines[start:end]


def _blank(line: Line, table: StyleTable) -> bool:
    text, runs = line
    return not text.strip() and all(table.styles[i].bgcolor is None for i in runs[1::2])


class MarkdownRenderer:
    """Renders Markdown sources to lines for one theme.

    Args:
        theme: styles and code theme.
        table: where the lines' style ids are kept (a new one if not given).
    """

    def __init__(self, theme: MarkdownTheme, table: StyleTable | None = None) -> None:
        self.theme = theme
        self.table = StyleTable() if table is None else table
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
        rendered = _lines(lines, self.table)
        if not rendered and source.strip():
            # Rich drew nothing (empty list items, quotes nested deeper than the width...):
            # the text is shown as it is rather than lost.
            rendered = _lines(
                self._console.render_lines(Text(source), options, pad=True), self.table
            )
        return rendered
