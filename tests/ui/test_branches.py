"""Pilot tests of branches: edit a past prompt (key on the message, or the palette),
regenerate, switch versions with alt+arrows, undo, and export either branch."""

from __future__ import annotations

from typing import Any

from tests.ui.scripted import ScriptedProvider, idle, make_app, make_runtime, text_reply, wait_for
from tui.core.transcript import load, to_markdown
from tui.ui.widgets.messages import AssistantTurn, BranchMark, UserMessage

SIZE = (100, 40)


async def type_and_send(pilot: Any, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)
    await pilot.press("enter")


def shown_prompts(app: Any) -> list[str]:
    return [m.source for m in app.conversation.query_children(UserMessage)]


def shown_answers(app: Any) -> list[str]:
    return [t.source for t in app.conversation.query_children(AssistantTurn)]


async def send_five(pilot: Any) -> None:
    for n in range(1, 6):
        await type_and_send(pilot, f"q{n}")
        await idle(pilot)


async def test_edit_the_second_of_five_prompts_switch_back_and_export_either(tmp_path, monkeypatch):
    replies = [text_reply(f"a{n}") for n in range(1, 7)]
    provider = ScriptedProvider(*replies)
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await send_five(pilot)
        assert shown_prompts(app) == ["q1", "q2", "q3", "q4", "q5"]
        assert app.check_action("step_branch", (-1,)) is False  # no versions yet: no keys

        # Click the second prompt and press e: its text comes back into the input.
        second = list(app.conversation.query_children(UserMessage))[1]
        second.focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: app.prompt.text == "q2", what="the old text to edit")
        assert app.prompt.has_focus
        for _ in range(2):
            await pilot.press("backspace")
        await type_and_send(pilot, "Q2")
        await idle(pilot)
        assert shown_prompts(app) == ["q1", "Q2"]
        assert shown_answers(app) == ["a1", "a6"]
        assert [m.role for m in provider.requests[-1].messages] == ["user", "assistant", "user"]
        assert "2/2" in str(list(app.conversation.query_children(UserMessage))[1].render())
        md_new = to_markdown(load(runtime.transcript.path))
        assert "Q2" in md_new and "q5" not in md_new

        # alt+left: the first version again, the whole old branch below it.
        assert app.check_action("step_branch", (-1,)) is True
        await pilot.press("alt+left")
        await wait_for(pilot, lambda: len(shown_prompts(app)) == 5, what="the old branch")
        assert shown_prompts(app) == ["q1", "q2", "q3", "q4", "q5"]
        assert "1/2" in str(list(app.conversation.query_children(UserMessage))[1].render())
        md_old = to_markdown(load(runtime.transcript.path))  # export: the branch now current
        assert "q5" in md_old and "Q2" not in md_old
        assert [m.text for m in runtime.session.history][-1] == "a5"

        # Undo the switch: back to the edited branch.
        await app.run_action("undo_branch")
        await wait_for(pilot, lambda: shown_prompts(app) == ["q1", "Q2"], what="the undo")
        assert app.internal_errors == []


async def test_regenerate_shows_the_new_answer_and_keeps_the_old(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("first"), text_reply("second"))
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hi")
        await idle(pilot)
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: provider.requests[1:], what="the second request")
        await idle(pilot)
        assert shown_answers(app) == ["second"]
        await pilot.press("alt+left")
        await wait_for(pilot, lambda: shown_answers(app) == ["first"], what="the old answer")
        mark = app.conversation.query(BranchMark).first()
        assert "1/2" in str(mark.render())
        assert shown_prompts(app) == ["hi"]


async def test_palette_edit_lists_the_prompts_and_esc_drops_an_edit(tmp_path, monkeypatch):
    provider = ScriptedProvider(text_reply("one"), text_reply("two"))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        for prompt in ("first prompt", "second prompt"):
            await type_and_send(pilot, prompt)
            await idle(pilot)
        await app.run_action("open_prompts")
        await wait_for(pilot, lambda: "1: first prompt" in palette_text(app), what="the list")
        assert palette_text(app).startswith("2: second prompt")  # newest first
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.prompt.text == "first prompt", what="the edit")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.branching.editing is None, what="the edit dropped")
        assert app.prompt.text == ""
        # Nothing changed on disk or on screen.
        assert len(load(runtime.transcript.path).tree.nodes) == 4
        assert shown_prompts(app) == ["first prompt", "second prompt"]


def palette_text(app: Any) -> str:
    from textual.command import CommandList
    from textual.css.query import NoMatches

    try:
        option_list = app.screen.query_one(CommandList)
    except NoMatches:  # the palette is still being put together
        return ""
    return "\n".join(
        str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)
    )
