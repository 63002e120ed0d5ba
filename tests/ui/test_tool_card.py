"""The live tool-call card on its own: streaming, coalescing, states, results."""

from __future__ import annotations

import json
import sys

from textual.app import App, ComposeResult
from textual.reactive import Reactive
from textual.widgets import Collapsible

from providers.conversation import ToolCall, ToolResult
from tests.support.spy import spy
from tests.ui.scripted import pieces, texts
from tui.core.units import human_size
from tui.ui.widgets.code_view import CodeView
from tui.ui.widgets.tool_card import CardState, ToolCard

CONTENT = "def f(x):\n    return x * 2\n\n\nprint(f(21))\n" * 5


class Host(App[None]):
    def __init__(self, card: ToolCard) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        yield self.card


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def header(card: ToolCard) -> str:
    return str(card.query_one("#header").render())


class CountingJSON:
    """Wraps a PartialJSON and counts snapshot reads."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.reads = 0

    def feed(self, fragment):
        return self.inner.feed(fragment)

    def push(self, fragment):
        self.inner.push(fragment)

    def pull(self):
        return self.inner.pull()

    @property
    def value(self):
        self.reads += 1
        return self.inner.value


async def test_content_is_appended_once_per_frame_and_only_the_new_characters():
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test() as pilot:
        view = card.query_one(CodeView)
        appended: list[str] = []
        real = view.append
        view.append = lambda text: (appended.append(text), real(text))  # type: ignore[method-assign]
        raw = json.dumps({"path": "pkg/mod.py", "content": CONTENT})
        frames = [pieces(chunk, 3) for chunk in pieces(raw, 40)]
        for frame in frames:
            for fragment in frame:
                card.feed(fragment)
            card.flush()
        await pilot.pause()
        assert len(appended) <= len(frames)  # one append per frame at most, not per fragment
        assert "".join(appended) == CONTENT  # each character appended exactly once
        assert view.text == CONTENT
        assert card.state == "streaming" and card.has_class("-streaming")


async def test_path_shows_as_soon_as_it_is_known_and_picks_the_language():
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test() as pilot:
        card.feed('{"path": "src/app.p')
        card.flush()
        assert "src/app.p" in header(card)
        card.feed('y", "content": "import os\\nprint(os.name)')
        card.flush()
        await pilot.pause()
        assert "src/app.py" in header(card)
        assert card.query_one(CodeView).language == "Python"
        assert "2 lines" in header(card) and human_size(len("import os\nprint(os.name)")) in header(
            card
        )


async def test_language_is_looked_up_once_from_the_whole_path(monkeypatch):
    """No lookup for the empty path at mount nor for a prefix ("app.p" names another
    language, whose lexer would be loaded mid-stream): once, when the path is whole."""
    looked_up = spy(monkeypatch, CodeView, "set_language_from_path", lambda view, path: path)
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test() as pilot:
        for fragment in pieces(json.dumps({"path": "src/app.py", "content": CONTENT}), 1):
            card.feed(fragment)
            card.flush()
        await pilot.pause()
        assert "src/app.py" in header(card)
        assert looked_up == ["src/app.py"]
        assert card.query_one(CodeView).language == "Python"
        card.ready(ToolCall("c1", "save_file", {"path": "src/app.py", "content": CONTENT}, ""))
        assert looked_up == ["src/app.py"]


async def test_feeding_reads_no_reactive_after_the_first_fragment():
    """`feed` runs once per fragment (tens of thousands a file): plain attributes only, no
    reactive descriptor (each read of `state` was a call into Textual)."""
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test():
        fragments = pieces(json.dumps({"path": "a.py", "content": CONTENT}), 3)
        card.feed(fragments[0])
        reads = 0
        reactive_get = Reactive.__get__.__code__

        def profile(frame, event, arg):  # type: ignore[no-untyped-def]
            nonlocal reads
            reads += event == "call" and frame.f_code is reactive_get

        previous = sys.getprofile()
        sys.setprofile(profile)
        try:
            for fragment in fragments[1:]:
                card.feed(fragment)
        finally:
            sys.setprofile(previous)
        assert reads == 0
        assert card.state == "streaming"
        card.flush()
        assert card.query_one(CodeView).text == CONTENT


async def test_header_updates_need_no_screen_layout():
    """The header changes every frame (bytes, lines, rate) but is one row high: a repaint,
    not a layout of the whole screen."""
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test() as pilot:
        header_widget = card.query_one("#header")
        requests: list[bool] = []
        refresh = header_widget.refresh

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            requests.append(bool(kwargs.get("layout")))
            return refresh(*args, **kwargs)

        header_widget.refresh = counting  # type: ignore[method-assign]
        for frame in pieces(json.dumps({"path": "a.py", "content": CONTENT}), 20):
            card.feed(frame)
            card.flush()
        await pilot.pause()
        assert len(requests) > 5 and not any(requests)
        assert header_widget.size.height == 1
        assert f"{CONTENT.count(chr(10))} lines" in header(card)


async def test_rate_is_shown_while_streaming():
    clock = Clock()
    card = ToolCard("save_file", "c1", clock=clock)
    async with Host(card).run_test():
        card.feed('{"path": "a.txt", "content": "')
        card.feed("x" * 1000)
        card.flush()  # the frame that shows the first content starts the rate's clock
        clock.now = 2.0
        card.feed("y" * 1048)
        card.flush()
        assert "1.0 KB/s" in header(card)


async def test_save_file_never_reads_the_json_snapshot_while_streaming():
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test():
        counting = card._args.json = CountingJSON(card._args.json)  # type: ignore[assignment]
        for fragment in pieces(json.dumps({"path": "a.py", "content": CONTENT}), 5):
            card.feed(fragment)
            card.flush()
        assert counting.reads == 0


async def test_other_tools_render_pretty_json_reading_the_snapshot_once_a_frame():
    card = ToolCard("list_files", "c1")
    async with Host(card).run_test() as pilot:
        counting = card._args.json = CountingJSON(card._args.json)  # type: ignore[assignment]
        for fragment in pieces('{"path": "src", "pattern": "**/*.py"}', 4):
            card.feed(fragment)
        assert counting.reads == 0  # feeding never snapshots
        card.flush()
        card.flush()  # nothing new: no second read
        assert counting.reads == 1
        await pilot.pause()
        shown = texts([card.query_one("#args")])
        assert '"path": "src",' in shown and '"pattern": "**/*.py"' in shown


async def test_receiving_until_the_first_fragment():
    card = ToolCard("list_files", "c1")
    async with Host(card).run_test():
        assert card.state == "receiving" and card.query_one("#receiving").display
        assert "receiving" in header(card)
        card.feed("{}")
        card.flush()
        assert card.state == "streaming" and not card.query_one("#receiving").display


async def test_invalid_json_is_said_in_the_header_and_fixed_by_the_final_call():
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test() as pilot:
        card.feed('{"path": "a.py", "content": "ok"]]')
        card.flush()
        assert "not valid JSON" in header(card)
        card.ready(ToolCall("c1", "save_file", {}, '{"path"', error="Expecting value"))
        assert card.state == "invalid"
        card.finish(ToolResult("c1", "save_file", "arguments were not valid JSON", True))
        await pilot.pause()
        assert card.state == "failed"


async def test_arguments_nested_too_deeply_stop_the_live_view_with_a_note():
    card = ToolCard("list_files", "c1")
    async with Host(card).run_test():
        for _ in range(300):  # 300,000 levels: refused at the first past the limit
            card.feed("[" * 1000)
            card.flush()
        assert "nested too deeply" in header(card) and card.state == "streaming"


async def test_ready_makes_the_view_match_the_parsed_content():
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test() as pilot:
        card.feed('{"path": "a.py", "content": "partial')  # then the stream went wrong
        card.feed("\x00garbage")
        card.flush()
        card.ready(ToolCall("c1", "save_file", {"path": "b.py", "content": CONTENT}))
        await pilot.pause()
        view = card.query_one(CodeView)
        assert view.text == CONTENT and view.is_complete
        assert "b.py" in header(card) and card.state == "ready"
        assert card.source == CONTENT


async def test_short_results_show_inline_and_long_ones_fold():
    short, long_ = ToolCard("read_file", "c1"), ToolCard("read_file", "c2")

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield short
            yield long_

    async with Two().run_test() as pilot:
        for card in (short, long_):
            card.feed('{"path": "x"}')
            card.ready(ToolCall(card.call_id, "read_file", {"path": "x"}))
        short.finish(ToolResult("c1", "read_file", "one line"))
        long_.finish(ToolResult("c2", "read_file", "\n".join(f"line {i}" for i in range(50))))
        await pilot.pause()
        assert "one line" in texts(short.query(".result")) and not short.query(Collapsible)
        fold = long_.query_one(Collapsible)
        assert fold.collapsed and fold.title == "result · 50 lines"
        assert short.state == long_.state == "done"


async def test_error_result_marks_failed_and_tool_name_is_literal():
    card = ToolCard("[bold]evil[/]\x1b[31m", "c1")
    async with Host(card).run_test() as pilot:
        card.feed("{}")
        card.ready(ToolCall("c1", "evil", {}))
        card.finish(ToolResult("c1", "evil", "unknown tool [@click=app.quit]x[/]", True))
        await pilot.pause()
        assert card.state == "failed"
        assert "[bold]evil[/]" in header(card) and "\x1b" not in header(card)
        assert "[@click=app.quit]x[/]" in texts(card.query(".result"))


async def test_a_saved_result_shows_refused_from_its_field_not_its_text():
    call = ToolCall("c1", "save_file", {"path": "a.py", "content": "x"})
    refused = ToolCard("save_file", "c1", call=call)
    refused.result = ToolResult("c1", "save_file", "declined", is_error=True, refused=True)
    failed = ToolCard("save_file", "c1", call=call)
    failed.result = ToolResult("c1", "save_file", "the user refused this call", is_error=True)

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield refused
            yield failed

    async with Two().run_test() as pilot:
        await pilot.pause()
        assert refused.state == CardState.REFUSED and refused.has_class("-refused")
        assert failed.state == CardState.FAILED


async def test_cancel_marks_open_cards_only():
    open_card, done_card = ToolCard("list_files", "a"), ToolCard("list_files", "b")

    class Two(App[None]):
        def compose(self) -> ComposeResult:
            yield open_card
            yield done_card

    async with Two().run_test():
        done_card.feed("{}")
        done_card.ready(ToolCall("b", "list_files", {}))
        done_card.finish(ToolResult("b", "list_files", "x/"))
        open_card.feed('{"pa')
        for card in (open_card, done_card):
            card.cancel()
        assert open_card.state == "cancelled" and open_card.has_class("-cancelled")
        assert done_card.state == "done"


async def test_an_mcp_calls_long_argument_streams_into_the_code_view():
    card = ToolCard("mcp__db__run", "c1")
    async with Host(card).run_test() as pilot:
        code = card.query_one(CodeView)
        card.feed('{"database": "main", "limit": 5')
        card.flush()
        await pilot.pause()
        assert not code.display  # no long argument yet: the JSON view only
        card.feed(', "query": "SELECT name\\nFROM users\\nWHERE id = ')
        card.flush()
        await pilot.pause()
        assert code.display and code.text == "SELECT name\nFROM users\nWHERE id = "
        assert "SQL" in code.language  # from the argument's name: no path argument
        args = texts(card.query("#args"))
        assert '"database": "main"' in args and "SELECT" not in args
        arguments = {"database": "main", "limit": 5, "query": "SELECT name\nFROM users"}
        card.ready(ToolCall("c1", "mcp__db__run", arguments))
        await pilot.pause()
        assert code.text == "SELECT name\nFROM users" and card.source == code.text
        assert "2 lines" in header(card)


async def test_an_mcp_call_without_a_long_argument_shows_json_only():
    card = ToolCard("mcp__time__now", "c1")
    async with Host(card).run_test() as pilot:
        for fragment in pieces(json.dumps({"timezone": "Europe/Paris"}), 4):
            card.feed(fragment)
        card.ready(ToolCall("c1", "mcp__time__now", {"timezone": "Europe/Paris"}))
        await pilot.pause()
        assert not card.query_one(CodeView).display
        assert "Europe/Paris" in texts(card.query("#args"))


async def test_progress_of_a_running_call_shows_in_the_header():
    card = ToolCard("mcp__t__slow", "c1")
    async with Host(card).run_test() as pilot:
        card.ready(ToolCall("c1", "mcp__t__slow", {"steps": 3}))
        card.progress(1, 3, "step 1")  # not running yet: not shown
        card.flush()
        assert "1/3" not in header(card)
        card.mark_running()
        card.progress(2, 3, "step \x1b[31m2\n")
        card.flush()
        await pilot.pause()
        assert header(card).endswith("running · 2/3 step 2")
        card.finish(ToolResult("c1", "mcp__t__slow", "done"))
        assert "2/3" not in header(card)


async def test_ready_shows_the_unparsed_tail_from_the_call_without_parsing_it():
    """The call holds the whole content: the fragments pushed since the last frame are not
    parsed again (a 200 KB file: ~5 ms of parsing on the way to the tool run); the view
    gets only the characters it lacks."""
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test() as pilot:
        counting = CountingJSON(card._args.json)
        card._args.json = counting  # type: ignore[assignment]
        pulls = 0
        real_pull = counting.pull

        def pull():  # type: ignore[no-untyped-def]
            nonlocal pulls
            pulls += 1
            return real_pull()

        counting.pull = pull  # type: ignore[method-assign]
        text = json.dumps({"path": "a.py", "content": CONTENT})
        half = len(text) // 2
        card.feed(text[:half])
        card.flush()
        assert pulls == 1
        view = card.query_one(CodeView)
        shown_before = view.text
        appended: list[str] = []
        real_append = view.append
        view.append = lambda piece: (appended.append(piece), real_append(piece))[1]  # type: ignore[method-assign]
        card.feed(text[half:])  # pushed, never parsed
        card.ready(ToolCall("c1", "save_file", {"path": "a.py", "content": CONTENT}))
        await pilot.pause()
        assert pulls == 1
        assert appended == [CONTENT[len(shown_before) :]]
        assert view.text == CONTENT and view.is_complete and card.state == "ready"
        assert "a.py" in header(card) and f"{CONTENT.count(chr(10))} lines" in header(card)


async def test_a_state_change_restyles_only_the_card_and_its_header():
    """The state class styles the card and its header; applying the stylesheet to every
    node under the card (the code view, its scrollbars) cost 2-4 ms a change and a layout
    of the whole screen. One pass a change, on those two nodes, and none on mount."""
    card = ToolCard("save_file", "c1")
    app = Host(card)
    async with app.run_test() as pilot:
        header_widget = card.query_one("#header")
        passes: list[list[object]] = []
        update_nodes = app.stylesheet.update_nodes

        def counting(nodes, animate=False):  # type: ignore[no-untyped-def]
            nodes = list(nodes)
            passes.append(nodes)
            return update_nodes(nodes, animate=animate)

        app.stylesheet.update_nodes = counting  # type: ignore[method-assign]
        card.feed('{"path": "a.py", "content": "x = 1\\n"}')
        assert card.state == "streaming" and card.has_class("-streaming")
        assert not card.has_class("-receiving")
        assert passes == [[card, header_widget]]
        card.ready(ToolCall("c1", "save_file", {"path": "a.py", "content": "x = 1\n"}))
        await pilot.pause()
        assert passes[1:] == [[card, header_widget]] and card.has_class("-ready")


def test_state_classes_style_only_the_card_and_its_header():
    """What ``STATE_STYLED`` relies on: no rule selects another node by the card's state."""
    import re
    from pathlib import Path

    from tui.ui.widgets.card_state import CardState
    from tui.ui.widgets.tool_card import STATE_STYLED

    css = (Path(__file__).resolve().parents[2] / "tui" / "ui" / "app.tcss").read_text()
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    states = "|".join(state.value for state in CardState)
    selectors = [
        selector.strip()
        for block in re.findall(r"([^{}]+)\{", css)
        for selector in block.split(",")
        if re.search(rf"\.-({states})\b", selector)
    ]
    assert selectors  # the stylesheet does style the states
    for selector in selectors:
        parts = selector.split()
        assert re.fullmatch(rf"ToolCard(\.-({states}))+", parts[0]), selector
        assert parts[1:] in ([], *([s] for s in STATE_STYLED)), selector
