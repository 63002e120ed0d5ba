"""Every reach into Textual or Rich internals, in one place.

Each workaround below says what it fixes and what upstream change would let it go, and is
listed in ``WORKAROUNDS`` with the release line it was checked against. Each guards itself at
runtime (a missing internal makes it a no-op, never a crash), and ``tests/ui/test_compat.py``
fails when the internal it relies on moves or the upstream behaviour it works around changes,
and when a new Textual or Rich release line is installed: then each one is checked again and
kept, adjusted or removed. Nothing else in the project touches a private Textual or Rich name.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from textual._styles_cache import StylesCache
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from markdown_it.token import Token
    from rich.markdown import Markdown
    from textual.app import App
    from textual.screen import Screen
    from textual.scroll_view import ScrollView


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
        "init_parsed_markdown",
        "rich",
        "15.0",
        "rich.markdown.Markdown accepting parsed tokens (or a parser) instead of text",
    ),
)


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


def lay_out_again(widget: Widget) -> None:
    """Ask for a layout of ``widget`` that measures it again (its content's height changed).

    Textual keeps a widget's measured size under a key that includes a count of the widget's
    layout requests, and counts a request only when none is pending. A widget that asked for a
    layout when it was made, was laid out by a frame before its own idle step took that
    request, and then asked again (new content, a new height) kept the size measured before:
    an edit's diff given its rows right after it mounted (the call's arguments came in one
    burst) stayed 0 rows high for good. Counting the request while one is pending fixes it.
    """
    if getattr(widget, "_layout_required", False):
        updates = getattr(widget, "_layout_updates", None)
        if isinstance(updates, int):
            widget._layout_updates = updates + 1
    widget.refresh(layout=True)


def repaint_pending(screen: Screen[Any]) -> bool:
    """Whether ``screen`` has widgets waiting to be drawn by its next refresh (a key's echo):
    a widget's ``refresh`` reaches the screen once the widget has been idle."""
    return bool(getattr(screen, "_dirty_widgets", ()))


def draw_now(screen: Screen[Any]) -> None:
    """Draw ``screen``'s pending update (layout, repaint) now.

    Textual draws from a timer that is paused after each update and resumed when the screen
    is idle, at its next 60 Hz slot: up to 17 ms after the work that needs drawing, and the
    loop may take on other work meanwhile (a tool loop's next request). The update is the
    one that timer would run (``Screen._on_timer_update``)."""
    update = getattr(screen, "_on_timer_update", None)
    if update is not None and screen.is_current:
        update()


def installed_line(package: str) -> str:
    """The installed ``major.minor`` of ``package``."""
    from importlib.metadata import version  # 9 ms of imports: not at start-up

    return ".".join(version(package).split(".")[:2])


# -- Textual: rendered lines of removed widgets -------------------------------------------------


def forget_removed_styles() -> None:
    """Let go of the rendered lines Textual's ``get_inner_outer`` cache keeps alive.

    ``textual._styles_cache.StylesCache`` is the per-widget cache of rendered lines. Its
    method ``get_inner_outer`` is decorated with ``functools.lru_cache(1024)`` although it is
    an instance method, so every cache key holds the ``StylesCache`` of a widget that was drawn,
    and with it all that widget's rendered lines, long after the widget left the DOM: the last
    1,024 drawn widgets stay alive whatever they were. A chat session removes widgets all the
    time (old turns are pruned, the footer recomposes twice a turn): in the memory benchmark,
    714 dead ``StylesCache`` objects held 5.5 MB of heap at 250 turns. The cached function
    does not use the instance (it combines two colours), so emptying its cache is harmless:
    live widgets compute their two styles again at their next repaint.

    Call after removing widgets. A no-op if Textual no longer has that cache.
    """
    clear = getattr(getattr(StylesCache, "get_inner_outer", None), "cache_clear", None)
    if clear is not None:
        clear()


# -- Textual: watchers registered by closed widgets ---------------------------------------------

_WATCHERS = "__watchers"
"""Textual's registry of "global" watchers on a reactable (``textual.reactive._watch``): a dict
on the object, ``{attribute name: [(watching node, callback), ...]}``, under this literal name."""


def prune_closed_watchers(node: object) -> int:
    """Drop the watchers closed widgets registered on ``node``; returns how many were dropped.

    ``data_bind`` registers a watcher on the bound-from node. Textual drops the watchers of
    closed widgets (its ``_closing`` flag) only when the watched attribute changes, so a
    widget that recomposes children bound to an attribute that never changes (the footer's
    ``compact``) keeps every removed child alive: about 31 KB a recompose.
    """
    watchers: dict[str, list[tuple[object, object]]] = getattr(node, _WATCHERS, {})
    dropped = 0
    for entries in watchers.values():
        kept = [entry for entry in entries if not getattr(entry[0], "_closing", False)]
        dropped += len(entries) - len(kept)
        entries[:] = kept
    return dropped


def watcher_count(node: object) -> int:
    """Watchers registered on ``node`` (instrumentation for tests and benchmarks)."""
    watchers: dict[str, list[object]] = getattr(node, _WATCHERS, {})
    return sum(len(entries) for entries in watchers.values())


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


# -- Textual: the crash screen ------------------------------------------------------------------


def crash_without_locals(app: App[Any]) -> None:
    """Show an unhandled exception's traceback without the frames' local variables.

    Textual's crash screen (``App._fatal_error``) prints every frame's locals, and a local can
    hold an API key or request headers. An app overrides ``_fatal_error`` to call this.
    """
    from rich.traceback import Traceback

    app.bell()
    app.panic(Traceback(show_locals=False, width=None))


# -- Textual: a focused widget's own bindings, in order with typing ------------------------------


async def run_own_key_binding(widget: Widget, key: str) -> bool:
    """Run ``widget``'s own (non-priority) binding for ``key`` now; True if one ran.

    Textual inserts a printable key in the focused widget's ``_on_key``, but a bound key
    (backspace, delete, arrows, ctrl+k) goes on to the app, and its binding runs only there,
    after the event has passed through every ancestor's message queue. A key typed right
    behind it is by then already queued for the widget and is handled first: typing ``a``,
    backspace, ``c`` while the app was busy kept ``a`` and deleted ``c`` (seen under load, one
    key in a few hundred typed during a stream). Called from the widget's ``_on_key``, this
    runs the binding the app would find first for ``key`` (the widget's own, with the app's
    keymap applied) in the key's place in the widget's queue. A no-op if Textual's bindings
    map or keymap moved: then the key takes Textual's path.
    """
    own = getattr(widget, "_bindings", None)
    keymap = getattr(widget.app, "_keymap", None)
    if own is None or keymap is None:
        return False
    bindings = own.copy()
    if keymap:
        bindings.apply_keymap(keymap)
    for binding in bindings.key_to_bindings.get(key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            return True
    return False


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


# -- Textual: frames written to a terminal that is gone -----------------------------------------

GONE_ERRNOS = frozenset({errno.EIO, errno.EBADF, errno.ENXIO, errno.EPIPE})
"""A write to the terminal failing with one of these: the terminal is not coming back."""


class _GuardedTerminal:
    """The terminal file Textual's writer thread writes frames to, made to fail once.

    The first write or flush that fails because the terminal is gone calls ``gone``; from
    then on writes are dropped. Any other error is raised as before.
    """

    def __init__(self, file: IO[str], gone: Callable[[], None]) -> None:
        self._file = file
        self._gone = gone
        self.lost = False

    def write(self, text: str) -> None:
        self._guarded(self._file.write, text)

    def flush(self) -> None:
        self._guarded(self._file.flush)

    def fileno(self) -> int:
        return self._file.fileno()

    def _guarded(self, call: Callable[..., object], *args: str) -> None:
        if self.lost:
            return
        try:
            call(*args)
        except OSError as exc:
            if exc.errno not in GONE_ERRNOS:
                raise
            self.lost = True
            self._gone()


def drop_frames_when_terminal_gone(gone: Callable[[], None]) -> None:
    """Make a terminal that went away cost one ``gone()`` call, not a frozen app.

    Textual writes each frame through a writer thread (``textual.drivers._writer_thread``)
    with a queue of 30 writes. When the terminal goes away (its window closed, ssh dropped)
    the thread's write raises and the thread dies; the next 30 frames fill its queue, and the
    31st blocks the event loop for good: the app cannot even run its orderly stop (found: a
    TUI whose pseudo-terminal closed took 11 s to exit, its signal watchdog's grace). The
    Linux driver's writer is given a terminal file that calls ``gone`` on the first failed
    write and drops every write after it, so the thread keeps emptying its queue and the
    loop keeps running. A no-op if Textual's driver no longer has that writer.
    """
    try:
        from textual.drivers import linux_driver
        from textual.drivers._writer_thread import WriterThread
    except ImportError:  # Windows, or the modules moved
        return
    if getattr(linux_driver, "WriterThread", None) is not WriterThread:
        return  # moved, or already replaced

    class GuardedWriterThread(WriterThread):
        def __init__(self, file: IO[str]) -> None:
            super().__init__(_GuardedTerminal(file, gone))  # type: ignore[arg-type]

    setattr(linux_driver, "WriterThread", GuardedWriterThread)  # noqa: B010 (not exported)


def end_input_when_terminal_gone(gone: Callable[[], None]) -> None:
    """Make a terminal read that fails because the terminal is gone a hang-up, not a crash.

    Textual's input thread (``LinuxDriver.run_input_thread``) reads the terminal, and an
    error from that read reaches ``LinuxDriver._run_input_thread``, which makes it a crash
    (``App.panic``): exit status 1 and a traceback written to a terminal that is gone. When
    a pseudo-terminal's master closes, Linux wakes the reader before it hangs the terminal
    up, and a read in that window fails with EIO instead of seeing end-of-file: the app then
    exits 1, not 129 (made to happen in ``tests/faults/test_terminal.py``). The input
    thread is given a wrapper that calls ``gone`` for such an error and ends quietly; any
    other error is raised as before. A no-op if the driver no longer has that method.
    """
    try:
        from textual.drivers.linux_driver import LinuxDriver
    except ImportError:  # Windows, or the module moved
        return
    reader = getattr(LinuxDriver, "run_input_thread", None)
    if reader is None or getattr(reader, "ends_when_gone", False):
        return  # moved, or already wrapped

    def run_input_thread(driver: LinuxDriver) -> None:
        try:
            reader(driver)
        except OSError as exc:
            if exc.errno not in GONE_ERRNOS:
                raise
            gone()

    run_input_thread.ends_when_gone = True  # type: ignore[attr-defined]
    setattr(LinuxDriver, "run_input_thread", run_input_thread)  # noqa: B010 (a method)


def timers_keep_their_slots() -> None:
    """A timer that fell behind ticks at its next slot, not one slot later (all timers).

    Textual's ``Timer`` skips the slots it missed, but to the second one after now: after a
    tick longer than its interval (the screen's 60 Hz update drawing a stream's new lines, 10-25
    ms on a busy machine) the next waited 17-33 ms, and a key typed meanwhile waited for it with
    the loop idle (echo 55-75 ms while a Markdown answer streamed). Idempotent; call it before
    the app starts its timers (a running timer keeps the loop it started with).
    """
    from textual import _time, timer
    from textual.timer import EventTargetGone, Timer

    if getattr(Timer._run, "keeps_slots", False):
        return

    async def run(self: Timer) -> None:
        count = 0
        await self._active.wait()
        start = _time.get_time()
        while self._repeat is None or count <= self._repeat:
            now = _time.get_time()
            if self._skip and start + (count + 1) * self._interval < now:
                count = int((now - start) / self._interval)  # the next slot is after now
            next_timer = start + (count + 1) * self._interval
            # Looked up in Textual's module at each tick, as its own loop does (a test fakes it).
            await vars(timer)["sleep"](max(0.0, next_timer - _time.get_time()))
            count += 1
            await self._active.wait()
            if self._reset:
                start, count, self._reset = _time.get_time(), 0, False
                continue
            try:
                await self._tick(next_timer=next_timer, count=count)
            except EventTargetGone:
                break

    run.keeps_slots = True  # type: ignore[attr-defined]
    run.replaces = Timer._run  # type: ignore[attr-defined]  # upstream's, for the tests
    setattr(Timer, "_run", run)  # noqa: B010 (a method)


__all__ = [
    "WORKAROUNDS",
    "FooterKey",
    "RowsKeptWhenTaller",
    "Workaround",
    "crash_without_locals",
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
