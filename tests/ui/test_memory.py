"""Memory over many turns: what leaves the screen must not stay alive.

These count objects (never bytes or times): the count of a leaking type grows with the
turns, a bounded one does not.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from types import ModuleType

from rich.style import Style
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from providers.conversation import ToolCall
from tests.ui.scripted import (
    ScriptedProvider,
    idle,
    make_app,
    make_runtime,
    text_reply,
    wait_for,
)
from tui.ui.markdown.document import MarkdownDocument
from tui.ui.markdown.render import HREF, MarkdownTheme
from tui.ui.widgets import conversation as conversation_module
from tui.ui.widgets.conversation import Conversation, mounted_weight
from tui.ui.widgets.messages import UserMessage
from tui.ui.widgets.tool_card import ToolCard

SIZE = (100, 30)


def _objects(app: App[object]) -> dict[str, int]:
    """Widget and ``StylesCache`` objects alive but not in the app's DOM, after a collection."""
    gc.collect()
    nodes = [node for screen in app.screen_stack for node in (screen, *screen.query("*"))]
    live = {id(node) for node in nodes}
    live_caches = {id(node._styles_cache) for node in nodes}
    detached = orphaned = 0
    for obj in gc.get_objects():
        if isinstance(obj, Widget) and id(obj) not in live:
            detached += 1
        elif isinstance(obj, StylesCache) and id(obj) not in live_caches:
            orphaned += 1
    return {"detached widgets": detached, "orphaned style caches": orphaned}


async def _settled_objects(pilot) -> dict[str, int]:
    """The least of a few readings: one may catch a removal (or a recompose) half done."""
    readings = []
    for _ in range(3):
        await pilot.pause(0.02)
        readings.append(_objects(pilot.app))
    return {key: min(reading[key] for reading in readings) for key in readings[0]}


async def _turns(
    tmp_path, monkeypatch, answers: list[str], sample_at: tuple[int, ...]
) -> tuple[int, list[dict[str, int]]]:
    """Send one prompt per answer; object counts after the turns in ``sample_at``, and the
    conversation's top-level widgets at the end."""
    provider = ScriptedProvider(*[text_reply(answer) for answer in answers])
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        samples = []
        for turn in range(len(answers)):
            app.send(f"q{turn}")
            await idle(pilot)
            if turn in sample_at:
                samples.append(await _settled_objects(pilot))
        return len(app.conversation.children), samples


async def test_turns_leave_no_widgets_or_rendered_lines_behind(tmp_path, monkeypatch):
    """Old turns are pruned (budget lowered to 3 turns) and the footer recomposes twice a
    turn: Textual 8.2's ``StylesCache.get_inner_outer`` cache (1,024 entries) kept each
    removed widget's rendered lines alive; over 8 more turns nothing may pile up."""
    monkeypatch.setattr(conversation_module, "MAX_TURN_WIDGETS", 6)
    answers = [f"answer **{i}**\n\n- a\n- b" for i in range(14)]
    # Sampled once pruning is steady (turn 5): the last layout's arrangement still holds the
    # widgets pruned as it began until the next layout (a few, however many turns).
    children, (early, late) = await _turns(tmp_path, monkeypatch, answers, sample_at=(5, 13))
    assert children == 6
    # Without the workaround: +8 turns x (3 pruned widgets + 2 footers of keys) caches.
    assert late["orphaned style caches"] <= early["orphaned style caches"] + 2
    assert late["detached widgets"] <= early["detached widgets"] + 2


async def test_footer_recomposes_leave_no_rendered_lines_behind(tmp_path, monkeypatch):
    """Nothing is pruned here (6 turns are far under the budget): only the footer removes
    widgets (its keys, twice a turn), and their lines must go with them."""
    answers = [f"answer {i}" for i in range(6)]
    children, (early, late) = await _turns(tmp_path, monkeypatch, answers, sample_at=(1, 5))
    assert children == 1 + 2 * 6  # the welcome and every turn
    # Without the workaround: +4 turns x 2 recomposes x the keys shown.
    assert late["orphaned style caches"] <= early["orphaned style caches"] + 2


