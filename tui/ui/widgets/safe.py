"""Untrusted text on the way to the screen.

Model, tool and error text is data: it reaches widgets only as ``rich.text.Text`` /
``textual.content.Content`` built from sanitized strings, never as markup. These helpers are
the one place the widgets get such text from.
"""

from __future__ import annotations

import re

from rich.text import Text

from tui.core.sanitize import sanitize, visible

__all__ = ["one_line", "plain", "shown"]

# What `visible` would rewrite, minus newline and tab.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def shown(text: str) -> str:
    """Make hidden characters visible but keep newlines and tabs (code, diffs, JSON).

    A file about to be written is shown as it will be written: an escape character or a bidi
    override appears as ``\\x1b`` / ``\\u202e`` instead of being stripped, so the user sees it.
    Stateless per character, so streamed chunks can be converted one by one.
    """
    if _HIDDEN.search(text) is None:
        return text
    return "\n".join(
        "\t".join(visible(part) for part in line.split("\t")) for line in text.split("\n")
    )


def one_line(text: str, limit: int = 300) -> str:
    """Sanitized, whitespace collapsed to single spaces, and cut to ``limit`` characters."""
    flat = " ".join(sanitize(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plain(text: str, style: str = "") -> Text:
    """A ``Text`` holding sanitized ``text`` literally (no markup is parsed)."""
    return Text(sanitize(text), style=style)
