"""ChatFooter: the keys a turn changes are changed in place, the others stay the same widgets."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from tests.ui.scripted import (
    Pause,
    ScriptedProvider,
    idle,
    make_app,
    make_runtime,
    text_reply,
    wait_for,
)
from tui.ui.widgets.footer import ChatFooter

SIZE = (100, 40)


async def test_a_turn_changes_only_the_footer_keys_that_change(tmp_path, monkeypatch):
    """Escape "Cancel" shows while a turn runs: it is mounted in its place and goes again,
    the other keys stay (no recompose: it delayed the turn's request by 8-18 ms), and the
    footer shows what a fresh composition would, in the same order."""
    pause = Pause()
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider([pause, *text_reply("a")])))
    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(ChatFooter)
        recomposes = 0
        original = type(footer).__mro__[1].recompose  # Textual's: the whole footer again

        async def counting(self: ChatFooter) -> None:
            nonlocal recomposes
            recomposes += 1
            await original(self)

        monkeypatch.setattr(type(footer).__mro__[1], "recompose", counting)

        def shown() -> list[tuple[str, bool]]:
            return [(key.action, key.disabled) for key in footer.query(FooterKey)]

        def composed() -> list[tuple[str, bool]]:  # what a fresh composition shows now
            keys: dict[str, bool] = {}
            for _node, binding, enabled, _tip in app.screen.active_bindings.values():
                if binding.show:
                    keys.setdefault(binding.action, not enabled)
            return [*keys.items(), ("command_palette", False)]

        before = {key.action: key for key in footer.query(FooterKey)}
        app.send("go")
        await wait_for(pilot, lambda: "cancel" in [a for a, _ in shown()], what="Cancel shown")
        await pilot.pause()
        assert shown() == composed()
        during = {key.action: key for key in footer.query(FooterKey)}
        assert all(during[action] is key for action, key in before.items() if action in during)
        pause.release()
        await idle(pilot)
        await wait_for(pilot, lambda: "cancel" not in [a for a, _ in shown()], what="Cancel gone")
        await pilot.pause()
        assert shown() == composed()
        after = {key.action: key for key in footer.query(FooterKey)}
        assert list(after) == list(before) and all(after[a] is before[a] for a in after)
        assert recomposes == 0


async def test_a_turn_refreshes_only_the_footer_key_it_adds(tmp_path, monkeypatch):
    """When "Cancel" shows, the keys that stay are not drawn again (a style set on the footer
    refreshed every key under it, twice a turn): only the new key is refreshed."""
    pause = Pause()
    app = make_app(make_runtime(tmp_path, monkeypatch, ScriptedProvider([pause, *text_reply("a")])))
    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(ChatFooter)
        await idle(pilot)
        kept = set(footer.query(FooterKey))
        refreshed: list[FooterKey] = []
        refresh = FooterKey.refresh

        def counted(self: FooterKey, *args: object, **kwargs: object) -> object:
            refreshed.append(self)
            return refresh(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(FooterKey, "refresh", counted)
        app.send("go")
        await wait_for(
            pilot, lambda: "cancel" in [k.action for k in footer.query(FooterKey)], what="Cancel"
        )
        await pilot.pause()
        assert refreshed, "the new key is drawn"
        assert not kept & set(refreshed)
        pause.release()
        await idle(pilot)
