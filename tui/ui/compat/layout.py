"""Textual: sizes, layouts, and when a screen is drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.geometry import Region, Size
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen
    from textual.scroll_view import ScrollView


def load_default_css(app: App[Any], *classes: type[Widget]) -> None:
    """Add the ``DEFAULT_CSS`` of widget classes not mounted yet to ``app``'s stylesheet, and
    parse it now.

    Textual adds a class's default CSS when its first widget mounts, and the stylesheet is
    parsed again then: an answer's first text block (``MarkdownView``) cost 3-5 ms on the
    loop just as the first answer began to stream. Called once the first screen is up.
    """
    stylesheet = app.stylesheet
    for cls in classes:
        node = cls.__new__(cls)  # not __init__: only its class is read
        for read_from, css, tie_breaker, scope in node._get_default_css():
            stylesheet.add_source(
                css, read_from=read_from, is_default_css=True, tie_breaker=tie_breaker, scope=scope
            )
    stylesheet.parse()


def lay_out_again(widget: Widget, *regions: Region) -> None:
    """Ask for a layout of ``widget`` that measures it again (its content's height changed),
    repainting ``regions`` of it (all of it if none).

    Textual keeps a widget's measured size under a key that includes a count of the widget's
    layout requests, and counts a request only when none is pending. A widget that asked for a
    layout when it was made, was laid out by a frame before its own idle step took that
    request, and then asked again (new content, a new height) kept the size measured before:
    an edit's diff given its rows right after it mounted (the call's arguments came in one
    burst) stayed 0 rows high for good, and an answer that grew twice around a frame's layout
    (under load) kept its end cut off. Counting the request while one is pending fixes it.
    """
    if getattr(widget, "_layout_required", False):
        updates = getattr(widget, "_layout_updates", None)
        if isinstance(updates, int):
            widget._layout_updates = updates + 1
    widget.refresh(*regions, layout=True)


def repaint_pending(screen: Screen[Any]) -> bool:
    """Whether ``screen`` has widgets waiting to be drawn by its next refresh (a key's echo):
    a widget's ``refresh`` reaches the screen once the widget has been idle."""
    return bool(getattr(screen, "_dirty_widgets", ()))


def draw_now(screen: Screen[Any]) -> None:
    """Draw ``screen``'s pending update (layout, repaint) now.

    Textual draws from a timer that is paused after each update and resumed when the screen
    is idle, at its next 60 Hz slot: up to 17 ms after the work that needs drawing, and the
    loop may take on other work meanwhile (a tool loop's next request). The update is the
    one that timer would run (``Screen._on_timer_update``). Inside another batch of updates
    nothing is drawn and the timer is left as it is: that update would pause it, and only
    the screen's next message would resume it, leaving the pending update undrawn."""
    update = getattr(screen, "_on_timer_update", None)
    if update is not None and screen.is_current and not getattr(screen.app, "_batch_count", 0):
        update()


# -- Textual: a new scroll range without a layout -----------------------------------------------


def set_scroll_range(widget: ScrollView, size: Size) -> None:
    """Set ``widget``'s virtual size without laying the whole screen out again.

    Assigning ``virtual_size`` runs its watcher, which lays out the screen: per frame for a
    code view that grows while a file streams into it. When only the scroll range changes
    (the caller knows the region and scrollbars stay), the value is set without its watcher
    and the scrollbars, which the watcher would have updated, are told the new range.
    """
    from textual.widget import Widget

    widget.set_reactive(Widget.virtual_size, size)
    widget.vertical_scrollbar.window_virtual_size = size.height
    if widget.show_horizontal_scrollbar:
        widget.horizontal_scrollbar.window_virtual_size = size.width
    widget.refresh()


# -- Textual: one layout, not two, when a layout changes sizes ----------------------------------

_LAYS_OUT_ONCE = "_chattui_lays_out_once"
"""The attribute of an app whose layouts record new sizes without asking for another."""


def lay_out_once(app: App[Any]) -> None:
    """Make a layout of ``app`` that gives widgets new sizes not ask for a second layout.

    Textual's layout records each widget's new size with ``Widget._size_updated``, which
    assigns the widget's ``virtual_size``: a reactive that asks for a layout. So a layout
    that changes any size (a tool card that grows, the result mounted under it, the turn
    around them) is followed by a second layout of the whole screen that changes nothing
    (the first already arranged everything with the new sizes): 5-15 ms each at 120x40,
    often between a call's completion and its result. Textual's own scroll-only layout
    records sizes without that request (``layout=False``); with this, ``app``'s full
    layouts do too. What still needs a layout asks for it itself: a scrollbar that appears
    or goes (``show_vertical_scrollbar`` is a layout reactive), new content (``refresh``).
    Other apps in the process keep Textual's behaviour. A no-op if the internal moved.
    """
    setattr(app, _LAYS_OUT_ONCE, True)
    textual = getattr(Widget, "_size_updated", None)
    if textual is None or getattr(textual, "lays_out_once", False):
        return

    def _size_updated(
        self: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        if layout and getattr(self.app, _LAYS_OUT_ONCE, False):
            layout = False
        return bool(textual(self, size, virtual_size, container_size, layout))

    _size_updated.lays_out_once = True  # type: ignore[attr-defined]
    setattr(Widget, "_size_updated", _size_updated)  # noqa: B010 (a private method)


# -- Textual: rendered rows kept when a widget grows ---------------------------------------------


class RowsKeptWhenTaller(Widget):
    """A widget whose rendered rows survive a new height at the same width.

    When a widget's size changes, Textual's ``Widget._size_updated`` marks every line dirty
    (``_set_dirty()``, and the ``virtual_size`` reactive's refresh, empty its styles cache),
    so each frame in which a streamed answer grows renders every row of it on screen again
    through the styles cache (padding, background, crop): about a millisecond a frame at
    120x40, however little changed. A row of a widget without a top or bottom gutter (border,
    padding) does not depend on the widget's height, so when only the height changes this
    does what ``_size_updated`` does without the invalidation: the new sizes are recorded
    (the virtual size without its watcher: this is a layout already). A subclass must
    refresh the lines that changed itself (``refresh(region, layout=True)``), which a
    ``MarkdownView`` does.
    """

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        old = getattr(self, "_size", None)
        gutter = self.styles.gutter
        if (
            isinstance(old, Size)
            and old.width == size.width
            and old.height != size.height
            and old.height
            and not (gutter.top or gutter.bottom or self.is_scrollable)
        ):
            self._layout_cache.clear()
            self._size = size
            self.set_reactive(Widget.virtual_size, virtual_size)
            self._container_size = container_size
            return True
        return super()._size_updated(size, virtual_size, container_size, layout)


# -- Textual: a scrollbar redrawn only when what it shows changed ---------------------------------


class ScrollbarsKeptWhenSame(Widget):
    """A scrollable widget whose scrollbars are drawn again only when they change.

    Each layout that gives a scrollable widget a new size, virtual size or container size
    (a tool card's code view, at every layout of a turn below or around it) runs Textual's
    ``Widget._scroll_update``, which sets the scrollbars' sizes and then refreshes them
    whether or not those changed: each refresh renders the bar again through Rich (1-2 ms
    for a 20-row bar) in a frame where it looks the same. The sizes are repaint reactives,
    so a bar whose size, position or range changed is refreshed by that change alone; this
    does what ``_scroll_update`` does without the unconditional refresh.
    """

    def _scroll_update(self, virtual_size: Size) -> None:
        self._refresh_scrollbars()
        width, height = self.container_size
        if self.show_vertical_scrollbar and self.styles.scrollbar_size_vertical:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = virtual_size.height
            bar.window_size = height - self.scrollbar_size_horizontal
        if self.show_horizontal_scrollbar and self.styles.scrollbar_size_horizontal:
            bar = self.horizontal_scrollbar
            bar.window_virtual_size = virtual_size.width
            bar.window_size = width - self.scrollbar_size_vertical
        self.scroll_x = self.validate_scroll_x(self.scroll_x)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)
