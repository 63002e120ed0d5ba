"""Showing a saved conversation: which widgets ``history_widgets`` builds, and with what."""

from __future__ import annotations

from pathlib import Path

from providers.conversation import AssistantMessage, TextPart, ToolCall, ToolResult, UserMessage
from tui.core.transcript import TranscriptWriter, load
from tui.ui.widgets import conversation as conversation_module
from tui.ui.widgets.conversation import history_widgets
from tui.ui.widgets.messages import AssistantText, AssistantTurn
from tui.ui.widgets.messages import UserMessage as UserWidget
from tui.ui.widgets.tool_card import ToolCard


def saved(tmp_path: Path, turns: int, *, call_id: str | None = None) -> Path:
    """A transcript of ``turns`` turns; with ``call_id``, each turn first makes a call with
    that id (some servers number calls per response, so ids repeat across turns)."""
    with TranscriptWriter.create(tmp_path, provider="p", model="m", workspace="ws") as writer:
        for turn in range(turns):
            writer.append_user(UserMessage(f"question {turn}"))
            if call_id is not None:
                call = ToolCall(call_id, "list_files", {"path": f"d{turn}"}, "{}")
                writer.append(AssistantMessage((call,), "p", "tool_calls"))
                writer.append(ToolResult(call_id, "list_files", f"listing {turn}"))
            writer.append(AssistantMessage((TextPart(f"answer {turn}"),), "p", "stop"))
        return writer.path


def test_only_the_shown_messages_are_built(tmp_path, monkeypatch):
    """A long transcript: the widgets (and the Markdown parse) of messages that would be cut
    off at once are never made."""
    built: list[str] = []

    class Counted(AssistantText):
        def __init__(self, text: str = "", **kwargs: object) -> None:
            built.append(text)
            super().__init__(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(conversation_module, "AssistantText", Counted)
    monkeypatch.setattr(conversation_module, "MAX_TURN_WIDGETS", 6)
    widgets = history_widgets(load(saved(tmp_path, 40)))
    assert [type(w) for w in widgets] == [UserWidget, AssistantTurn] * 3
    assert [w.source for w in widgets[::2]] == ["question 37", "question 38", "question 39"]
    assert built == ["answer 37", "answer 38", "answer 39"]


def test_each_result_goes_to_the_latest_call_with_its_id(tmp_path):
    widgets = history_widgets(load(saved(tmp_path, 3, call_id="call_0")))
    blocks = [  # not mounted yet: a turn's blocks wait in Textual's pending children
        block
        for widget in widgets
        if isinstance(widget, AssistantTurn)
        for block in widget._pending_children
    ]
    cards = [block for block in blocks if isinstance(block, ToolCard)]
    assert [card.result.content if card.result else None for card in cards] == [
        "listing 0",
        "listing 1",
        "listing 2",
    ]
