"""Pilot tests of the live edit_file card: the diff grows while new_string streams."""

from __future__ import annotations

import json

from textual.app import App, ComposeResult

from providers.conversation import ToolCall
from tests.ui.scripted import (
    Pause,
    ScriptedProvider,
    call_events,
    idle,
    make_app,
    make_runtime,
    pieces,
    text_reply,
    texts,
    tool_reply,
    wait_for,
)
from tui.core.tools.edit import RowKind
from tui.ui.widgets.diff_view import DiffView
from tui.ui.widgets.tool_card import ToolCard

SIZE = (100, 40)
LINES = 5000
TARGET = 2500


def big_file() -> str:
    return "".join(f"value_{i} = {i}\n" for i in range(1, LINES + 1))


def new_body(rows: int) -> str:
    return "".join(f"added_{i} = compute({i})\n" for i in range(rows))


async def start_edit(tmp_path, monkeypatch, arguments, pause_at=None, pause=None):
    (tmp_path / "ws").mkdir(exist_ok=True)
    (tmp_path / "ws" / "big.py").write_text(big_file())
    call = call_events("edit_file", arguments, size=8, pause_at=pause_at, pause=pause)
    provider = ScriptedProvider(tool_reply(call), text_reply("Edited."))
    return make_app(make_runtime(tmp_path, monkeypatch, provider))


async def send(pilot, text: str) -> None:
    pilot.app.send(text)
    await wait_for(pilot, lambda: pilot.app.query(ToolCard), what="the card")


async def test_the_diff_grows_with_real_line_numbers_before_the_call_completes(
    tmp_path, monkeypatch
):
    body = new_body(40)
    arguments = {"path": "big.py", "old_string": f"value_{TARGET} = {TARGET}\n", "new_string": body}
    pause = Pause()
    # Pause in the middle of new_string: path and old_string are whole, the body half sent.
    prefix = len('{"path": "big.py", "old_string": "value_2500 = 2500\\n", "new_string": "')
    app = await start_edit(tmp_path, monkeypatch, arguments, prefix + len(body) // 2, pause)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "edit")
        await wait_for(pilot, pause.reached.is_set, what="the pause")
        await wait_for(pilot, lambda: app.query(DiffView), what="the card (by the next frame)")
        view = app.query_one(DiffView)
        # Rows are applied once a frame, and the view is laid out at the next refresh.
        await wait_for(
            pilot, lambda: view.row_count > 10 and view.size.height > 0, what="added rows"
        )
        await pilot.pause()  # the fragments before the pause are all applied and drawn
        card = app.query_one(ToolCard)
        assert card.state == "streaming"
        rows = view.rows()
        removed = [row for row in rows if row.kind is RowKind.REMOVED]
        added = [row for row in rows if row.kind is RowKind.ADDED]
        assert [(r.old, r.text) for r in removed] == [(TARGET, f"value_{TARGET} = {TARGET}")]
        context = [row for row in rows if row.kind is RowKind.CONTEXT]
        assert [r.old for r in context] == [TARGET - 3, TARGET - 2, TARGET - 1]
        assert added[0] == type(added[0])(RowKind.ADDED, None, TARGET, "added_0 = compute(0)")
        assert 5 < len(added) < 40  # partial: still growing
        assert all(row.text in body for row in added)
        assert "old_string found in big.py" in texts(card.query("#where"))

        def drawn() -> list[str]:
            return [view.render_line(y).text for y in range(view.size.height)]

        # Following the tail: the growing row is in view (once the view is laid out).
        await wait_for(pilot, lambda: drawn() and added[-1].text in drawn()[-1], what="the tail")
        assert [str(TARGET), "+", "added_0"] in [line.split()[:3] for line in drawn()], drawn()
        grown = len(added)
        pause.release()
        await wait_for(pilot, lambda: card.state == "approval", what="approval")
        final = view.rows()
        assert len([r for r in final if r.kind is RowKind.ADDED]) == 40 > grown
        assert [r.old for r in final if r.kind is RowKind.CONTEXT][-3:] == [2501, 2502, 2503]
        await wait_for(pilot, lambda: app.focused is card, what="the card to take focus")
        await pilot.press("y")
        await idle(pilot)
        expected = big_file().replace(f"value_{TARGET} = {TARGET}\n", body)
        assert (tmp_path / "ws" / "big.py").read_text() == expected
        assert card.state == "done"


async def test_an_ambiguous_match_is_shown_live_and_fails_cleanly(tmp_path, monkeypatch):
    arguments = {"path": "big.py", "old_string": "= 250", "new_string": "= -1"}
    app = await start_edit(tmp_path, monkeypatch, arguments)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "edit")
        await idle(pilot)
        card = app.query_one(ToolCard)
        where = texts(card.query("#where"))
        assert "matches 11 times in big.py" in where  # 250, 2500..2509
        assert card.state == "failed"
        result = texts(card.query(".result"))
        assert "matches 11 times" in result and "lines 250, 2500" in result
        assert (tmp_path / "ws" / "big.py").read_text() == big_file()


