"""Rich: Markdown over tokens already parsed."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.token import Token
    from rich.markdown import Markdown


# -- Rich: Markdown over tokens already parsed ---------------------------------------------------


def init_parsed_markdown(markdown: Markdown, tokens: list[Token], code_theme: str) -> None:
    """Set up ``markdown`` as ``rich.markdown.Markdown.__init__`` would, over parsed tokens.

    Rich's ``__init__`` builds a new ``MarkdownIt`` parser for every instance and parses the
    text itself; a streamed answer renders one instance per block, and a shared parser (with
    HTML off) has already made the tokens. So the subclass skips ``__init__`` and sets the
    attributes it would set (``markup`` is left empty: the tokens are the source).
    """
    markdown.markup = ""
    markdown.parsed = tokens
    markdown.code_theme = code_theme
    markdown.justify = None
    markdown.style = "none"
    markdown.hyperlinks = True  # links become styles; the renderer turns them into meta
    markdown.inline_code_lexer = None
    markdown.inline_code_theme = code_theme