async def test_pruning_lets_go_of_the_removed_widgets_rendered_lines():
    """The conversation alone (no footer clearing Textual's cache for it): every widget
    drawn and then pruned must be freed with its lines."""

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Conversation()

    app = Host()
    original = conversation_module.MAX_TURN_WIDGETS
    conversation_module.MAX_TURN_WIDGETS = 4
    try:
        async with app.run_test(size=(60, 10)) as pilot:
            conversation = app.query_one(Conversation)
            samples = []
            for index in range(30):
                await conversation.add(Static(f"widget {index}\nsecond line"))
                await wait_for(pilot, lambda: conversation.children[-1].size.height > 0)
                await pilot.pause()
                # Sampled once pruning is steady (from widget 4 on): the last layout's
                # arrangement still holds a pruned widget or two until the next one.
                if index in (9, 29):
                    samples.append(await _settled_objects(pilot))
            assert len(conversation.children) == 4
    finally:
        conversation_module.MAX_TURN_WIDGETS = original
    early, late = samples
    assert late["orphaned style caches"] <= early["orphaned style caches"]  # 20 more pruned
    assert late["detached widgets"] <= early["detached widgets"]


def test_link_styles_go_with_their_answer():
    """A link's target is in its style, so each distinct link is a new style: they were kept
    in a table shared by every answer, for good (about 650 bytes a link)."""

    def link_styles(prefix: str) -> int:
        Style._add.cache_clear()  # Rich's own cache of sums (bounded: 1,024) holds some too
        gc.collect()
        return sum(
            isinstance(obj, Style) and str(obj.meta.get(HREF, "")).startswith(prefix)
            for obj in gc.get_objects()
        )

    prefix = "https://example.com/memory-test/"
    for index in range(10):
        document = MarkdownDocument(f"See [page {index}]({prefix}{index}) and **more**.")
        document.sync(80, MarkdownTheme())
        assert document.line_text(0).startswith(f"See page {index} and more.")
        assert link_styles(prefix) >= 1  # alive while its answer is
    del document
    assert link_styles(prefix) == 0


async def test_huge_answers_leave_the_dom_by_their_text(tmp_path, monkeypatch):
    """Pruning also counts text: an answer is one widget however long (with all its rendered
    lines), so widget counts alone kept 100 turns of huge answers mounted."""
    monkeypatch.setattr(conversation_module, "MAX_MOUNTED_CHARS", 3000)
    answers = ["word " * 240, "word " * 240, "word " * 240, "huge " * 1000, "short"]
    provider = ScriptedProvider(*[text_reply(answer, size=50) for answer in answers])
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        shown = []
        for turn in range(len(answers)):
            app.send(f"q{turn}")
            await idle(pilot)
            shown.append([message.source for message in app.query(UserMessage)])
            older = app.conversation.children[:-2]  # the newest two stay whatever their size
            assert sum(mounted_weight(child)[1] for child in older) <= 3000
    # Pruned when a turn starts: 1,200 characters an answer, so q0 leaves as q3 starts.
    assert shown[:4] == [["q0"], ["q0", "q1"], ["q0", "q1", "q2"], ["q1", "q2", "q3"]]
    assert shown[4] == ["q4"]  # q3's 5,000 characters went as soon as it was not the newest


def _strings_held(card: ToolCard) -> int:
    """``str`` objects reachable from the card's own state (not from other widgets)."""
    seen: set[int] = set()
    todo: list[object] = list(vars(card).values())
    strings = 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, Widget | type | ModuleType | Callable):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            strings += 1
        else:
            todo.extend(gc.get_referents(obj))
    return strings


async def test_a_finished_file_card_lets_go_of_the_streamed_fragments():
    """The card keeps every fragment pushed since the last frame, and the live parser the
    decoded text of an open string; once the call is complete the card shows the call's content
    and must not keep them (a card stays on screen for turns)."""
    content = "def f(x):\n    return x * 2\n" * 200  # 5,400 characters, 200 lines
    arguments = {"path": "f.py", "content": content}
    raw = json.dumps(arguments)
    card = ToolCard("save_file", "c1")

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield card

    async with Host().run_test() as pilot:
        for start in range(0, len(raw), 4):
            card.feed(raw[start : start + 4])
        streamed = _strings_held(card)  # before the frame that parses them
        card.flush()
        await pilot.pause()
        card.ready(ToolCall("c1", "save_file", arguments, raw))
        await pilot.pause()
        assert card.source == content
        fragments = len(raw) // 4
        assert streamed > fragments  # one string per fragment while it streams
        # Once complete: the card's own widgets' strings (classes, bindings...) and the call's.
        assert _strings_held(card) < streamed - fragments * 0.9
