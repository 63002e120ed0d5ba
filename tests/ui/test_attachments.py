"""Pilot tests of ``@path`` in the TUI: the image reaches the request, a chip shows it,
and a refused file is said in the conversation with the prompt given back."""

from __future__ import annotations

from typing import Any

from tests.ui.scripted import ScriptedProvider, idle, make_app, make_runtime, text_reply, wait_for
from tui.ui.widgets.messages import ErrorNote, UserMessage

SIZE = (100, 40)
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"


async def type_and_send(pilot: Any, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)
    await pilot.press("enter")


async def test_an_at_mentioned_image_goes_with_the_prompt_and_shows_as_a_chip(
    tmp_path, monkeypatch
):
    provider = ScriptedProvider(text_reply("A cat."))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    (tmp_path / "ws" / "shot.png").write_bytes(PNG)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        app.send("what is @shot.png")
        await idle(pilot)
        (sent,) = provider.requests[0].messages
        assert sent.images[0].data == PNG and sent.images[0].media_type == "image/png"
        (shown,) = app.conversation.query_children(UserMessage)
        assert "📎 shot.png" in str(shown.render())


async def test_a_file_outside_the_workspace_is_refused_and_the_prompt_comes_back(
    tmp_path, monkeypatch
):
    provider = ScriptedProvider(text_reply("never"))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    (tmp_path / "secret.png").write_bytes(PNG)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "see @../secret.png")
        await wait_for(pilot, lambda: app.query(ErrorNote), what="the refusal")
        await idle(pilot)
        assert "outside the workspace" in app.query_one(ErrorNote).message
        assert app.prompt.text == "see @../secret.png"
        assert provider.requests == []
        assert list(app.conversation.query_children(UserMessage)) == []


async def test_a_refused_prompt_comes_back_before_what_was_typed_since(tmp_path, monkeypatch):
    # Before: with text already typed in the input, the refused prompt was dropped.
    provider = ScriptedProvider(text_reply("never"))
    runtime = make_runtime(tmp_path, monkeypatch, provider)
    (tmp_path / "secret.png").write_bytes(PNG)
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        app.send("see @../secret.png")  # sent: the input is free again
        app.prompt.load_text("typed meanwhile")
        await wait_for(pilot, lambda: app.query(ErrorNote), what="the refusal")
        await idle(pilot)
        assert app.prompt.text == "see @../secret.png\n\ntyped meanwhile"
        assert provider.requests == []
