"""Code text: what a code view shows of a file and how it is coloured, shared by the live
``CodeView`` and the ``DiffView``.

Text reaches the terminal only through ``display`` (control characters and lone surrogates
as U+FFFD, offsets unchanged); tabs are expanded by cell width; Pygments lexers are found by
file name (``new_lexer``; ``warm_up`` pays their first-use costs off the UI thread) and run
without Pygments' input preprocessing (``lex``), so token offsets match the text; a token's
style follows the app's dark or light theme (``theme_name``, ``token_style``).
"""

from __future__ import annotations

import os.path
import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import find_lexer_class_for_filename
from pygments.lexers.special import TextLexer
from pygments.token import Text, Whitespace, _TokenType, is_token_subtype
from rich.cells import cell_len
from rich.style import Style
from rich.syntax import Syntax

WARM_UP_NAMES = ("warm_up.py",)
"""File names whose lexers `warm_up` prepares (Python: the demo's and the most common)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def display(text: str) -> str:
    """Replace characters that must not reach the terminal, keeping offsets unchanged."""
    return text if _CONTROL.search(text) is None else _CONTROL.sub("\ufffd", text)


def advance(column: int, text: str, tab_size: int) -> int:
    """Return the cell column after writing `text` from `column`, expanding tabs."""
    pieces = display(text).split("\t")
    for index, piece in enumerate(pieces):
        if index:
            column += tab_size - column % tab_size
        column += cell_len(piece)
    return column


def expand_tabs(text: str, column: int, tab_size: int) -> tuple[str, int]:
    """Expand tabs in `text` written from `column`; return the text and the end column."""
    out: list[str] = []
    for index, piece in enumerate(text.split("\t")):
        if index:
            spaces = tab_size - column % tab_size
            out.append(" " * spaces)
            column += spaces
        out.append(piece)
        column += cell_len(piece)
    return "".join(out), column


def line_pieces(
    line: str, start: int, starts: array[int], types: list[_TokenType]
) -> list[tuple[_TokenType | None, str]]:
    """Cut `line` (which begins at offset `start` of the lexed text) into typed pieces.

    Every character of the line is covered exactly once, whatever the lexer produced: gaps
    or out-of-order tokens only cost colour, never text.
    """
    end = start + len(line)
    count = len(starts)
    token = bisect_right(starts, start) - 1
    position = start
    pieces: list[tuple[_TokenType | None, str]] = []
    while position < end:
        while token + 1 < count and starts[token + 1] <= position:
            token += 1
        stop = min(end, starts[token + 1]) if token + 1 < count else end
        pieces.append((types[token] if token >= 0 else None, line[position - start : stop - start]))
        position = stop
    return pieces


@lru_cache(maxsize=256)
def _lexer_class(name: str) -> type[Lexer] | None:
    """The lexer class for a file's base name, or None (cached: see `warm_up`)."""
    lexer_class: type[Lexer] | None = find_lexer_class_for_filename(name)
    return lexer_class


def new_lexer(path: str) -> Lexer:
    lexer_class = _lexer_class(os.path.basename(path)) if path else None
    if lexer_class is None:
        return TextLexer()
    return lexer_class(stripnl=False, ensurenl=False)


def warm_up(names: Iterable[str] = WARM_UP_NAMES) -> None:
    """Pay highlighting's first-use costs now, off the UI thread (a thread worker at start-up).

    The first file-name lookup compiles every lexer's name patterns and reads the installed
    packages' metadata for plugins (26-75 ms), and a lexer class compiles its regular
    expressions when first instantiated (Python: ~20 ms). Both used to happen mid-stream,
    when a card learned its path; so did the code themes' style modules, imported when the
    first fence of an answer was drawn.
    """
    for name in names:
        for _ in lex(new_lexer(name), "x = 1\n"):
            pass
    for dark in (True, False):  # each code theme imports its Pygments style module on first
        Syntax.get_theme(theme_name(dark))  # use: 20-80 ms on the loop as a first fence drew


def lex(lexer: Lexer, text: str) -> Iterator[tuple[int, _TokenType, str]]:
    # get_tokens_unprocessed skips Pygments' input preprocessing (strip newlines, CRLF
    # rewriting), so token offsets match our text exactly.
    return iter(lexer.get_tokens_unprocessed(text))


def theme_name(dark: bool) -> str:
    """The Pygments theme for the app's dark or light theme."""
    return "monokai" if dark else "default"


@lru_cache(maxsize=1024)
def token_style(theme_name: str, token_type: _TokenType | None) -> Style:
    """How a token of ``token_type`` is drawn in ``theme_name`` (on the widget's background)."""
    if token_type is None or is_plain(token_type):
        return Style()  # plain text takes the widget's colour
    theme = Syntax.get_theme(theme_name)
    themed = theme.get_style_for_token(token_type)
    # The theme paints its own background on every token; keep the widget's.
    background = theme.get_background_style().bgcolor
    return Style(
        color=themed.color,
        bgcolor=None if themed.bgcolor == background else themed.bgcolor,
        bold=themed.bold,
        italic=themed.italic,
        underline=themed.underline,
    )


def is_plain(token_type: _TokenType) -> bool:
    """Whether a token is plain text or whitespace (drawn in the widget's own colour)."""
    return is_token_subtype(token_type, Text) or is_token_subtype(token_type, Whitespace)