async def test_not_found_is_shown_live_and_nothing_is_written(tmp_path, monkeypatch):
    arguments = {"path": "big.py", "old_string": "value_9999 = 1\n", "new_string": "x\n"}
    app = await start_edit(tmp_path, monkeypatch, arguments)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "edit")
        await idle(pilot)
        card = app.query_one(ToolCard)
        assert "old_string not found in big.py" in texts(card.query("#where"))
        assert card.state == "failed"
        kinds = [row.kind for row in app.query_one(DiffView).rows()]
        assert kinds == [RowKind.REMOVED, RowKind.ADDED]  # the arguments, unnumbered
        assert (tmp_path / "ws" / "big.py").read_text() == big_file()


async def test_a_call_fed_whole_before_any_frame_is_still_located(tmp_path, monkeypatch):
    """A fast server (or a busy machine) can deliver a whole call before the first frame
    parses its fragments: the card dropped them unparsed and showed "the path is empty"."""
    runtime = make_runtime(tmp_path, monkeypatch)
    (tmp_path / "ws" / "big.py").write_text(big_file())
    arguments = {"path": "big.py", "old_string": "value_2500 = 2500\n", "new_string": "x = 1\n"}
    raw = json.dumps(arguments)
    card = ToolCard("edit_file", "c1", edit_reader=runtime.session.tools.read_for_edit)

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield card

    async with One().run_test(size=SIZE) as pilot:
        await pilot.pause()
        for piece in pieces(raw, 8):
            card.feed(piece)  # no frame between them: nothing parsed yet
        card.ready(ToolCall("c1", "edit_file", arguments, raw))
        await pilot.pause()
        assert "old_string found in big.py" in texts(card.query("#where"))
        assert any(row.kind is RowKind.REMOVED for row in card.query_one(DiffView).rows())


async def test_the_approval_shows_the_diff_refined_to_the_changed_line(tmp_path, monkeypatch):
    # Live, every line old_string touches is removed and every new line added; once the call
    # is complete the card shows what the approval is about: one line changed.
    old = "".join(f"value_{i} = {i}\n" for i in range(TARGET, TARGET + 10))
    new = old.replace(f"value_{TARGET + 5} = ", f"value_{TARGET + 5} = 2 * ")
    app = await start_edit(
        tmp_path, monkeypatch, {"path": "big.py", "old_string": old, "new_string": new}
    )
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "edit")
        card = app.query_one(ToolCard)
        await wait_for(pilot, lambda: card.query("#approval-title"), what="the question")
        changed = [r for r in app.query_one(DiffView).rows() if r.kind is not RowKind.CONTEXT]
        assert [(r.kind, r.old, r.new) for r in changed] == [
            (RowKind.REMOVED, TARGET + 5, None),
            (RowKind.ADDED, None, TARGET + 5),
        ]
        assert "+1 -1" in texts(card.query("#approval-title"))
