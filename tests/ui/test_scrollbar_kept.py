"""A tool card's code view redraws its scrollbar only when the bar changes
(``compat.ScrollbarsKeptWhenSame``): each later layout of the turn used to redraw it."""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from tests.ui.scripted import (
    ScriptedProvider,
    call_events,
    idle,
    make_app,
    make_runtime,
    text_reply,
    tool_reply,
    wait_for,
)
from tui.ui.widgets.card_state import CardState
from tui.ui.widgets.code_view import CodeView
from tui.ui.widgets.tool_card import ToolCard

CONTENT = "def f(x):\n    return x * 2\n" * 500


async def test_a_done_cards_scrollbar_is_not_redrawn_by_the_next_turns_layouts(
    tmp_path: Any, monkeypatch: Any
) -> None:
    call = call_events("save_file", {"path": "a.py", "content": CONTENT}, size=400)
    provider = ScriptedProvider(tool_reply(call), text_reply("Saved."), text_reply("More."))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider, approval="auto"))
    redraws: list[Widget] = []
    refresh = Widget.refresh

    def counted(self: Widget, *args: Any, **kwargs: Any) -> Any:
        if isinstance(self.parent, CodeView) and self is self.parent.vertical_scrollbar:
            redraws.append(self)
        return refresh(self, *args, **kwargs)

    async with app.run_test(size=(120, 40)) as pilot:
        app.send("write it")
        await wait_for(
            pilot,
            lambda: bool(app.query(ToolCard)) and app.query_one(ToolCard).state is CardState.DONE,
            what="the card done",
        )
        await idle(pilot)
        view = app.query_one(CodeView)
        assert view.show_vertical_scrollbar  # 1,000 lines in 20 rows
        monkeypatch.setattr(Widget, "refresh", counted)
        app.send("again")  # a turn below the card: layouts that move and resize around it
        await wait_for(pilot, lambda: "More." in str(app.query("*")) or not app.busy, what="turn")
        await idle(pilot)
    assert redraws == []
