"""Untrusted text on the way to the screen.

Model, tool and error text is data: it reaches widgets only as ``rich.text.Text`` /
``textual.content.Content`` built from sanitized strings, never as markup. These helpers are
the one place the widgets get such text from.
"""

from __future__ import annotations

from rich.text import Text

from tui.core.sanitize import sanitize, visible_lines

__all__ = ["one_line", "plain", "shown"]

shown = visible_lines
"""Hidden characters made visible, newlines and tabs kept (``tui.core.sanitize.visible_lines``)."""


def one_line(text: str, limit: int = 300) -> str:
    """Sanitized, whitespace collapsed to single spaces, and cut to ``limit`` characters."""
    flat = " ".join(sanitize(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plain(text: str, style: str = "") -> Text:
    """A ``Text`` holding sanitized ``text`` literally (no markup is parsed)."""
    return Text(sanitize(text), style=style)
