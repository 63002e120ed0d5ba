"""Tests for the live code view (tui/ui/widgets/code_view.py), driven headless with Pilot."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexers import get_lexer_for_filename
from pygments.token import Keyword, Text, Whitespace
from rich.style import Style
from rich.syntax import Syntax
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip

from tests.support.spy import spy
from tests.ui.scripted import wait_for
from tui.ui import compat
from tui.ui.widgets import code_text
from tui.ui.widgets import code_view as code_view_module
from tui.ui.widgets.code_view import CONTEXT_LINES, GUESS_LINES, LONG_LINE, CodeView

SAMPLE = '''"""Tiny module."""

import os


class Greeter:
    """Says hello."""

    def greet(self, name: str) -> str:
        # Build the greeting.
        return f"Hello, {name}!" * 2
'''

STRING_COLOUR = "#e6db74"  # monokai String
KEYWORD_COLOUR = "#66d9ef"  # monokai Keyword


class Host(App[None]):
    """A tiny app holding one CodeView of a fixed height."""

    CSS = "CodeView { height: 20; }"

    def __init__(self, view: CodeView | None = None) -> None:
        super().__init__()
        self.view = view or CodeView()

    def compose(self) -> ComposeResult:
        yield self.view


def rows(view: CodeView) -> list[str]:
    return [view.render_line(y).text for y in range(view.size.height)]


def segment_colour(strip: Strip, text: str) -> str | None:
    """Hex colour of the first segment whose text is exactly `text`."""
    for segment in strip:
        if segment.text == text:
            style = segment.style or Style()
            return style.color.triplet.hex if style.color and style.color.triplet else None
    raise AssertionError(f"{text!r} not found in {[s.text for s in strip]}")


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


async def settle(pilot: Pilot[None], view: CodeView) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


# Content -------------------------------------------------------------------------------------


async def test_split_chunks_give_exact_lines_text_and_size() -> None:
    text = "def f():\n\treturn 'caf\u00e9 \u4f60\u597d \U0001f600'\n\n\n# end\r\nlast"
    for size in (1, 2, 3, 4, 7, len(text)):
        app = Host()
        async with app.run_test():
            view = app.view
            for piece in chunks(text, size):
                view.append(piece)
            assert view.text == text
            assert [view.line(i) for i in range(view.line_count)] == text.split("\n")
            assert view.line_count == 6
            assert view.size_bytes == len(text.encode("utf-8"))


async def test_line_count_rules() -> None:
    app = Host()
    async with app.run_test():
        view = app.view
        assert view.line_count == 0 and view.text == ""
        expected = [("a", 1), ("\n", 1), ("b", 2), ("\n", 2), ("\n", 3)]
        for piece, count in expected:
            view.append(piece)
            assert view.line_count == count, piece
        assert view.text == "a\nb\n\n"


async def test_append_before_mount_is_shown_after_mount() -> None:
    view = CodeView("early.py")
    view.append("x = 1\n" * 50)
    app = Host(view)
    async with app.run_test() as pilot:
        await settle(pilot, view)
        assert view.line_count == 50
        assert view.scroll_offset.y == view.max_scroll_y == 30
        assert rows(view)[-1].startswith("  50 x = 1")


async def test_odd_strings_never_crash_and_never_reach_the_screen_raw() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("x.py")
        view.append("a\x1b]52;c;QQ==\x07b\x9b2J\ud800\x00\r\n\x7f\u202e\n")
        await pilot.pause()
        shown = "".join(rows(view))
        assert "\ufffd" in shown
        for bad in "\x1b\x07\x9b\ud800\x00\r\x7f":
            assert bad not in shown
        assert view.size_bytes == len(view.text.encode("utf-8", "surrogatepass"))


# Following the tail --------------------------------------------------------------------------


async def test_follows_tail_stops_when_user_scrolls_up_and_resumes_at_bottom() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        for piece in chunks("".join(f"line {i}\n" for i in range(100)), 5):
            view.append(piece)
        await settle(pilot, view)
        assert view.following
        assert view.scroll_offset.y == view.max_scroll_y == 80

        view.focus()
        await pilot.press("pageup")
        await settle(pilot, view)
        assert not view.following
        stopped_at = view.scroll_offset.y
        assert stopped_at < view.max_scroll_y

        view.append("more\n" * 30)
        await settle(pilot, view)
        assert view.scroll_offset.y == stopped_at  # the user's position is kept
        assert not view.following

        await pilot.press("end")
        view.append("during\n" * 5)  # text arriving right after the key press
        await settle(pilot, view)
        assert view.following
        view.append("tail\n" * 10)
        await settle(pilot, view)
        assert view.scroll_offset.y == view.max_scroll_y == 125
        assert rows(view)[-1].startswith(" 145 tail")


async def test_many_appends_in_one_frame_are_synced_once() -> None:
    syncs = 0

    class CountingView(CodeView):
        def _sync(self) -> None:
            nonlocal syncs
            syncs += 1
            super()._sync()

    app = Host(CountingView())
    async with app.run_test() as pilot:
        await pilot.pause()
        syncs = 0
        for piece in chunks("value = 1\n" * 100, 4):
            app.view.append(piece)
        await pilot.pause()
        assert syncs == 1
        assert app.view.virtual_size.height == 100


# Highlighting --------------------------------------------------------------------------------


async def test_language_set_late_changes_highlighting() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        for piece in chunks(SAMPLE, 3):
            view.append(piece)
        await pilot.pause()
        assert view.language == "Text only"
        plain = view.rich_style.color
        assert plain is not None
        greet_row = view.render_line(8)
        assert "def greet" in greet_row.text
        assert all(
            seg.style is None or seg.style.color == plain for seg in greet_row if seg.text == "def"
        )

        view.set_language_from_path("src/greeter.py")
        await pilot.pause()
        assert view.language == "Python"
        keyword = segment_colour(view.render_line(8), "def")
        assert keyword == KEYWORD_COLOUR
        assert keyword != plain.triplet.hex if plain.triplet else True
        assert segment_colour(view.render_line(0), '"""Tiny module."""') == STRING_COLOUR


async def test_unknown_and_odd_file_names_fall_back_to_plain_text() -> None:
    view = CodeView()
    for path in ("notes.unknown-ext", "", "/", "dir/", "a\x00b.py\x1b", "Makefile"):
        view.set_language_from_path(path)
    assert view.language == "Makefile"
    view.set_language_from_path("strange.zzzz")
    assert view.language == "Text only"


def test_file_name_lookups_are_cached_and_warm_up_fills_the_cache(monkeypatch) -> None:
    """A lookup scans every lexer's patterns and the plugins' metadata: once per base name."""
    calls: list[str] = []
    real = code_text.find_lexer_class_for_filename
    monkeypatch.setattr(
        code_text,
        "find_lexer_class_for_filename",
        lambda name: calls.append(name) or real(name),
    )
    code_text._lexer_class.cache_clear()
    code_text.warm_up(["warm.py"])
    view = CodeView()
    for path in ("a/warm.py", "b/warm.py", "warm.py"):
        view.set_language_from_path(path)
        assert view.language == "Python"
    view.set_language_from_path("notes.unknown-ext")
    view.set_language_from_path("other/notes.unknown-ext")
    assert view.language == "Text only"
    assert calls == ["warm.py", "notes.unknown-ext"]


def test_warm_up_imports_the_code_themes_a_first_fence_would_import_on_the_loop() -> None:
    styles = ("pygments.styles.monokai", "pygments.styles.default")
    code = (
        "import sys\nfrom tui.ui.widgets.code_view import warm_up\n"
        f"before = [m for m in {styles!r} if m in sys.modules]\nwarm_up()\n"
        f"print(before, [m for m in {styles!r} if m in sys.modules])"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == f"[] {list(styles)!r}"


async def test_docstring_context_is_recovered_while_streaming() -> None:
    """A tail line inside a docstring opened 30 lines above is coloured as a string."""
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("m.py")
        body = "def f():\n    '''Start\n" + "".join(f"    words {i}\n" for i in range(30))
        for index, piece in enumerate(chunks(body, 4)):
            view.append(piece)
            if index % 10 == 0:
                await pilot.pause()  # render frames mid-stream, as the app would
        view.append("    still inside")
        await settle(pilot, view)
        last = view.render_line(view.size.height - 1)
        assert "still inside" in last.text
        assert segment_colour(last, "    still inside") == STRING_COLOUR


async def test_lexing_per_frame_is_bounded_with_100k_lines() -> None:
    block = "def f{n}(x):\n    '''Doc {n}.'''\n    return x + {n}  # add\n\n"
    content = "".join(block.format(n=n) for n in range(25_000))
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("big.py")
        view.append(content)
        await settle(pilot, view)
        assert view.line_count == 100_000
        height = view.size.height
        assert 0 < view.lexed_lines <= CONTEXT_LINES + height

        # Streaming at the tail: a frame lexes the changed lines, not the file.
        for frame in range(5):
            view.lexed_lines = 0
            for piece in chunks(block.format(n=frame), 4):
                view.append(piece)
            await pilot.pause()
            assert 0 < view.lexed_lines <= CONTEXT_LINES + height
            # Lines above the tail start in the lexer's root state: only a few are re-lexed.
            assert view.lexed_lines <= 2 * height

        # Jumping to the middle lexes the visible lines plus bounded context.
        view.lexed_lines = 0
        view.scroll_to(y=50_000, animate=False)
        await pilot.pause()
        assert 0 < view.lexed_lines <= CONTEXT_LINES + height
        assert rows(view)[0].split()[:2] == ["50001", "def"]


async def test_growing_past_the_view_needs_no_screen_layout() -> None:
    """A new virtual size makes Textual lay the whole screen out again; once the text is
    taller than the view, only the scroll range changes: no layout, the tail still shown."""
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("t.py")
        layouts = 0
        refresh = view.refresh

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal layouts
            layouts += bool(kwargs.get("layout"))
            return refresh(*args, **kwargs)

        view.refresh = counting  # type: ignore[method-assign]
        for piece in chunks("x = 1\n" * 10, 4):  # shorter than the view (20 rows)
            view.append(piece)
        await settle(pilot, view)
        view.append("x = 2\n" * 20)  # now taller: the scrollbar appears
        await settle(pilot, view)
        assert layouts >= 2  # both times the view's height or scrollbars could change
        before = layouts
        for frame in range(5):
            for piece in chunks(f"y = {frame}\n" * 10, 4):
                view.append(piece)
            await settle(pilot, view)
            last = view.render_line(view.size.height - 1).text
            assert last.split()[:3] == [str(view.line_count), "y", "="], last
        assert view.line_count == 80
        assert layouts == before  # growing past the view again and again: no layout
        assert view.vertical_scrollbar.window_virtual_size == 80
        assert view.max_scroll_y == 80 - view.scrollable_content_region.height
        assert view.scroll_y == view.max_scroll_y


class Card(App[None]):
    """A CodeView as a tool card holds it: as tall as its text, at most 20 rows."""

    CSS = "CodeView { height: auto; max-height: 20; }"

    def __init__(self) -> None:
        super().__init__()
        self.view = CodeView()

    def compose(self) -> ComposeResult:
        yield self.view


async def _layouts_to_overflow(app: App[None]) -> int:
    """Screen layouts from text that first overflows the view until all is still again (the
    app's layouts record new sizes without asking for another, as the chat app's do)."""
    async with app.run_test(size=(60, 30)) as pilot:
        compat.lay_out_once(app)
        view = app.query_one(CodeView)
        view.append("x = 1\n" * 5)  # shorter than the view: no scrollbar
        await settle(pilot, view)
        assert not view.show_vertical_scrollbar
        screen = app.screen
        layouts = 0
        refresh_layout = screen._refresh_layout

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal layouts
            layouts += 1
            return refresh_layout(*args, **kwargs)

        screen._refresh_layout = counting  # type: ignore[method-assign]
        view.append("x = 2\n" * 100)  # now taller than 20 rows
        await settle(pilot, view)
        await pilot.pause(0.05)
        assert view.show_vertical_scrollbar and view.vertical_scrollbar.display
        assert view.size.height == 20
        assert view.vertical_scrollbar.region.height == 20  # placed, on screen
        assert view.render_line(19).text.split()[:2] == ["105", "x"]  # the tail shown
        return layouts


async def test_textual_still_lays_out_again_when_a_scrollbar_appears(monkeypatch) -> None:
    monkeypatch.setattr(CodeView, "_show_scrollbar_early", lambda view, size: None)
    assert await _layouts_to_overflow(Card()) == 2


async def test_text_that_overflows_a_view_with_a_most_rows_shows_its_scrollbar_in_one_layout() -> (
    None
):
    """Textual shows a scrollbar after the layout that made the text overflow, and the
    scrollbar asks for another layout of the screen; a view whose most rows its styles
    give shows it before, so the one layout places it."""
    assert await _layouts_to_overflow(Card()) == 1


async def test_complete_lexes_whole_file_once_and_fixes_long_docstrings() -> None:
    doc_lines = CONTEXT_LINES + 50
    text = "x = 1\n'''\n" + "".join(f"prose line {i}\n" for i in range(doc_lines)) + "'''\n"
    text += "y = 2\n" * 10_000  # big enough for the final lex to be sliced over frames
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("doc.py")
        view.append(text)
        await settle(pilot, view)
        before = view.lexed_lines
        view.complete()
        assert not view.is_highlight_final  # big file: the final lex runs in slices
        await wait_for(pilot, lambda: view.is_highlight_final, what="the final lex")
        assert view.lexed_lines == before + view.line_count

        # Deep inside the docstring, more than CONTEXT_LINES below its opening quotes.
        target = 2 + CONTEXT_LINES + 20
        view.scroll_to(y=target, animate=False)
        await pilot.pause()
        assert view.render_line(0).text.startswith(f" {target + 1:>5} prose line")
        assert segment_colour(view.render_line(0), f"prose line {target - 2}") == STRING_COLOUR
        assert view.lexed_lines == before + view.line_count  # rendering re-lexes nothing


async def test_final_lex_leaves_the_loop_free_between_its_slices(monkeypatch) -> None:
    """Slices back to back (sleep(0)) let other work run only one step per slice: a chain of
    awaits (a tool run, a frame, a key) waited a slice at each step. Between two slices the
    loop must be free for a while: a task that only yields runs many times."""
    spins = 0
    at_slices: list[int] = []
    real = CodeView._step_final

    def step(view: CodeView, job: object, budget: float | None) -> bool:
        at_slices.append(spins)
        return real(view, job, budget)  # type: ignore[arg-type]

    monkeypatch.setattr(CodeView, "_step_final", step)

    async def spin() -> None:
        nonlocal spins
        while True:
            spins += 1
            await asyncio.sleep(0)

    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("big.py")
        view.append("def f(x):\n    return [x, 'y', {1: 2}]  # z\n" * 2_000)
        await settle(pilot, view)
        spinner = asyncio.create_task(spin())
        view.complete()
        await wait_for(pilot, lambda: view.is_highlight_final, what="the final lex")
        spinner.cancel()
    gaps = [b - a for a, b in zip(at_slices, at_slices[1:], strict=False)]
    assert len(gaps) >= 3  # sliced
    assert min(gaps) >= 3, gaps  # back to back, other tasks ran once between two slices


async def test_complete_small_file_is_synchronous_and_append_reopens() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("g.py")
        view.append(SAMPLE)
        view.complete()
        assert view.is_complete and view.is_highlight_final
        view.append("x = 2\n")
        assert not view.is_complete and not view.is_highlight_final
        await pilot.pause()
        assert view.text.endswith("x = 2\n")


def reference_colours(text: str, path: str) -> list[list[str | None]]:
    """Per-character colours of every line from one whole-file lex (monokai, Text = plain)."""
    theme = Syntax.get_theme("monokai")
    lexer = get_lexer_for_filename(path, stripnl=False, ensurenl=False)
    lines: list[list[str | None]] = [[]]
    for token_type, value in lexer.get_tokens(text):
        plain = token_type in Text or token_type in Whitespace
        colour = theme.get_style_for_token(token_type).color
        hex_colour = None if plain or colour is None else colour.get_truecolor().hex
        for index, part in enumerate(value.split("\n")):
            if index:
                lines.append([])
            lines[-1].extend([hex_colour] * len(part))
    return lines


def shown_colours(view: CodeView, row: int, plain: str) -> list[str | None]:
    """Per-character colours of the code part of a rendered row (plain colour as None)."""
    gutter = max(3, len(str(view.line_count))) + 2
    colours: list[str | None] = []
    for segment in view.render_line(row):
        style = segment.style or Style()
        colour = style.color.get_truecolor().hex if style.color else None
        colours.extend([None if colour == plain else colour] * len(segment.text))
    return colours[gutter:]


MIXED = (
    SAMPLE
    + "'''\nA module-level string\n# not a comment\n'''\n"
    + "# a comment with 'quotes'\nx = 1  # trailing\n"
    + "def g():\n    return [i for i in range(3)] + [\"a\\nb\", r'c']\n"
    + "/* stray */ y = {'k': 0x1F, \"s\": f'{x!r}'}\n"
)


async def test_colours_match_a_whole_file_lex_when_streamed_and_after_complete() -> None:
    app = Host(CodeView("mixed.py"))
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.view
        for index, piece in enumerate(chunks(MIXED, 5)):
            view.append(piece)
            if index % 7 == 0:
                await pilot.pause()
        await settle(pilot, view)
        assert view.rich_style.color is not None
        plain = view.rich_style.color.get_truecolor().hex
        expected = reference_colours(MIXED, "mixed.py")
        assert view.line_count <= view.size.height  # every line is on screen
        for mode in ("streamed", "complete"):
            for row in range(view.line_count):
                width = len(view.line(row))
                assert shown_colours(view, row, plain)[:width] == expected[row], (mode, row)
            view.complete()
            assert view.is_highlight_final


async def test_a_stream_faster_than_the_view_lexes_about_a_screen_a_frame() -> None:
    """200 new lines a frame, more than CONTEXT_LINES: the lines in between are never shown
    nor lexed, so no line above the screen is known to start clean. A frame then lexes the
    visible lines and GUESS_LINES above them (not CONTEXT_LINES of unseen text), and for
    code without multi-line strings the colours are still those of a whole-file lex."""
    block = "def f{n}(x):\n    return {{'k': x, \"n\": {n}}}  # {n}\n"
    lines_per_frame = 200
    assert lines_per_frame > CONTEXT_LINES
    code = "".join(block.format(n=n) for n in range(1000))
    expected = reference_colours(code, "fast.py")
    frames = pieces_by_lines(code, lines_per_frame)
    app = Host(CodeView("fast.py"))
    async with app.run_test() as pilot:
        view = app.view
        height = view.size.height
        assert view.rich_style.color is not None
        plain = view.rich_style.color.get_truecolor().hex
        for number, frame in enumerate(frames):
            view.lexed_lines = 0
            for piece in chunks(frame, 4):
                view.append(piece)
            await settle(pilot, view)
            assert view.lexed_lines > 0
            if number:  # the first frame reaches line 0, which is known clean
                assert view.lexed_lines <= height + GUESS_LINES, number
            top = view.scroll_offset.y
            assert top + height == view.line_count  # following the tail
            for row in range(height):
                width = len(view.line(top + row))
                assert shown_colours(view, row, plain)[:width] == expected[top + row], row


def pieces_by_lines(text: str, count: int) -> list[str]:
    """`text` cut after every `count` lines."""
    lines = text.splitlines(keepends=True)
    return ["".join(lines[i : i + count]) for i in range(0, len(lines), count)]


async def test_token_colours_follow_a_light_theme() -> None:
    app = Host(CodeView("t.py"))
    async with app.run_test() as pilot:
        app.view.append(SAMPLE)
        await pilot.pause()
        assert segment_colour(app.view.render_line(8), "def") == KEYWORD_COLOUR
        app.theme = "textual-light"
        await pilot.pause()
        light = Syntax.get_theme("default").get_style_for_token(Keyword).color
        assert light is not None
        assert segment_colour(app.view.render_line(8), "def") == light.get_truecolor().hex


async def test_clear_empties_the_view() -> None:
    app = Host(CodeView("c.py"))
    async with app.run_test() as pilot:
        view = app.view
        view.append("a = 1\n" * 100)
        view.complete()
        await settle(pilot, view)
        view.clear()
        await settle(pilot, view)
        assert (view.text, view.line_count, view.size_bytes) == ("", 0, 0)
        assert view.virtual_size.height == 0 and view.following and not view.is_complete
        assert rows(view)[0].strip() == ""
        view.append("b = 2\n")
        await settle(pilot, view)
        assert rows(view)[0].startswith("   1 b = 2")


async def test_very_long_lines_are_shown_plain_without_lexing() -> None:
    long_line = "def x(): return 1; " * (LONG_LINE // 10)
    app = Host(CodeView("long.py"))
    async with app.run_test(size=(60, 24)) as pilot:
        view = app.view
        view.append("def short(): pass\n")
        for piece in chunks(long_line, 512):
            view.append(piece)
        await settle(pilot, view)
        assert view.lexed_lines == 1  # only the short line went through the lexer
        assert segment_colour(view.render_line(0), "def") == KEYWORD_COLOUR
        row = view.render_line(1)
        assert row.text[5:].startswith("def x(): return 1;")
        code_colours = {segment.style.color for segment in row if segment.style}
        assert code_colours <= {
            view.rich_style.color,
            view.get_component_rich_style("code-view--gutter").color,
        }
        view.scroll_to(x=len(long_line), animate=False)  # clamped: the end is at the edge
        await pilot.pause()
        assert view.scroll_offset.x == view.max_scroll_x > len(long_line) - 60
        assert view.render_line(1).text.rstrip().endswith(long_line.rstrip()[-30:])


# Display -------------------------------------------------------------------------------------


async def test_markup_is_shown_literally() -> None:
    hostile = ["[bold]x[/]", "[@click=app.quit]click[/]", "[/", "x[/]", "[TODO] plan"]
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("notes.md")
        view.append("\n".join(hostile))
        await pilot.pause()
        shown = rows(view)
        for index, line in enumerate(hostile):
            assert shown[index].startswith(f" {index + 1:>3} {line} ")
            for segment in view.render_line(index):
                assert segment.style is None or "@click" not in segment.style.meta


async def test_gutter_tabs_and_horizontal_scroll() -> None:
    long_line = "".join(f"{i % 10}" for i in range(300))
    app = Host()
    async with app.run_test(size=(60, 24)) as pilot:
        view = app.view
        view.append(f"\tx\nab\tc\n{long_line}\n")
        await pilot.pause()
        first, second, third = rows(view)[:3]
        assert first.startswith("   1     x")
        assert second.startswith("   2 ab  c")
        assert third.startswith("   3 0123456789")
        assert view.virtual_size.width == 5 + 300

        view.scroll_to(x=100, animate=False)
        await pilot.pause()
        assert view.render_line(2).text.startswith("   3 0123456789")  # gutter stays put
        assert view.render_line(2).text[5:8] == long_line[100:103]
        assert all(len(row) == view.size.width for row in rows(view))


async def test_gutter_grows_with_line_count() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.append("z\n" * 12_345)
        await settle(pilot, view)
        assert rows(view)[-1].startswith(" 12345 z")


def test_snapshot_small_python_file(snap_compare) -> None:  # type: ignore[no-untyped-def]
    class SnapshotHost(App[None]):
        CSS = "CodeView { height: 1fr; }"

        def compose(self) -> ComposeResult:
            view = CodeView("greeter.py")
            view.append(SAMPLE.replace("Tiny module.", "Tiny module.\tTabbed."))
            view.complete()
            yield view

    assert snap_compare(SnapshotHost(), terminal_size=(60, 14))


async def test_a_big_files_final_lex_starts_after_a_delay_not_in_complete(monkeypatch) -> None:
    """What follows a call's completion (the tool run, the frame with its result) goes
    before the exact colours: ``complete()`` lexes nothing of a big file, the first slice
    waits ``FINAL_DELAY_SECONDS`` (the sleep is faked: it records the delay)."""
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float, *args: object) -> None:
        delays.append(seconds)
        await real_sleep(0)

    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("big.py")
        view.append("def f(x):\n    return [x, 'y']\n" * 2_000)
        await settle(pilot, view)
        before = view.lexed_lines
        slices = 0
        real_step = view._step_final

        def step(job: object, budget: float | None) -> bool:
            nonlocal slices
            slices += 1
            return real_step(job, budget)  # type: ignore[arg-type]

        view._step_final = step  # type: ignore[method-assign]
        monkeypatch.setattr(code_view_module.asyncio, "sleep", sleep)
        view.complete()
        assert slices == 0 and view.is_complete and not view.is_highlight_final
        await wait_for(pilot, lambda: view.is_highlight_final, what="the final lex")
        assert delays[0] == code_view_module.FINAL_DELAY_SECONDS and slices > 1
        assert view.lexed_lines == before + view.line_count


def _reference_width(text: str, tab_size: int = 4) -> int:
    """The widest line of ``text`` as drawn: controls as U+FFFD, tabs to the next stop."""
    from rich.cells import cell_len

    widest = 0
    for line in text.split("\n"):
        column = 0
        for index, piece in enumerate(code_text.display(line).split("\t")):
            if index:
                column += tab_size - column % tab_size
            column += cell_len(piece)
        widest = max(widest, column)
    return widest


@given(
    text=st.text(
        alphabet=st.sampled_from(
            ["a", "Z", " ", "\n", "\t", "\x01", "\x7f", "é", "你", "\U0001f600"]
        ),
        max_size=200,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
@settings(max_examples=300, deadline=None)
def test_widths_and_line_starts_match_a_whole_text_measure_however_it_is_split(
    text: str, cuts: list[int]
) -> None:
    """An ASCII chunk without tabs is measured by line lengths (a cell a character; controls
    are drawn as U+FFFD), others cell by cell: both give what measuring the whole text gives."""
    view = CodeView()
    view._schedule_sync = lambda: None  # type: ignore[method-assign]  # not mounted
    bounds = sorted({0, len(text), *(min(cut, len(text)) for cut in cuts)})
    for start, stop in zip(bounds, bounds[1:], strict=False):
        view.append(text[start:stop])
    assert view.text == text
    assert view._max_width == _reference_width(text)
    offsets = [0]
    for line in text.split("\n")[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    assert list(view._starts) == offsets


def test_an_ascii_chunk_is_not_measured_cell_by_cell(monkeypatch) -> None:
    """200 KB appended at once (a call's tail at its completion, a frame's backlog) took
    ~5 ms measuring each line's cells; an ASCII chunk without tabs needs only lengths."""
    measured = spy(monkeypatch, code_view_module, "advance", lambda column, text, tab: text)
    view = CodeView()
    view._schedule_sync = lambda: None  # type: ignore[method-assign]
    view.append("x = 1\n" * 1_000 + "y")
    assert measured == ["y"]  # only the open last line
    assert view._max_width == 5 and view.line_count == 1_001
    view.append("\tz\nw")  # a tab: measured cell by cell
    assert len(measured) > 1 and view._max_width == 5


async def test_complete_of_a_big_file_leaves_joining_its_text_to_the_final_pass(
    monkeypatch,
) -> None:
    """``complete`` comes as a call's completion, before the tool runs: the whole text is
    joined and cleaned (O(n)) by the final pass, once it starts, not by ``complete``."""
    joins = 0
    real = CodeView.text

    def counted(view: CodeView) -> str:
        nonlocal joins
        joins += 1
        return real.fget(view)  # type: ignore[no-any-return, attr-defined]

    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.set_language_from_path("big.py")
        view.append("def f(x):\n    return [x, 'y', {1: 2}]  # z\n" * 2_000)
        await settle(pilot, view)
        monkeypatch.setattr(CodeView, "text", property(counted))
        view.complete()
        assert joins == 0
        await wait_for(pilot, lambda: view.is_highlight_final, what="the final lex")
        assert joins == 1
