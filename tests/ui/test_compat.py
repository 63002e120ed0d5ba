"""The workarounds in tui.ui.compat: each internal is still there and each upstream behaviour
still needs its workaround. When one of these fails after an upgrade, check the workaround
again: adjust it, or remove it when upstream fixed the behaviour."""

from __future__ import annotations

import asyncio
import errno
import os
import re
import threading
from io import StringIO
from typing import Any

import pytest
from markdown_it import MarkdownIt
from rich.console import Console
from rich.markdown import Markdown
from textual import events
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.drivers import linux_driver
from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread
from textual.geometry import Size
from textual.reactive import Reactive, reactive
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import Static, TextArea

from tests.ui.scripted import count_parses
from tui.ui import compat
from tui.ui.compat import WORKAROUNDS, Workaround

SECRET = "sk-compat-test-0123456789"


@pytest.mark.parametrize("workaround", WORKAROUNDS, ids=lambda w: w.name)
def test_each_workaround_was_checked_against_the_installed_release(workaround: Workaround) -> None:
    assert callable(getattr(compat, workaround.name))
    installed = compat.installed_line(workaround.package)
    assert installed == workaround.checked, (
        f"{workaround.package} {installed} is installed; {workaround.name} was checked against "
        f"{workaround.checked}: check it again (still needed? until: {workaround.until})"
    )


def test_no_other_module_defines_a_workaround_here_unlisted() -> None:
    helpers = {"WORKAROUNDS", "Workaround", "installed_line", "watcher_count", "css_cache"}
    assert set(compat.__all__) - helpers == {w.name for w in WORKAROUNDS}


# -- forget_removed_styles ----------------------------------------------------------------------


