"""MarkdownView: block splitting, rendering once per block, hostile text, the widget in an app.

Most tests drive ``MarkdownDocument`` (no app); a few run ``MarkdownView`` under Pilot.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from providers.demo import WELCOME
from tests.ui.scripted import wait_for
from tui.ui.markdown import lexers as markdown_lexers
from tui.ui.markdown.blocks import PIECE_CHARS, BlockSplitter
from tui.ui.markdown.document import MarkdownDocument
from tui.ui.markdown.render import HREF, MarkdownTheme, strip_of
from tui.ui.markdown.view import MarkdownView
from tui.ui.widgets.messages import AssistantText

THEME = MarkdownTheme()
UNIT = (
    "## Section\n\nSome **bold** text, a [link](https://example.com) and `code`.\n\n"
    "- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "```python\ndef f(x):\n    return x * 2\n```\n\n"
)
HOSTILE = "[bold]b[/] [@click=app.quit]x[/] [TODO] [/ [link=http://e]l x[/] <script>s</script>"


def blocks_of(text: str, pieces: list[str] | None = None) -> list[str]:
    splitter = BlockSplitter()
    for piece in pieces or [text]:
        splitter.feed(piece)
    splitter.close()
    return splitter.blocks


def rendered(doc: MarkdownDocument, width: int = 80) -> list[object]:
    doc.sync(width, THEME)  # no budget: every block
    return styled(doc)


def styled(doc: MarkdownDocument) -> list[object]:
    """The lines with their styles (ids are the document's own: not comparable across)."""
    styles = doc.styles.styles
    return [
        None
        if line is None
        else (line[0], [(n, styles[i]) for n, i in zip(line[1][0::2], line[1][1::2], strict=True)])
        for line in doc.lines()
    ]


def text_of(doc: MarkdownDocument, width: int = 80) -> str:
    doc.sync(width, THEME)
    return "\n".join(doc.line_text(y) for y in range(doc.height))


def streamed(text: str, seed: int, width: int = 80, sync_every: int = 3) -> MarkdownDocument:
    """``text`` fed in random cuts, synced every few fragments, then finished."""
    rng = random.Random(seed)
    doc = MarkdownDocument()
    position = count = 0
    while position < len(text):
        size = rng.choice([1, 2, 5, 17, 80])
        doc.append(text[position : position + size])
        position += size
        count += 1
        if count % sync_every == 0:
            doc.sync(width, THEME, budget=rng.choice([None, 0.0]), windows=[(0, 10**6)])
    doc.finish()
    return doc


# -- splitting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "blocks"),
    [
        ("a\n\nb\n", ["a", "b"]),
        ("\n\n\nx\n\n\n\ny\n\n", ["x", "y"]),
        ("```py\na\n\nb\n```\n\nafter", ["```py\na\n\nb\n```", "after"]),
        ("~~~\nx\n\n~~~\ntext", ["~~~\nx\n\n~~~", "text"]),
        ("```\na\n~~~\n\nb\n```\nc", ["```\na\n~~~\n\nb\n```", "c"]),  # tildes do not close
        ("````\ncode\n```\n\nmore\n`````\nafter", ["````\ncode\n```\n\nmore\n`````", "after"]),
        ("```\na\n\nb", ["```\na\n\nb"]),  # never closed: the rest is code
        ("``` a`b\nx\n\ny", ["``` a`b\nx", "y"]),  # a backtick in the info: not a fence
        ("Here:\n```sh\nls\n```\nDone.", ["Here:", "```sh\nls\n```", "Done."]),
        ("- a\n  - b\n\n    more b\n- c\n\nPara", ["- a\n  - b\n\n    more b\n- c", "Para"]),
        ("- a\n\n- b", ["- a", "- b"]),  # a loose list: one list per item
        ("1. a\n\n   ```\n   x\n\n   ```\n2. b", ["1. a\n\n   ```\n   x\n\n   ```\n2. b"]),
        ("| a | b |\n|---|---|\n| 1 | 2 |\n\ntext", ["| a | b |\n|---|---|\n| 1 | 2 |", "text"]),
        ("# A\n## B\ntext\n### C", ["# A", "## B", "text", "### C"]),
        ("para\n\n    code", ["para\n\n    code"]),  # indented: stays with its block
        ("> q\n> r\n\n> s", ["> q\n> r", "> s"]),
    ],
)
def test_blocks(source: str, blocks: list[str]) -> None:
    assert blocks_of(source) == blocks
    assert blocks_of(source, list(source)) == blocks  # a character at a time: the same


