"""The prompt's keys: a burst of keys (typed while the app was busy) applies in the order
typed, editing keys included."""

from __future__ import annotations

import copy

from textual import events
from textual._text_area_theme import TextAreaTheme
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Button, TextArea

from tests.support.spy import spy
from tests.ui.scripted import ScriptedProvider, make_app, make_runtime, text_reply, wait_for
from tui.ui.app import ChatApp
from tui.ui.widgets.prompt import Prompt

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


class PromptAndButton(App[None]):
    def compose(self) -> ComposeResult:
        yield Prompt(id="prompt")
        yield TextArea(id="textual")
        yield Button("other")


async def test_the_prompt_applies_its_theme_css_only_when_its_styles_change(monkeypatch):
    """TextArea applied its theme's CSS at every render (each frame that drew the screen's
    middle); the prompt does when its styles change (focus, app theme), and draws the same."""
    apply_css = TextAreaTheme.apply_css
    applied = spy(monkeypatch, TextAreaTheme, "apply_css", lambda theme, text_area: text_area)
    async with PromptAndButton().run_test(size=(40, 8)) as pilot:
        prompt = pilot.app.query_one(Prompt)
        prompt.focus()
        await pilot.pause()
        whole = Region(0, 0, *prompt.size)

        def renders_applying() -> int:
            """How many of five renders with nothing changed apply the CSS."""
            applied.clear()
            for _ in range(5):
                assert prompt.render_lines(whole) == first
            return len(applied)

        first = prompt.render_lines(whole)
        assert renders_applying() == 0
        textual = pilot.app.query_one("#textual", TextArea)  # Textual's own
        for _ in range(5):  # applies it each time (if not, ThemeCssKept can go)
            textual.render_lines(Region(0, 0, *textual.size))
        assert applied == [textual] * 5
        for change in ("theme", "focus"):  # a style change: the CSS is applied again
            before = (prompt._theme.base_style, prompt._theme.cursor_style)
            applied.clear()
            if change == "theme":
                pilot.app.theme = "textual-light"
            else:
                pilot.app.query_one(Button).focus()  # :focus no longer applies
            await pilot.pause()
            first = prompt.render_lines(whole)
            assert prompt in applied
            fresh = copy.copy(prompt._theme)  # what Textual's render would apply now
            apply_css(fresh, prompt)
            kept = prompt._theme
            assert (kept.base_style, kept.cursor_style, kept.selection_style) == (
                fresh.base_style,
                fresh.cursor_style,
                fresh.selection_style,
            )
            if change == "theme":
                assert (kept.base_style, kept.cursor_style) != before
            assert renders_applying() == 0