class Colours(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("one", id="one")


async def test_textual_still_caches_styles_per_instance_and_forgetting_empties_it() -> None:
    cached = StylesCache.get_inner_outer
    assert hasattr(cached, "cache_clear") and hasattr(cached, "cache_info")
    async with Colours().run_test(size=(20, 4)) as pilot:
        await pilot.pause()
        assert cached.cache_info().currsize > 0  # type: ignore[attr-defined]
        await pilot.app.query_one("#one").remove()
        compat.forget_removed_styles()
        assert cached.cache_info().currsize == 0  # type: ignore[attr-defined]


# -- load_default_css ---------------------------------------------------------------------------


class Styled(Widget):
    DEFAULT_CSS = "Styled { height: 3; }"


async def _parses_at_first_mount(preload: bool, monkeypatch: pytest.MonkeyPatch) -> int:
    """How often the stylesheet was parsed while the first ``Styled`` mounted."""
    app = Colours()
    async with app.run_test(size=(20, 6)) as pilot:
        await pilot.pause()
        if preload:
            compat.load_default_css(app, Styled)
        parses = count_parses(app, monkeypatch)
        await app.mount(Styled())
        await pilot.pause()
        assert app.query_one(Styled).size.height == 3  # its default CSS applies either way
        return parses[0]


async def test_textual_still_parses_the_stylesheet_when_a_new_class_first_mounts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await _parses_at_first_mount(False, monkeypatch) == 1


async def test_a_class_whose_css_was_loaded_mounts_without_a_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await _parses_at_first_mount(True, monkeypatch) == 0


# -- lay_out_again -------------------------------------------------------------------------------


class Rows(ScrollView):
    """A view as tall as its rows (``height: auto``), like an edit's diff."""

    DEFAULT_CSS = "Rows { height: auto; }"

    def __init__(self, workaround: bool) -> None:
        super().__init__()
        self.workaround = workaround
        self.virtual_size = Size(10, 0)  # made empty: a layout request before it mounts

    def set_rows(self, count: int) -> None:
        self.virtual_size = Size(10, count)
        if self.workaround:
            compat.lay_out_again(self)


async def _height_after_rows_given_late(workaround: bool) -> int:
    """Mounted, laid out by a frame before its own idle step, then given 8 rows."""
    app = Colours()
    async with app.run_test(size=(20, 12)) as pilot:
        await pilot.pause()
        view = Rows(workaround)
        await app.mount(view)
        app.screen._refresh_layout()  # a frame drawn before the view handled its request
        view.set_rows(8)
        await pilot.pause()
        await pilot.pause()
        return view.size.height


async def test_textual_still_keeps_the_old_height_after_a_request_made_while_one_pends() -> None:
    assert await _height_after_rows_given_late(workaround=False) == 0


async def test_laid_out_again_a_view_takes_the_height_of_its_new_rows() -> None:
    assert await _height_after_rows_given_late(workaround=True) == 8


# -- lay_out_once --------------------------------------------------------------------------------


class Growing(App[None]):
    """A text that grows from one line to three (``height: auto``) inside a container."""

    CSS = "Static { height: auto; }"

    def compose(self) -> ComposeResult:
        yield Static("one", id="one")


async def _layouts_after_growth(once: bool) -> tuple[int, int]:
    """Screen layouts until still after the text grew, and its height then."""
    app = Growing()
    async with app.run_test(size=(20, 8)) as pilot:
        if once:
            compat.lay_out_once(app)
        await pilot.pause()
        screen = app.screen
        layouts = 0
        refresh_layout = screen._refresh_layout

        def counting(*args: Any, **kwargs: Any) -> None:
            nonlocal layouts
            layouts += 1
            refresh_layout(*args, **kwargs)

        screen._refresh_layout = counting  # type: ignore[method-assign]
        text = app.query_one("#one", Static)
        text.update("one\ntwo\nthree")
        await pilot.pause()
        await pilot.pause(0.05)
        return layouts, text.size.height


async def test_textual_still_lays_out_again_after_a_layout_that_changed_a_size() -> None:
    assert await _layouts_after_growth(once=False) == (2, 3)


async def test_laid_out_once_a_layout_that_changed_a_size_is_the_only_one() -> None:
    assert await _layouts_after_growth(once=True) == (1, 3)


async def test_an_app_that_did_not_ask_keeps_textuals_layouts() -> None:
    other = Growing()
    compat.lay_out_once(other)  # installed for the process, used by that app only
    assert await _layouts_after_growth(once=False) == (2, 3)


# -- repaint_pending ----------------------------------------------------------------------------


async def test_a_refreshed_widget_waits_for_the_next_refresh_in_the_screens_set() -> None:
    async with Colours().run_test(size=(20, 4)) as pilot:
        await pilot.pause()
        assert not compat.repaint_pending(pilot.app.screen)
        pilot.app.query_one("#one").refresh()
        for _ in range(1000):  # the widget hands its repaint to the screen when it is idle
            if compat.repaint_pending(pilot.app.screen):
                break
            await asyncio.sleep(0)
        assert compat.repaint_pending(pilot.app.screen)
        await pilot.pause()
        assert not compat.repaint_pending(pilot.app.screen)


# -- prune_closed_watchers -----------------------------------------------------------------------


class Bound(Static):
    flag: reactive[bool] = reactive(False)


class Holder(Widget):
    flag: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield Bound("bound").data_bind(Holder.flag)


class Binding(App[None]):
    def compose(self) -> ComposeResult:
        yield Holder()


async def test_textual_still_keeps_watchers_of_removed_widgets_and_pruning_drops_them() -> None:
    async with Binding().run_test(size=(20, 4)) as pilot:
        holder = pilot.app.query_one(Holder)
        for _ in range(3):
            holder.refresh(recompose=True)
            await pilot.pause()
        # One watcher per composed child, although only the last child is still mounted.
        assert compat.watcher_count(holder) >= 3
        dropped = compat.prune_closed_watchers(holder)
        assert dropped >= 2 and compat.watcher_count(holder) == 1


def test_watchers_of_an_object_textual_never_watched_are_none() -> None:
    assert compat.watcher_count(object()) == 0 and compat.prune_closed_watchers(object()) == 0


# -- set_scroll_range ----------------------------------------------------------------------------


class Scroller(ScrollView):
    pass


class Scrolling(App[None]):
    def compose(self) -> ComposeResult:
        yield Scroller()


def test_assigning_a_virtual_size_still_lays_the_screen_out() -> None:
    assert isinstance(Widget.virtual_size, Reactive)
    assert Widget.virtual_size._layout  # what set_scroll_range avoids


async def test_set_scroll_range_moves_the_range_and_the_scrollbars() -> None:
    async with Scrolling().run_test(size=(20, 6)) as pilot:
        view = pilot.app.query_one(Scroller)
        compat.set_scroll_range(view, Size(10, 50))
        assert view.virtual_size == Size(10, 50)
        assert view.vertical_scrollbar.window_virtual_size == 50
        await pilot.pause()
        assert view.max_scroll_y == 50 - view.scrollable_content_region.height


# -- crash_without_locals ------------------------------------------------------------------------


class Crashing(App[None]):
    def on_mount(self) -> None:
        key = SECRET  # a local of the failing frame, as an API key would be
        raise RuntimeError(f"boom {len(key)}")


class CrashingQuietly(Crashing):
    def _fatal_error(self) -> None:
        compat.crash_without_locals(self)


async def crash_text(app: App[Any], capsys: pytest.CaptureFixture[str]) -> str:
    """What the crash leaves on the terminal (Textual prints it to stderr on exit)."""
    capsys.readouterr()
    with pytest.raises(RuntimeError, match="boom"):
        async with app.run_test(size=(120, 40)):
            pass
    captured = capsys.readouterr()
    return captured.out + captured.err


async def test_textual_crash_screen_still_shows_locals_and_ours_does_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert callable(App._fatal_error)
    assert SECRET in await crash_text(Crashing(), capsys)  # upstream: locals shown
    ours = await crash_text(CrashingQuietly(), capsys)
    assert "RuntimeError" in ours and "boom" in ours
    assert SECRET not in ours


# -- init_parsed_markdown ------------------------------------------------------------------------


def test_parsed_markdown_sets_what_rich_markdown_init_sets() -> None:
    rich_made = Markdown("*x*", code_theme="default")
    ours = Markdown.__new__(Markdown)
    tokens = MarkdownIt().parse("*x*")
    compat.init_parsed_markdown(ours, tokens, "default")
    assert set(vars(ours)) == set(vars(rich_made))
    for name in (
        "code_theme",
        "justify",
        "style",
        "hyperlinks",
        "inline_code_lexer",
        "inline_code_theme",
    ):
        assert getattr(ours, name) == getattr(rich_made, name), name
    out = StringIO()
    Console(file=out, width=20, color_system=None).print(ours)
    assert re.sub(r"\s+", "", out.getvalue()) == "x"


# -- FooterKey -----------------------------------------------------------------------------------


def test_textual_footer_keys_still_start_compact_and_the_footer_not() -> None:
    """Why ``ChatFooter`` composes a ``FooterKey`` subclass: Textual's keys start compact and
    the footer binds its own ``compact`` (False) to each, a restyle per key when mounted."""
    from textual.widgets import Footer

    assert compat.FooterKey.compact._default is True
    assert Footer.compact._default is False


class GoneTerminal(StringIO):
    """A terminal whose writes fail the way a closed pseudo-terminal's do (or with ``err``)."""

    def __init__(self, err: int = errno.EIO) -> None:
        super().__init__()
        self.err = err

    def write(self, text: str) -> int:
        raise OSError(self.err, os.strerror(self.err))

    def fileno(self) -> int:
        return 2


def finished(call: Any, *args: Any) -> bool:
    """Whether ``call(*args)`` returns (in a thread of its own; a hung call leaves it alive)."""
    thread = threading.Thread(target=call, args=args, daemon=True)
    thread.start()
    thread.join(timeout=30)
    return not thread.is_alive()


def write_one_frame(writer: WriterThread) -> list[type[BaseException]]:
    """Start ``writer``, write a frame, wait for the thread to end: the errors that ended it."""
    errors: list[type[BaseException]] = []
    hook, threading.excepthook = threading.excepthook, lambda args: errors.append(args.exc_type)
    try:
        writer.start()
        writer.write("frame")
        writer.join(timeout=30)
    finally:
        threading.excepthook = hook
    assert not writer.is_alive()
    return errors


def test_textual_writer_thread_still_dies_on_a_failed_write() -> None:
    # Nothing empties its queue after that: the 31st frame blocks the app's loop.
    assert write_one_frame(WriterThread(GoneTerminal())) == [OSError]


def test_frames_to_a_gone_terminal_are_dropped_after_one_call(monkeypatch) -> None:
    monkeypatch.setattr(linux_driver, "WriterThread", WriterThread)  # restored after the test
    calls: list[str] = []
    compat.drop_frames_when_terminal_gone(lambda: calls.append("gone"))
    writer = linux_driver.WriterThread(GoneTerminal())
    writer.start()

    def frames() -> None:
        for _ in range(10 * MAX_QUEUED_WRITES):
            writer.write("frame")

    assert finished(frames)
    assert finished(writer.stop)
    assert calls == ["gone"]


def test_a_write_error_that_is_not_a_gone_terminal_is_not_a_hang_up(monkeypatch) -> None:
    monkeypatch.setattr(linux_driver, "WriterThread", WriterThread)
    calls: list[str] = []
    compat.drop_frames_when_terminal_gone(lambda: calls.append("gone"))
    assert write_one_frame(linux_driver.WriterThread(GoneTerminal(errno.ENOSPC))) == [OSError]
    assert calls == []


class Panics:
    """The app a driver reports to: what its input thread asked to run later."""

    def __init__(self) -> None:
        self.later: list[object] = []

    def panic(self, *renderables: object) -> None:
        raise AssertionError("only called later")

    def call_later(self, callback: object, *args: object) -> None:
        self.later.append(callback)


def input_thread_reading(monkeypatch, err: int) -> tuple[linux_driver.LinuxDriver, Panics]:
    """A Linux driver whose terminal has input but whose read fails with ``err``."""
    readable, writable = os.pipe()
    os.write(writable, b"x")
    os.close(writable)  # the byte stays readable
    real_read = os.read

    def read(fd: int, size: int) -> bytes:
        if fd == readable:
            raise OSError(err, os.strerror(err))
        return real_read(fd, size)

    monkeypatch.setattr(os, "read", read)
    app = Panics()
    driver = linux_driver.LinuxDriver.__new__(linux_driver.LinuxDriver)
    driver._app, driver._debug = app, False  # type: ignore[assignment]
    driver.fileno, driver.exit_event = readable, threading.Event()
    return driver, app


def upstream_input_thread() -> Any:
    """Textual's own input reader, even when an app run earlier in this process wrapped it
    (that wrapper's ``gone`` would hang up this very process)."""
    reader = linux_driver.LinuxDriver.run_input_thread
    return getattr(reader, "replaces", reader)


def test_textual_input_thread_still_panics_on_a_failed_read(monkeypatch) -> None:
    monkeypatch.setattr(linux_driver.LinuxDriver, "run_input_thread", upstream_input_thread())
    driver, app = input_thread_reading(monkeypatch, errno.EIO)
    driver._run_input_thread()
    os.close(driver.fileno)
    assert app.later == [app.panic]


@pytest.mark.parametrize(("err", "hang_up"), [(errno.EIO, True), (errno.EINVAL, False)])
def test_a_read_of_a_gone_terminal_is_a_hang_up_and_ends_the_input_thread(
    monkeypatch, err: int, hang_up: bool
) -> None:
    monkeypatch.setattr(
        linux_driver.LinuxDriver, "run_input_thread", upstream_input_thread()
    )  # unwrapped (an app run earlier in this worker may have wrapped it); restored after
    calls: list[str] = []
    compat.end_input_when_terminal_gone(lambda: calls.append("gone"))
    compat.end_input_when_terminal_gone(lambda: calls.append("twice"))  # wraps once only
    driver, app = input_thread_reading(monkeypatch, err)
    driver._run_input_thread()
    os.close(driver.fileno)
    assert (calls, app.later) == ((["gone"], []) if hang_up else ([], [app.panic]))


# -- run_own_key_binding -------------------------------------------------------------------------


class InOrderArea(TextArea):
    async def _on_key(self, event: events.Key) -> None:
        if await compat.run_own_key_binding(self, event.key):
            event.stop()
            event.prevent_default()


class Areas(App[None]):
    def __init__(self, area: TextArea) -> None:
        super().__init__()
        self.area = area

    def compose(self) -> ComposeResult:
        yield self.area


async def burst_text(area: TextArea) -> str:
    """The text after b, a, backspace, c queued at once (as after a busy moment)."""
    app = Areas(area)
    async with app.run_test(size=(30, 4)) as pilot:
        area.focus()
        await pilot.pause()
        for key in ("b", "a", "backspace", "c"):
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        for _ in range(4):
            await pilot.pause()
        return area.text


async def test_textual_still_runs_a_bound_key_after_the_key_typed_behind_it() -> None:
    assert await burst_text(TextArea()) == "ba"  # upstream: c inserted, then deleted
    assert await burst_text(InOrderArea()) == "bc"


# -- timers_keep_their_slots ----------------------------------------------------------------------


class _Target:
    """What a timer is for (it keeps a weak reference)."""


async def _slots_after_a_late_tick(run: Any, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The slots of a 1 s timer's first two ticks when the first tick takes 1.5 s (fake clock)."""
    from textual import _time, timer
    from textual.timer import EventTargetGone, Timer

    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds
        await asyncio.sleep(0)

    monkeypatch.setattr(_time, "get_time", lambda: clock[0])
    monkeypatch.setattr(timer, "sleep", sleep)
    slots: list[float] = []

    class Late(Timer):
        async def _tick(self, *, next_timer: float, count: int) -> None:
            slots.append(next_timer)
            clock[0] += 1.5
            if len(slots) == 2:
                raise EventTargetGone  # ends the timer's loop

    target = _Target()
    late = Late(target, 1.0)  # type: ignore[arg-type]
    await run(late)
    return slots


async def test_textual_timers_still_skip_to_the_second_slot_after_a_late_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from textual.timer import Timer

    compat.timers_keep_their_slots()
    upstream = getattr(Timer._run, "replaces", Timer._run)
    assert await _slots_after_a_late_tick(upstream, monkeypatch) == [1.0, 4.0]


async def test_a_timer_after_a_late_tick_ticks_at_the_next_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first tick ends at 2.5 s: the next is due at 3 s, not 4 s."""
    from textual.timer import Timer

    compat.timers_keep_their_slots()
    compat.timers_keep_their_slots()  # idempotent
    assert getattr(Timer._run, "replaces", None) is not None
    assert not getattr(Timer._run.replaces, "keeps_slots", False)
    assert await _slots_after_a_late_tick(Timer._run, monkeypatch) == [1.0, 3.0]


async def test_draw_now_draws_a_pending_update_without_waiting_for_the_timer() -> None:
    from textual.widgets import Static

    from tui.ui.compat import draw_now

    app: App[None] = App()
    async with app.run_test():
        frames: list[object] = []
        display = app._display

        def counted(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                frames.append(renderable)

        app._display = counted  # type: ignore[method-assign]
        with app.batch_update():  # mounted, not drawn
            await app.mount(Static("new"))
        assert frames == []
        draw_now(app.screen)  # no await: the timer cannot have run
        assert frames  # drawn (a layout and its repaint), not at the timer's next slot


async def test_draw_now_inside_a_batch_leaves_the_update_timer_running() -> None:
    """Textual's update, run inside a batch, pauses the screen's timer and draws nothing;
    the screen would then wait for its next message to draw what is pending."""
    from textual.widgets import Static

    from tui.ui.compat import draw_now

    app: App[None] = App()
    async with app.run_test() as pilot:
        await pilot.pause()
        with app.batch_update():
            await app.mount(Static("new"))
            app.screen._update_timer.resume()  # as a pending update leaves it
            draw_now(app.screen)
            assert app.screen._update_timer._active.is_set()
