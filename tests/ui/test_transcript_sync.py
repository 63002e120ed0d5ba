"""The TUI never waits for the transcript's fsync: a turn runs to its end on a stuck disk.

The runtime's writer gets a ``BackgroundSync`` as ``run_app`` gives it; ``os.fsync`` is a
gate (``tests.support.disk``) held shut while a whole turn is sent, streamed and saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from providers.conversation import UserMessage as UserMsg
from tests.support.disk import SAFETY, SlowDisk, slow_disk
from tests.ui.scripted import (
    ScriptedProvider,
    idle,
    make_app,
    make_runtime,
    text_reply,
    texts,
    wait_for,
)
from tui.core.transcript import load
from tui.core.transcript.sync import BackgroundSync
from tui.ui import app as app_module
from tui.ui.widgets.messages import AssistantText, ErrorNote
from tui.ui.widgets.prompt import Prompt

SIZE = (100, 30)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowDisk]:
    with slow_disk(monkeypatch) as fake:
        yield fake


async def send(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.click(Prompt)
    for char in text:
        await pilot.press("space" if char == " " else char)
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.prompt.text == "", what="the prompt to be sent")


async def test_a_turn_runs_to_its_end_while_the_fsync_is_stuck(tmp_path, monkeypatch, disk):
    runtime = make_runtime(tmp_path, monkeypatch, ScriptedProvider(text_reply("All done.")))
    syncer = runtime.transcript.syncer = BackgroundSync()
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        # The prompt's fsync gets stuck (the sync thread may get there later, under load)...
        assert await asyncio.to_thread(disk.entered.wait, SAFETY)
        await idle(pilot)  # ...and the turn runs to its end all the same
        assert app.query_one(AssistantText).raw == "All done."
        assert disk.done == 0  # still stuck
        saved = load(runtime.transcript.path)  # yet everything is in the file already
        assert [e.message.text for e in saved.entries] == ["hi", "All done."]  # type: ignore[union-attr]
        assert app.internal_errors == []
    runtime.close()
    disk.released.set()
    syncer.close(SAFETY)
    assert disk.done == len(disk.calls) >= 2


async def test_a_failed_fsync_is_said_on_the_next_message(tmp_path, monkeypatch, disk):
    runtime = make_runtime(
        tmp_path, monkeypatch, ScriptedProvider(text_reply("one"), text_reply("two"))
    )
    syncer = runtime.transcript.syncer = BackgroundSync()
    disk.fail = True
    app = make_app(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await idle(pilot)
        disk.released.set()  # the turn's syncs fail now, in the thread
        assert await asyncio.to_thread(syncer.wait, SAFETY)
        disk.fail = False
        await send(pilot, "again")
        await idle(pilot)
        shown = texts(app.query(ErrorNote))
        assert "cannot save the transcript: [Errno 5] could not sync to disk" in shown
        assert "Traceback" not in shown and "internal error" not in shown
        assert app.internal_errors == []  # a full or failing disk is not a bug of ours
    runtime.close()
    syncer.close(SAFETY)
    assert UserMsg("again") not in load(runtime.transcript.path).messages


def test_the_exit_says_a_failed_sync_on_stderr_without_a_traceback(tmp_path, capsys, disk):
    syncer = BackgroundSync()
    disk.fail = True
    disk.released.set()
    path = tmp_path / "t.jsonl"
    path.write_text("{}\n")
    with open(path, "rb") as f:
        syncer.sync(f.fileno(), str(path))
    app_module._finish_syncs(syncer)
    err = capsys.readouterr().err
    assert err.startswith("chattui: [Errno 5] could not sync to disk: Input/output error")
    assert "Traceback" not in err
