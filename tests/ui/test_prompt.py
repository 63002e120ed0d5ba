"""The prompt's keys: a burst of keys (typed while the app was busy) applies in the order
typed, editing keys included."""

from __future__ import annotations

from textual import events
from textual.pilot import Pilot

from tests.ui.scripted import ScriptedProvider, make_app, make_runtime, text_reply, wait_for
from tui.ui.app import ChatApp

SIZE = (100, 30)
LAST = "ω"  # typed last in each burst: once it is in the prompt, the burst is handled


def burst(app: ChatApp, *keys: str) -> None:
    """Queue ``keys`` at once, as Textual's input thread does when the loop was busy."""
    for key in (*keys, LAST):
        character = key if len(key) == 1 else None
        app.post_message(events.Key(key, character))


async def typed(app: ChatApp, pilot: Pilot[int], *keys: str) -> str:
    """The prompt's text after a burst of ``keys`` (and ``LAST``, removed)."""
    burst(app, *keys)
    await wait_for(pilot, lambda: LAST in app.prompt.text, what="the burst")
    for _ in range(3):  # anything still travelling (a key bubbling to the app) arrives
        await pilot.pause()
    return app.prompt.text.replace(LAST, "", 1)


async def test_backspace_in_a_burst_deletes_the_key_before_it(tmp_path, monkeypatch):
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # Textual ran backspace's binding after the key had bubbled up to the app, so the
        # "c" queued behind it was inserted first and deleted: "ba".
        assert await typed(app, pilot, "b", "a", "backspace", "c") == "bc"


async def test_cursor_keys_in_a_burst_move_before_the_next_key(tmp_path, monkeypatch):
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = await typed(app, pilot, "a", "c", "left", "b", "end", "d", "home", "x")
        assert text == "xabcd"


async def test_keys_the_prompt_does_not_bind_still_reach_the_app(tmp_path, monkeypatch):
    """ctrl+n (the app's "new conversation") is not the prompt's: it still bubbles up."""
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("a"))))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ran: list[str] = []
        app.action_new_conversation = lambda: ran.append("new")  # type: ignore[method-assign]
        await typed(app, pilot, "a", "ctrl+n")
        assert ran == ["new"]
