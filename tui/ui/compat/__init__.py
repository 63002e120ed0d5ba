"""Every reach into Textual or Rich internals, in one package.

Each workaround below says what it fixes and what upstream change would let it go, and is
listed in ``WORKAROUNDS`` with the release line it was checked against. Each guards itself at
runtime (a missing internal makes it a no-op, never a crash), and ``tests/ui/test_compat.py``
fails when the internal it relies on moves or the upstream behaviour it works around changes,
and when a new Textual or Rich release line is installed: then each one is checked again and
kept, adjusted or removed. Nothing else in the project touches a private Textual or Rich name.

The modules, by what they work around: ``layout`` (sizes, layouts and when a screen is drawn),
``memory`` (what removed widgets keep alive), ``terminal`` (a terminal that went away, the
crash screen), ``keys`` (key bindings and timers in order with typing), ``rich_markdown``
(Markdown over parsed tokens), ``text_area`` (the prompt's theme styles), ``css_cache``
(parsed stylesheets kept between runs). Import them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.widgets._footer import FooterKey

from tui.ui.compat import css_cache
from tui.ui.compat.css_cache import CssCache
from tui.ui.compat.keys import run_own_key_binding, timers_keep_their_slots
from tui.ui.compat.layout import (
    RowsKeptWhenTaller,
    ScrollbarsKeptWhenSame,
    draw_now,
    lay_out_again,
    lay_out_once,
    load_default_css,
    repaint_pending,
    set_scroll_range,
)
from tui.ui.compat.memory import forget_removed_styles, prune_closed_watchers, watcher_count
from tui.ui.compat.rich_markdown import init_parsed_markdown
from tui.ui.compat.terminal import (
    crash_without_locals,
    drop_frames_when_terminal_gone,
    end_input_when_terminal_gone,
)
from tui.ui.compat.text_area import ThemeCssKept


@dataclass(frozen=True)
class Workaround:
    """One reach into a dependency's internals.

    Attributes:
        name: the function here that holds it.
        package: the distribution it reaches into.
        checked: the release line (``major.minor``) it was last checked against.
        until: what upstream change would let it go.
    """

    name: str
    package: str
    checked: str
    until: str


WORKAROUNDS = (
    Workaround(
        "lay_out_again",
        "textual",
        "8.2",
        "Widget.refresh(layout=True) counting a request while another is pending",
    ),
    Workaround(
        "load_default_css",
        "textual",
        "8.2",
        "a public way to load a widget class's default CSS before its first widget mounts",
    ),
    Workaround(
        "repaint_pending",
        "textual",
        "8.2",
        "a public way to know that a screen has widgets waiting for its next refresh",
    ),
    Workaround(
        "forget_removed_styles",
        "textual",
        "8.2",
        "StylesCache.get_inner_outer no longer an lru_cache on an instance method",
    ),
    Workaround(
        "prune_closed_watchers",
        "textual",
        "8.2",
        "textual.reactive drops the watchers of closed nodes when they close",
    ),
    Workaround(
        "set_scroll_range",
        "textual",
        "8.2",
        "a public way to change a scroll range without a layout of the screen",
    ),
    Workaround(
        "lay_out_once",
        "textual",
        "8.2",
        "Widget._size_updated not asking for a layout when a layout gives a widget its size",
    ),
    Workaround(
        "RowsKeptWhenTaller",
        "textual",
        "8.2",
        "Widget._size_updated marking only what a new size changes, not every line",
    ),
    Workaround(
        "ScrollbarsKeptWhenSame",
        "textual",
        "8.2",
        "Widget._scroll_update refreshing a scrollbar only when its sizes changed",
    ),
    Workaround(
        "ThemeCssKept",
        "textual",
        "8.2",
        "TextArea.render_lines applying its theme's CSS only when its styles changed",
    ),
    Workaround(
        "crash_without_locals",
        "textual",
        "8.2",
        "a public setting for the crash screen's traceback (show_locals)",
    ),
    Workaround(
        "FooterKey",
        "textual",
        "8.2",
        "textual.widgets exporting FooterKey (the footer's keys are a subclass of it)",
    ),
    Workaround(
        "drop_frames_when_terminal_gone",
        "textual",
        "8.2",
        "Textual's writer thread surviving a failed write (it dies, and its queue fills)",
    ),
    Workaround(
        "end_input_when_terminal_gone",
        "textual",
        "8.2",
        "Textual's input thread ending quietly when the terminal it reads is gone, not by panic",
    ),
    Workaround(
        "run_own_key_binding",
        "textual",
        "8.2",
        "a focused widget's own key bindings run in order with the keys it inserts "
        "(Textualize/textual#6605)",
    ),
    Workaround(
        "timers_keep_their_slots",
        "textual",
        "8.2",
        "Timer._run resuming at the first slot after a late tick, not the second",
    ),
    Workaround(
        "draw_now",
        "textual",
        "8.2",
        "a public way to draw a screen's pending update now, not at its timer's next slot",
    ),
    Workaround(
        "CssCache",
        "textual",
        "8.2",
        "a public way to keep a parsed stylesheet between runs (Stylesheet._parse_rules wrapped)",
    ),
    Workaround(
        "init_parsed_markdown",
        "rich",
        "15.0",
        "rich.markdown.Markdown accepting parsed tokens (or a parser) instead of text",
    ),
)


def installed_line(package: str) -> str:
    """The installed ``major.minor`` of ``package``."""
    from importlib.metadata import version  # 9 ms of imports: not at start-up

    return ".".join(version(package).split(".")[:2])


__all__ = [
    "WORKAROUNDS",
    "CssCache",
    "FooterKey",
    "RowsKeptWhenTaller",
    "ScrollbarsKeptWhenSame",
    "ThemeCssKept",
    "Workaround",
    "crash_without_locals",
    "css_cache",
    "draw_now",
    "drop_frames_when_terminal_gone",
    "end_input_when_terminal_gone",
    "forget_removed_styles",
    "init_parsed_markdown",
    "installed_line",
    "lay_out_again",
    "lay_out_once",
    "load_default_css",
    "prune_closed_watchers",
    "repaint_pending",
    "run_own_key_binding",
    "set_scroll_range",
    "timers_keep_their_slots",
    "watcher_count",
]
