"""Text typed and not sent survives the app's exit: the next start in the workspace shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.scripted import (
    ScriptedProvider,
    make_app,
    make_runtime,
    paused_answer,
    text_reply,
    wait_for,
)
from tui.core.drafts import draft_path
from tui.ui.app import ChatApp

SIZE = (100, 30)


async def type_text(pilot, text: str) -> None:
    assert pilot.app.focused is pilot.app.prompt
    for char in text:
        await pilot.press("space" if char == " " else char)
    await wait_for(pilot, lambda: pilot.app.prompt.text.endswith(text), what="the typing")


async def send(pilot, text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.prompt.text == "", what="the prompt to be sent")


def notes(app: ChatApp) -> list[str]:
    return [note.message for note in app._notifications]


def kept(tmp_path: Path) -> Path:
    return draft_path(tmp_path / "ws", {"CHATTUI_DATA_DIR": str(tmp_path / "data")})


async def next_start(tmp_path, monkeypatch) -> tuple[str, list[str]]:
    """The prompt's text and the notes of a new app started in the same workspace."""
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        return app.prompt.text, notes(app)


async def test_text_typed_and_not_sent_is_back_at_the_next_start(tmp_path, monkeypatch):
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "half a thought")
    text, said = await next_start(tmp_path, monkeypatch)
    assert text == "half a thought"
    assert "the text you had not sent is back in the input" in said


async def test_prompts_queued_behind_an_answer_are_kept_with_the_text(tmp_path, monkeypatch):
    pause, provider = paused_answer()
    app = make_app(make_runtime(tmp_path, monkeypatch, provider))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "first")
        await wait_for(pilot, pause.reached.is_set)
        await send(pilot, "second")
        await type_text(pilot, "third")
        assert app.queue == ["second"]
    # The exit cancelled the answer: "second" was never sent.
    assert len(provider.requests) == 1
    assert (await next_start(tmp_path, monkeypatch))[0] == "second\n\nthird"


async def test_a_recalled_past_prompt_is_not_kept_as_the_draft(tmp_path, monkeypatch):
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "old")
        await wait_for(pilot, lambda: not app.busy, what="the answer")
        await type_text(pilot, "new")
        await pilot.press("up")
        await wait_for(pilot, lambda: app.prompt.text == "old", what="the recall")
    assert (await next_start(tmp_path, monkeypatch))[0] == "new"


async def test_the_draft_is_saved_while_typing_and_forgotten_once_sent(tmp_path, monkeypatch):
    monkeypatch.setattr("tui.ui.app.DRAFT_EVERY", 0.01)
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "kept")
        # Saved while the app runs: a killed chattui loses only the last moments of typing.
        await wait_for(pilot, kept(tmp_path).exists, what="the draft to be saved")
        assert kept(tmp_path).read_text(encoding="utf-8") == "kept"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not kept(tmp_path).exists(), what="the draft to go")
    assert (await next_start(tmp_path, monkeypatch))[0] == ""


async def test_a_draft_that_cannot_be_saved_is_said_once(tmp_path, monkeypatch):
    monkeypatch.setattr("tui.ui.app.DRAFT_EVERY", 0.01)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "drafts").write_text("a file in the way", encoding="utf-8")
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        await type_text(pilot, "x")

        def warned() -> list[str]:
            return [n for n in notes(app) if n.startswith("the unsent text is not kept")]

        await wait_for(pilot, warned, what="the warning")
        await type_text(pilot, "y")
        await wait_for(pilot, lambda: app.prompt.text == "xy", what="the typing")
        for _ in range(5):
            await pilot.pause(0.02)
        assert len(warned()) == 1
        assert app.prompt.text == "xy"  # what was typed stays on screen


@pytest.mark.parametrize("blank", ["", "   \n"])
async def test_a_blank_prompt_restores_nothing(tmp_path, monkeypatch, blank):
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        if blank:
            app.prompt.load_text(blank)
        await pilot.pause()
    text, said = await next_start(tmp_path, monkeypatch)
    assert text == "" and not any("back in the input" in n for n in said)