def test_splitting_does_not_depend_on_the_cuts() -> None:
    source = UNIT * 5 + WELCOME
    rng = random.Random(7)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(source)), 40))
        pieces = [source[a:b] for a, b in zip([0, *cuts], [*cuts, len(source)], strict=True)]
        assert blocks_of(source, pieces) == blocks_of(source)


def test_a_long_open_fence_is_previewed_in_pieces_each_a_fence() -> None:
    splitter = BlockSplitter()
    splitter.feed("```python\n" + "x = 1\n" * (PIECE_CHARS // 3))
    pieces = splitter.pieces()
    assert len(pieces) >= 2
    assert all(p.startswith("```python\n") for p in pieces)
    assert all(p.endswith("```") for p in pieces[:-1])


def test_a_long_open_table_is_previewed_with_its_header_in_every_piece() -> None:
    splitter = BlockSplitter()
    splitter.feed("| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * (PIECE_CHARS // 5))
    pieces = splitter.pieces()
    assert len(pieces) >= 2
    assert all(p.startswith("| a | b |\n|---|---|\n") for p in pieces)


# -- rendering -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("source", [WELCOME, UNIT * 4, "# T\n" + "word " * 900 + "\n\n```\n\tx\n"])
def test_streamed_in_random_cuts_renders_like_the_whole_text(source: str, seed: int) -> None:
    whole = MarkdownDocument(source)
    assert rendered(streamed(source, seed)) == rendered(whole)
    assert streamed(source, seed).raw == source


def test_the_demo_answer_looks_right() -> None:
    doc = MarkdownDocument(WELCOME)
    shown = text_of(doc, 100)
    assert shown.splitlines()[0].strip() == "Welcome to chattui"
    assert " • Tool calls render live. The next thing I do is write demo/life.py;" in shown
    assert "│ Escape │ cancel the response" in shown
    assert "**" not in shown and "```" not in shown and "|---" not in shown
    code = next(y for y in range(doc.height) if "pattern glider" in doc.line_text(y))
    styles = [doc.styles.styles[i] for i in doc.line(code)[1][1::2]]  # type: ignore[index]
    assert all(style.bgcolor is not None for style in styles)  # the fence's background
    assert len({style.color for style in styles}) > 1  # highlighted


def test_only_the_open_block_is_rendered_again_per_append() -> None:
    doc = MarkdownDocument()
    text = "".join(f"Paragraph {i} has some words in it.\n\n" for i in range(200))
    syncs = 0
    for start in range(0, len(text), 7):
        finished, renders, chars = len(doc.splitter.blocks), doc.renders, doc.rendered_chars
        doc.append(text[start : start + 7])
        doc.sync(80, THEME)
        syncs += 1
        new_blocks = doc.splitter.blocks[finished:]
        assert doc.renders - renders <= len(new_blocks) + 1  # those blocks, the open one
        assert doc.rendered_chars - chars <= sum(map(len, new_blocks)) + 40  # + the open one
    assert doc.renders <= syncs + 200


def test_a_long_fence_costs_a_piece_per_frame_not_the_whole_fence() -> None:
    doc = MarkdownDocument()
    doc.append("```python\n")
    for i in range(0, 3000, 10):
        chars = doc.rendered_chars
        doc.append("".join(f"value_{n} = compute({n}) + 1\n" for n in range(i, i + 10)))
        doc.sync(80, THEME)
        assert doc.rendered_chars - chars <= 2 * PIECE_CHARS  # the last piece, a new one
    doc.append("```\n")
    doc.finish()
    assert "value_2999 = compute(2999) + 1" in text_of(doc)


def test_a_new_width_renders_every_block_once_more() -> None:
    doc = MarkdownDocument(UNIT * 3)
    doc.sync(80, THEME)
    renders = doc.renders
    doc.sync(40, THEME)
    assert doc.renders - renders == len(doc.splitter.blocks)
    assert styled(doc) == rendered(MarkdownDocument(UNIT * 3), 40)
    assert all(cell_len(doc.line_text(y)) == 40 for y in range(doc.height) if doc.line(y))


def test_what_is_asked_for_is_rendered_first_the_rest_in_slices() -> None:
    doc = MarkdownDocument("\n\n".join(f"Paragraph {i}." for i in range(300)))
    doc.sync(80, THEME, budget=0.0, windows=[(0, 5)])
    assert 0 < doc.renders < 10 and doc.backlog
    assert doc.line_text(0).startswith("Paragraph 0.")
    doc.sync(80, THEME)
    assert not doc.backlog and doc.height == 2 * 300 - 1
    assert doc.line_text(doc.height - 1).startswith("Paragraph 299.")


# -- untrusted text --------------------------------------------------------------------------


def test_markup_and_html_are_shown_literally() -> None:
    shown = text_of(MarkdownDocument(HOSTILE + "\n\n<b>bold?</b>\n\n[@click=app.quit]"))
    for literal in ("[bold]b[/]", "[@click=app.quit]x[/]", "[TODO]", "[/ ", "<script>s</script>"):
        assert literal in shown
    assert "<b>bold?</b>" in shown


def test_links_are_styled_text_with_their_target_in_meta_never_a_terminal_link() -> None:
    doc = MarkdownDocument("see [docs](app.quit) and [web](https://example.com)")
    doc.sync(80, THEME)
    line = doc.line(0)
    assert line is not None and line[0].startswith("see docs and web")
    styles = [doc.styles.styles[i] for i in line[1][1::2]]
    assert not any(style.link for style in styles)  # no OSC 8
    assert {style.meta.get(HREF) for style in styles} >= {"app.quit", "https://example.com"}


def test_control_characters_are_shown_as_replacement_characters() -> None:
    shown = text_of(MarkdownDocument("A\x1b[2JB\x07C\n\n```\nD\x1bE\n```"))
    assert "\x1b" not in shown and "\x07" not in shown
    assert "A\ufffd[2JB\ufffdC" in shown and "D\ufffdE" in shown


NASTY = [
    "```",
    "```python\n" + "def f(:\n" * 50,
    "~~~~\n```\n~~~",
    "|" * 500,
    "| a |\n|---|\n" + "| x | y | z |\n" * 2000,
    "| " + " | ".join(f"c{i}" for i in range(60)) + " |\n|" + "---|" * 60 + "\n",
    "".join("  " * i + "- item\n" for i in range(120)),
    "> " * 200 + "deep",
    "x" * 5000,
    "word " * 5000,
    "`" * 999,
    "*" * 999 + "_" * 999,
    "[a](" * 300,
    "\t\tcode\twith\ttabs\n\n```\n\tindented\n```",
    "宽字符 " * 300 + "🌆" * 100,
    "\ud800 lone surrogate",
    "#" * 10 + " not a heading\n" + "#" * 6,
    "1. a\n" * 500,
    "-\n" * 300,
    "***\n---\n___\n",
    "<div>\n\n</div>",
    "![img](http://x/y.png) ![](javascript:alert(1))",
    "Title\n=====\n\nSub\n---",
]


@pytest.mark.parametrize("source", NASTY, ids=range(len(NASTY)))
@pytest.mark.parametrize("width", [1, 2, 13, 80])
def test_nasty_input_renders_within_the_width(source: str, width: int) -> None:
    doc = MarkdownDocument(source)
    doc.sync(width, THEME)
    check_lines(doc, width)
    assert doc.height > 0 or not source.strip() or width == 1  # 1 cell: no wide character


def check_lines(doc: MarkdownDocument, width: int) -> None:
    for y in range(doc.height):
        line = doc.line(y)
        if line is None:
            continue
        text, runs = line
        assert cell_len(text) == width, (y, text)
        assert sum(runs[0::2]) == len(text)
        assert "\t" not in text and "\x1b" not in text and "\n" not in text
        assert strip_of(line, doc.styles).cell_length == width


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.text(alphabet="ab #*_`~|-:>[]()!\\<\n\t1.", max_size=300),
    width=st.integers(min_value=1, max_value=60),
    seed=st.integers(min_value=0, max_value=10),
)
def test_any_text_renders_and_streams_like_the_whole(source: str, width: int, seed: int) -> None:
    whole = MarkdownDocument(source)
    lines = rendered(whole, width)
    check_lines(whole, width)
    assert rendered(streamed(source, seed, width), width) == lines


# -- the widget ------------------------------------------------------------------------------


class ViewApp(App[None]):
    def __init__(self, view: MarkdownView) -> None:
        super().__init__()
        self.view = view
        self.clicked: list[str] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield self.view

    def on_markdown_view_link_clicked(self, event: MarkdownView.LinkClicked) -> None:
        self.clicked.append(event.href)


async def until(pilot, predicate, what: str = "condition") -> None:
    await wait_for(pilot, predicate, what=what)


async def test_the_view_is_as_tall_as_its_lines_and_follows_a_resize() -> None:
    view = MarkdownView(UNIT * 2)
    app = ViewApp(view)
    async with app.run_test(size=(80, 60)) as pilot:
        await until(pilot, lambda: not view.document.backlog, "rendered")
        assert view.document.width == view.content_size.width
        assert view.size.height == view.document.height
        renders = view.document.renders
        await pilot.resize_terminal(50, 60)
        await until(pilot, lambda: view.document.width == view.content_size.width <= 50, "width")
        await until(pilot, lambda: not view.document.backlog, "re-rendered")
        await pilot.pause()
        assert view.document.renders - renders == len(view.document.splitter.blocks)
        assert view.size.height == view.document.height


async def test_clicking_a_link_posts_its_target_and_markup_text_does_nothing() -> None:
    view = MarkdownView("[@click=app.quit]x[/] see [docs](app.quit) now")
    app = ViewApp(view)
    async with app.run_test(size=(80, 10)) as pilot:
        await until(pilot, lambda: view.document.height > 0, "rendered")
        text = view.document.line_text(0)
        await pilot.click(MarkdownView, offset=(text.index("[@click") + 3, 0))
        await pilot.click(MarkdownView, offset=(text.index("docs") + 1, 0))
        await pilot.pause()
        assert app.clicked == ["app.quit"]  # the target only: AssistantText vets it
        assert app.is_running


async def test_streaming_renders_what_is_on_screen_then_the_rest() -> None:
    view = AssistantText()
    app = ViewApp(view)
    text = "".join(f"Paragraph {i} of a long answer.\n\n" for i in range(400)) + "The end."
    async with app.run_test(size=(80, 20)) as pilot:
        for start in range(0, len(text), 2000):
            view.feed(text[start : start + 2000])
            await view.flush()
            await pilot.pause()
        assert view.raw == text
        await view.close()
        await until(pilot, lambda: view.document.line_text(view.document.height - 1), "end")
        assert view.document.line_text(view.document.height - 1).startswith("The end.")
        await until(pilot, lambda: not view.document.backlog, "all blocks rendered")
        assert view.document.renders <= 2 * 401
        assert view.size.height == view.document.height == 2 * 401 - 1


async def held_lexer(monkeypatch, name: str) -> threading.Event:
    """Make ``name``'s lexer load in the loader thread only once the returned event is set."""
    while await markdown_lexers.lexers_loaded():  # an earlier test's loads finish first
        pass
    release = threading.Event()
    load = markdown_lexers._load_lexer

    def held_load(name: str):  # in the loader thread: waits until the test lets it go
        assert release.wait(60)
        return load(name)

    monkeypatch.setattr(markdown_lexers, "_load_lexer", held_load)
    monkeypatch.delitem(markdown_lexers._lexers, name, raising=False)
    return release


async def arrived(name: str) -> None:
    """Wait for a held lexer let go: ``lexers_loaded`` finds nothing to wait for when the
    thread was quicker (Pygments compiled that lexer already, in an earlier test)."""
    while name not in markdown_lexers._lexers or name in markdown_lexers._loading:
        if not await markdown_lexers.lexers_loaded():
            await asyncio.sleep(0.001)


class InlineLoader:
    """A loader "thread" quicker than anything: the load is over before ``submit`` returns."""

    def submit(self, fn, *args):
        fn(*args)


async def test_a_load_over_before_it_was_recorded_is_not_waited_for(monkeypatch) -> None:
    # A lexer Pygments had compiled already loads in microseconds: the loader thread can
    # finish before the event loop's side has recorded the load. Recorded after it, the name
    # stayed "loading" for good, with a finished load: had the lexer been dropped, its fences
    # would have stayed plain, and a test waiting for it spun (a CI run hung here for 300 s).
    while await markdown_lexers.lexers_loaded():  # an earlier test's loads finish first
        pass
    monkeypatch.delitem(markdown_lexers._lexers, "erlang", raising=False)
    monkeypatch.setattr(markdown_lexers, "_loader", InlineLoader())
    assert markdown_lexers.lexer_for("erlang") is None  # loaded "in a thread"
    assert "erlang" not in markdown_lexers._loading
    assert markdown_lexers.lexer_for("erlang") is markdown_lexers._lexers["erlang"]
    assert not await asyncio.wait_for(markdown_lexers.lexers_loaded(), 60)


def highlighted(doc: MarkdownDocument, y: int) -> bool:
    """Whether line ``y`` has more than one colour (a lexer drew it, not plain text)."""
    return len({doc.styles.styles[i].color for i in doc.line(y)[1][1::2]}) > 1  # type: ignore[index]


async def test_a_fence_waits_for_its_lexer_in_a_thread_then_is_highlighted(monkeypatch) -> None:
    release = await held_lexer(monkeypatch, "erlang")
    doc = MarkdownDocument('```erlang\nmain() -> io:format("hi").\n```')
    doc.sync(60, THEME)  # an event loop runs: the lexer loads in a thread
    assert doc.waiting and "erlang" in markdown_lexers._loading
    loaded = asyncio.ensure_future(markdown_lexers.lexers_loaded())
    await asyncio.sleep(0.01)
    assert not loaded.done() and not doc.backlog
    release.set()
    assert await asyncio.wait_for(loaded, 60)  # the loader posts it: no polling
    assert "erlang" in markdown_lexers._lexers and "erlang" not in markdown_lexers._loading
    assert not await markdown_lexers.lexers_loaded()  # nothing left to wait for
    assert doc.backlog  # the lexer came: the plain fence waits to be drawn again
    doc.sync(60, THEME)
    assert not doc.waiting
    assert highlighted(doc, 0)


async def test_a_lexer_that_comes_as_the_text_ends_leaves_no_stale_preview(monkeypatch) -> None:
    # The open fence was drawn plain; its lexer loads while the rest arrives and the text
    # ends: the lines are the finished text's, none of the old preview after the last line.
    release = await held_lexer(monkeypatch, "python")
    doc = MarkdownDocument()
    doc.append("Some text.\n\n```python\ndef f(x):\n")
    doc.sync(60, THEME)
    assert doc.waiting
    doc.append("    return x * 2\n```\n\nThe last line.\n")
    doc.finish()
    release.set()
    await arrived("python")
    doc.sync(60, THEME)
    assert [doc.line_text(y).strip() for y in range(doc.height)] == [
        "Some text.",
        "",
        "def f(x):",
        "return x * 2",
        "",
        "The last line.",
    ]
    assert not doc.waiting and highlighted(doc, 2)


async def test_a_plain_preview_is_not_reused_for_its_block_once_the_lexer_came(monkeypatch) -> None:
    release = await held_lexer(monkeypatch, "python")
    doc = MarkdownDocument()
    doc.append("- a list item with code:\n\n  ```python\n  def f(x):\n  ```\n")
    doc.sync(60, THEME)  # the open list, previewed with its fence plain
    assert doc.waiting
    release.set()
    await arrived("python")
    doc.append("\nAfter.\n")  # the list is finished: the same source as its preview
    doc.sync(60, THEME)
    assert not doc.waiting and highlighted(doc, 1)


async def test_a_theme_change_renders_the_blocks_again_in_its_colours() -> None:
    view = MarkdownView("# Title\n\n```python\nx = 1\n```")
    app = ViewApp(view)
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: view.document.height > 0, "rendered")
        dark = view.document.lines()
        assert view.document.renderer.theme.code_theme == "monokai"
        app.theme = "textual-light"
        await until(pilot, lambda: view.document.renderer.theme.code_theme == "default", "light")
        await until(pilot, lambda: not view.document.backlog, "rendered again")
        assert view.document.lines() != dark
        assert [view.document.line_text(y) for y in range(view.document.height)] == [
            "" if line is None else line[0] for line in dark
        ]


async def test_between_two_slices_of_a_backlog_the_loop_turns_several_times(monkeypatch) -> None:
    """A key's echo is a chain of steps, each waiting for a turn of the loop: a backlog drained
    with one turn per slice held an echo for a slice per step (50-77 ms after a fast answer)."""
    from tui.ui import pacing

    turns = 0
    at_slice: list[int] = []
    original = MarkdownView._slice

    def recording(self: MarkdownView, budget: float, draining: bool = False) -> bool:
        if draining:
            at_slice.append(turns)
        return original(self, budget, draining)

    async def spin() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    monkeypatch.setattr(MarkdownView, "_slice", recording)
    monkeypatch.setattr("tui.ui.markdown.view.FRAME_BUDGET", 0.0005)  # many slices
    view = MarkdownView(UNIT * 40)
    app = ViewApp(view)
    async with app.run_test(size=(80, 20)) as pilot:
        spinner = asyncio.create_task(spin())
        await until(pilot, lambda: not view.document.backlog, "all blocks rendered")
        spinner.cancel()
    gaps = sorted(b - a for a, b in itertools.pairwise(at_slice))
    assert len(gaps) >= 5, at_slice
    assert gaps[len(gaps) // 2] >= pacing.PUMP_YIELDS, gaps


class FollowApp(App[None]):
    """The view in a scroll that follows its end, as the conversation does."""

    def __init__(self, view: MarkdownView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.anchor()
            yield self.view


async def settled(pilot, view: MarkdownView) -> None:
    """Everything fed is rendered and on screen."""
    await until(pilot, lambda: not view._sync_requested and not view.document.backlog, "settled")
    await pilot.pause()
    await pilot.pause()


async def test_a_growing_answer_repaints_its_new_lines_not_every_row_on_screen(monkeypatch) -> None:
    """Textual renders every row of a widget again when its size changes; a growing answer
    keeps its rows (``RowsKeptWhenTaller``) and repaints from the first line that changed."""
    painted: list[int] = []
    original = MarkdownView.render_line

    def recording(self: MarkdownView, y: int) -> object:
        painted.append(y)
        return original(self, y)

    monkeypatch.setattr(MarkdownView, "render_line", recording)
    view = AssistantText()
    async with FollowApp(view).run_test(size=(80, 20)) as pilot:
        view.feed("".join(f"Paragraph {i} of a long answer.\n\n" for i in range(8)))
        await view.flush()
        await settled(pilot, view)
        before = view.document.height
        assert before > 10 and view.size.height == before
        painted.clear()
        view.feed("One more paragraph.\n\n")
        await view.flush()
        await settled(pilot, view)
        assert view.size.height > before
        assert painted and min(painted) >= before - 4, sorted(set(painted))  # the last paragraph


async def test_a_streamed_answer_looks_like_the_same_text_shown_at_once() -> None:
    """Rows kept across growth are never stale: at each point of a stream the screen is the
    one a fresh view of the same text shows."""
    text = UNIT * 6 + "".join(f"Paragraph {i}, long enough to wrap " * 3 + "\n\n" for i in range(9))
    streamed = AssistantText()
    async with FollowApp(streamed).run_test(size=(60, 24)) as pilot:
        for cut in (300, 700, 701, 1200, len(text) - 40, len(text)):
            streamed.feed(text[streamed.document.size + len("".join(streamed._pending)) : cut])
            await streamed.flush()
            await settled(pilot, streamed)
            fresh = AssistantText()
            async with FollowApp(fresh).run_test(size=(60, 24)) as other:
                fresh.feed(text[:cut])
                await fresh.flush()
                await settled(other, fresh)
                expected = [other.app.export_screenshot()]
                for app in (pilot.app, other.app):  # and scrolled back to the top
                    app.query_one(VerticalScroll).scroll_home(animate=False)
                await pilot.pause()
                await other.pause()
                expected.append(other.app.export_screenshot())
                assert pilot.app.export_screenshot() == expected[1], f"top differs at {cut}"
                for app in (pilot.app, other.app):
                    app.query_one(VerticalScroll).scroll_end(animate=False)
                    app.query_one(VerticalScroll).anchor()
                await settled(pilot, streamed)
            assert pilot.app.export_screenshot() == expected[0], f"differs at {cut}"


async def test_while_an_answer_streams_its_backlog_is_rendered_without_layouts_of_its_own(
    monkeypatch,
) -> None:
    """A slice of the backlog while the text streams leaves its new heights to the stream's
    next update (a layout of its own took a whole frame from the stream), and the last
    height is laid out once the stream stops."""
    monkeypatch.setattr("tui.ui.markdown.view.DRAIN_IDLE", 0.03)
    inside: list[bool] = []  # the streaming flag of the slice running now, if any
    layouts = slices = 0
    original_slice, original_refresh = MarkdownView._slice, MarkdownView.refresh

    def recording_slice(self, budget, draining=False, streaming=False):  # type: ignore[no-untyped-def]
        nonlocal slices
        slices += streaming
        inside.append(streaming)
        try:
            return original_slice(self, budget, draining, streaming)
        finally:
            inside.pop()

    def recording_refresh(self, *regions, **kw):  # type: ignore[no-untyped-def]
        nonlocal layouts
        layouts += bool(inside and inside[-1] and kw.get("layout"))
        return original_refresh(self, *regions, **kw)

    monkeypatch.setattr(MarkdownView, "_slice", recording_slice)
    monkeypatch.setattr(MarkdownView, "refresh", recording_refresh)
    view = AssistantText()
    async with FollowApp(view).run_test(size=(80, 20)) as pilot:
        for _ in range(5000):  # until the backlog had slices while the text streamed
            view.feed(UNIT * 3)
            await view.flush()
            await asyncio.sleep(0.02)
            if slices >= 3:
                break
        assert slices >= 3
        await settled(pilot, view)
        assert view.size.height == view.document.height
    assert layouts == 0


async def test_while_an_answer_streams_slowly_its_backlog_gets_one_slice_per_drain_idle(
    monkeypatch,
) -> None:
    """Updates further apart than ``DRAIN_IDLE`` (slow frames) are still a stream: the gaps
    between them are not filled with slices back to back (keys waited behind them), until
    the text stalls for ``DRAIN_STALLED`` or ends."""
    from time import perf_counter

    monkeypatch.setattr("tui.ui.markdown.view.DRAIN_IDLE", 0.03)
    monkeypatch.setattr("tui.ui.markdown.view.DRAIN_STALLED", 60.0)
    monkeypatch.setattr("tui.ui.markdown.view.FRAME_BUDGET", 0.0005)  # a backlog of slices
    open_slices: list[float] = []  # when each drain slice ran while the text was open
    original_slice = MarkdownView._slice

    def recording_slice(self, budget, draining=False, streaming=False):  # type: ignore[no-untyped-def]
        if draining and not self.document.finished:
            open_slices.append(perf_counter())
        return original_slice(self, budget, draining, streaming)

    monkeypatch.setattr(MarkdownView, "_slice", recording_slice)
    view = AssistantText()
    async with FollowApp(view).run_test(size=(80, 20)) as pilot:
        for _ in range(500):  # until the backlog had slices while the text streamed
            view.feed(UNIT * 3)
            await view.flush()
            await asyncio.sleep(0.08)  # more than DRAIN_IDLE between two updates
            if len(open_slices) >= 4:
                break
        assert len(open_slices) >= 4
        gaps = [b - a for a, b in itertools.pairwise(open_slices)]
        assert min(gaps) >= 0.025, gaps  # each after a DRAIN_IDLE sleep (0.03 s)
        await view.close()
        await settled(pilot, view)  # and once it ended, the rest of the backlog
        assert view.size.height == view.document.height


async def test_a_flush_and_the_close_render_at_once_for_the_next_refresh_to_draw() -> None:
    """A stream's flush (once a frame) and its close render what changed before returning:
    the next refresh draws it. A sync after the refresh needed a second refresh for it, so
    every frame of a stream cost two, and the end of a turn waited for one more."""
    view = AssistantText()
    async with FollowApp(view).run_test(size=(80, 20)) as pilot:
        view.feed("".join(f"Paragraph {i} of a long answer.\n\n" for i in range(30)))
        await view.flush()
        await settled(pilot, view)
        view.feed("The last paragraph, still open")
        await view.flush()
        assert not view._sync_requested
        last = view.document.height - 1
        assert view.document.line_text(last).rstrip() == "The last paragraph, still open"
        view.feed(", now closed.")
        await view.close()
        assert not view._sync_requested and view.document.finished
        assert not view.document.splitter.pieces()  # no open block left to preview
        last = view.document.height - 1
        assert (
            view.document.line_text(last).rstrip() == "The last paragraph, still open, now closed."
        )
        await settled(pilot, view)
        assert view.size.height == view.document.height


async def test_the_backlog_waits_for_the_end_of_the_turn_then_is_rendered(monkeypatch) -> None:
    """Blocks that scrolled away unrendered are rendered once the text has been over for
    ``DRAIN_IDLE``, not as it ends: the end of the turn and its last frame come first."""
    monkeypatch.setattr("tui.ui.markdown.view.DRAIN_IDLE", 2.0)  # the checks below take less
    view = AssistantText()
    text = "".join(f"Paragraph {i} of a long answer.\n\n" for i in range(300)) + "The end."
    async with FollowApp(view).run_test(size=(80, 20)) as pilot:
        view.feed("The start.\n\n")
        await view.flush()
        await settled(pilot, view)  # laid out: a flush renders what is on screen at once
        view.feed(text)
        await view.flush()
        await view.close()
        renders = view.document.renders
        for _ in range(5):
            await pilot.pause()
        # Only blocks painted meanwhile (a screenful at most), not the backlog.
        assert view.document.backlog and view.document.renders - renders <= 20
        assert view.document.line_text(view.document.height - 1).startswith("The end.")
        await until(pilot, lambda: not view.document.backlog, "the backlog rendered")
        assert view.document.renders - renders >= 250


async def test_a_flush_lets_what_waits_to_be_drawn_go_first(monkeypatch) -> None:
    """Keys before stream work: when something else waits for the next refresh (a key's echo
    in the prompt), a stream's flush renders only after that refresh has drawn it."""
    from textual.widgets import Static

    class Counted(Static):
        renders = 0

        def render(self):  # type: ignore[no-untyped-def]
            self.renders += 1
            return super().render()

    class TwoApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Counted("echo")
            with VerticalScroll():
                yield view

    view = AssistantText()
    seen: list[int] = []
    original = MarkdownView.sync

    def recording(self: MarkdownView) -> None:
        seen.append(counted.renders)
        original(self)

    async with TwoApp().run_test(size=(80, 20)) as pilot:
        counted = pilot.app.query_one(Counted)
        view.feed("First paragraph.\n\n")
        await view.flush()
        await settled(pilot, view)
        monkeypatch.setattr(MarkdownView, "sync", recording)
        before = counted.renders
        counted.update("echo!")  # waits for the next refresh, as a typed key does
        view.feed("Second paragraph.")
        await view.flush()
        assert seen and seen[0] > before
        assert view.document.line_text(view.document.height - 1).startswith("Second")


async def test_a_height_asked_for_while_a_layout_is_pending_is_laid_out() -> None:
    # The view grows and asks for a layout; a frame lays the screen out (another widget
    # asked) before the view's own idle step has passed its request on; then the view grows
    # again and asks again. Textual counts a layout request only when none is pending, and
    # keeps a widget's measured size under that count: the second height was never laid out,
    # and the end of an answer stayed cut off (a snapshot missed its last 6 rows under load).
    view = MarkdownView()
    view.append("one")  # streaming: not finished
    app = ViewApp(view)
    async with app.run_test() as pilot:
        await until(pilot, lambda: view.size.height == 1, "the first layout")
        view.append("\n\ntwo")
        view.sync_now()
        assert view._layout_required  # asked, not yet passed on to the screen
        app.screen._refresh_layout()  # a frame's layout: measures the view, 3 rows
        assert view.size.height == 3
        view.append("\n\nthree")
        view.sync_now()  # asks again while its first request is pending
        await until(pilot, lambda: view.size.height == 5, "the second height laid out")


async def test_a_view_hidden_with_blocks_left_stops_rendering_them_until_shown() -> None:
    # A collapsed reasoning block's view had blocks left to render: each slice found no width
    # and asked for a layout, and the next slice came at once, a layout of the whole screen
    # in a loop (chattui at 100% CPU after the demo's turn, for good).
    view = MarkdownView(UNIT * 300)
    app = ViewApp(view)
    async with app.run_test() as pilot:
        await until(pilot, lambda: view._drain is not None, "the blocks rendered in slices")
        app.query_one(VerticalScroll).display = False
        await until(pilot, lambda: view._drain is None, "the slices to stop")
        assert view.document.backlog  # left for when it is shown
        app.query_one(VerticalScroll).display = True
        await until(pilot, lambda: not view.document.backlog, "every block rendered")
