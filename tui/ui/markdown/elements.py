"""Rich's Markdown with our code blocks, rules, tables and numbered items, over tokens parsed
once by a shared markdown-it parser (HTML off: tags show as text).

The heavy half of ``render``: markdown-it and Rich's Markdown and Syntax are imported when the
first block is rendered, not with the first screen.
"""

from __future__ import annotations

from typing import ClassVar

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments.lexer import Lexer
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

from tui.ui.compat import init_parsed_markdown
from tui.ui.markdown.lexers import lexer_for, plain

_parser: MarkdownIt | None = None
_code_themes: dict[str, PygmentsSyntaxTheme] = {}


def markdown_parser() -> MarkdownIt:
    """The shared parser (built on first use)."""
    global _parser
    if _parser is None:  # HTML off: tags in model text are shown, not dropped
        _parser = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])
    return _parser


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

    def __init__(self, lexer_name: str, markdown: ChatMarkdown) -> None:
        self.lexer_name = lexer_name
        self.markdown = markdown

    @classmethod
    def create(cls, markdown: RichMarkdown, token: Token) -> MarkdownElement:
        assert isinstance(markdown, ChatMarkdown)
        return cls((token.info or "").partition(" ")[0].lower(), markdown)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        theme = self.markdown.code_theme
        background = _code_theme(theme).get_background_style()
        inner = max(1, options.max_width - 2)
        pad, new_line = Segment(" ", background), Segment.line()
        lexer = lexer_for(self.lexer_name)
        if lexer is None:
            self.markdown.waiting = True  # drawn plain now, again once the lexer is loaded
            lexer = plain()
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


class ChatMarkdown(RichMarkdown):
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
