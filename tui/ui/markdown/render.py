"""Rendering one Markdown block to lines: Rich's Markdown with our code blocks, tables and rules.

HTML is off (tags show as text), console markup is never parsed, links carry their target
in a style's meta instead of a terminal hyperlink, and a fence's lexer is loaded in a worker
thread on first use (``lexers``). Used by ``markdown.document``. The Rich elements and the
markdown-it parser (``elements``) are imported when the first block renders: the first screen
shows no Markdown and does not wait for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from io import StringIO

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme
from textual.strip import Strip

from tui.ui.markdown.lexers import lexer_generation, lexers_loaded

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
        from tui.ui.markdown.elements import ChatMarkdown, markdown_parser

        try:
            markdown = ChatMarkdown(markdown_parser().parse(source), self.theme.code_theme)
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


__all__ = [
    "HREF",
    "Line",
    "MarkdownRenderer",
    "MarkdownTheme",
    "StyleTable",
    "lexer_generation",
    "lexers_loaded",
    "strip_of",
]
