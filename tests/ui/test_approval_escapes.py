"""The approval diff shows what the file will hold: escape sequences escaped, never stripped.

The file is written byte for byte, so a diff that silently dropped ``\\x1b[31m`` would show
the user less than they approve. The code view already showed ``\\x1b``; so do the approval
panel and pipe mode's terminal prompt now, and pipe mode's one-line summaries keep a newline
in a path visible as ``\\n``.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.syntax import Syntax
from textual.app import App, ComposeResult
from textual.widgets import Static

from providers.conversation import ToolCall
from tui.core.session import CallReady
from tui.core.tools.registry import PreparedCall, ToolRegistry
from tui.pipe import _ask_tty
from tui.pipe_printers import TextPrinter
from tui.ui.widgets.tool_card import ToolCard

NEW = "line one\nred \x1b[31mhere\x1b[0m and \u202egnp.exe\n"


def overwrite(tmp_path: Path) -> PreparedCall:
    (tmp_path / "a.txt").write_text("line one\nold\n")
    call = ToolCall("c1", "save_file", {"path": "a.txt", "content": NEW})
    prepared = ToolRegistry(tmp_path).prepare(call)
    assert isinstance(prepared, PreparedCall) and prepared.preview
    return prepared


class Host(App[None]):
    def __init__(self, card: ToolCard) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        yield self.card


async def test_the_approval_diff_shows_escape_sequences_escaped(tmp_path: Path) -> None:
    prepared = overwrite(tmp_path)
    card = ToolCard("save_file", "c1")
    async with Host(card).run_test() as pilot:
        card.run_worker(card.ask(prepared))
        await pilot.pause()
        while not card.query("#diff"):
            await pilot.pause(0.01)
        syntax = card.query_one("#diff", Static).content
        assert isinstance(syntax, Syntax)
        shown = syntax.code
        assert "+red \\x1b[31mhere\\x1b[0m and \\u202egnp.exe" in shown
        assert "\x1b" not in shown and "\u202e" not in shown
        card.action_answer("always")  # answered before the app goes away
        await pilot.pause()


def test_the_terminal_prompt_shows_escape_sequences_escaped(tmp_path: Path) -> None:
    tty = io.StringIO()
    answer = _ask_tty(tty, overwrite(tmp_path))  # nothing to read: end of input is a no
    assert answer.decision == "no"
    assert "+red \\x1b[31mhere\\x1b[0m and \\u202egnp.exe" in tty.getvalue()
    assert "\x1b" not in tty.getvalue()


def test_a_newline_in_a_path_stays_visible_in_the_summary() -> None:
    out, err = io.StringIO(), io.StringIO()
    call = ToolCall("c1", "save_file", {"path": "a\nb.txt", "content": "x"})
    TextPrinter(out, err).show(CallReady(0, call))
    assert "path='a\\nb.txt'" in err.getvalue()
