"""Pilot tests of "Switch model": the server's list, a typed name, the status bar, the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.conversation import UserMessage
from tests.support.loopback import LoopbackServer, Reply
from tests.support.models import models_body
from tests.ui.scripted import make_app, search_palette, wait_for
from tui.core.runtime import Options, start
from tui.core.transcript import load

SIZE = (100, 40)
JSON = {"Content-Type": "application/json"}


def runtime_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[providers.local]\nkind = "openai"\nbase_url = "{base_url}"\nmodel = "first"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CHATTUI_CONFIG", str(config))
    monkeypatch.setenv("CHATTUI_DATA_DIR", str(tmp_path / "data"))
    return start(Options(workspace=workspace))


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)


async def open_models(pilot) -> None:
    await search_palette(pilot, "switch model")
    await pilot.press("enter")
    await pilot.pause()


def palette_text(app) -> str:
    from textual.command import CommandList

    option_list = app.screen.query_one(CommandList)
    return "\n".join(
        str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)
    )


async def test_lists_the_servers_models_and_switches_to_the_chosen_one(
    server: LoopbackServer, tmp_path, monkeypatch
):
    server.script("/v1/models", Reply([models_body("openai", ["first", "second"])], headers=JSON))
    runtime = runtime_for(tmp_path, monkeypatch, server.base_url + "/v1")
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await open_models(pilot)
        await wait_for(pilot, lambda: "second" in palette_text(app), what="the model list")
        assert "● first" in palette_text(app)  # the one in use is marked
        await type_text(pilot, "secon")
        await wait_for(pilot, lambda: palette_text(app).startswith("second"), what="the match")
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.provider.model == "second", what="the switch")
        assert "local · second" in str(app.status_bar.render())
        # Asked once per session: opening the list again sends no request.
        await open_models(pilot)
        await wait_for(pilot, lambda: "● second" in palette_text(app), what="the list again")
        await pilot.press("escape")
    assert [r.path for r in server.requests] == ["/v1/models"]
    # Switched before the first message: the meta line names the model, no note is needed.
    runtime.transcript.append_user(UserMessage("hi"))
    saved = load(runtime.transcript.path)
    assert (saved.meta["model"], saved.notes) == ("second", [])


async def test_a_typed_name_is_accepted_when_the_server_has_no_list(
    server: LoopbackServer, tmp_path, monkeypatch
):
    server.script("/v1/models", Reply([b'{"error": "no"}'], status=404, headers=JSON))
    runtime = runtime_for(tmp_path, monkeypatch, server.base_url + "/v1")
    runtime.transcript.append_user(UserMessage("hi"))
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await open_models(pilot)
        await wait_for(pilot, lambda: "no model list" in palette_text(app), what="the reason")
        await type_text(pilot, "my-model")
        await wait_for(pilot, lambda: "Use model: my-model" in palette_text(app), what="typed")
        assert palette_text(app).startswith("Use model: my-model")
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.provider.model == "my-model", what="the switch")
        assert "local · my-model" in str(app.status_bar.render())
    notes = load(runtime.transcript.path).notes
    assert [(n.kind, n.text) for n in notes] == [("model", "switched to local · my-model")]
