"""Versions of a conversation on screen: edit a prompt, regenerate, step and switch branches.

``BranchActions`` turns ``Branching``'s moves (``tui.ui.branching``) into what the screen
shows; a move's problem becomes a note, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on

from tui.core.branches import BranchError
from tui.core.transcript import Transcript, TranscriptError
from tui.ui.branching import Edit
from tui.ui.turns import BUSY, TurnApp
from tui.ui.widgets.conversation import history_widgets
from tui.ui.widgets.messages import UserMessage
from tui.ui.widgets.safe import one_line


class BranchActions(TurnApp):
    """The branch keys and palette actions of ``ChatApp``."""

    async def show_branch(self, view: Transcript) -> None:
        """Show ``view`` (a branch of the conversation) instead of what is on screen."""
        await self.reset_view(welcome=False)
        await self.conversation.add_history(history_widgets(view))
        self.conversation.follow()
        self.refresh_bindings()

    async def _branch_move(self, move: Callable[[], Transcript]) -> Transcript | None:
        """Run a branch operation when idle; its problems become notes, not crashes."""
        if self.busy:
            self.notify(BUSY, markup=False)
            return None
        try:
            view = move()
        except (BranchError, TranscriptError, OSError) as exc:
            self.notify(one_line(str(exc)), severity="warning", markup=False)
            return None
        await self.show_branch(view)
        return view

    @on(UserMessage.EditRequested)
    def _on_edit_requested(self, event: UserMessage.EditRequested) -> None:
        shown = list(self.conversation.query_children(UserMessage))
        if event.widget in shown:
            back = len(shown) - 1 - shown.index(event.widget)
            self._begin_edit(lambda: self.branching.prompt_from_end(back))

    def action_edit_prompt(self, node: str) -> None:
        """Palette: edit a prompt of this branch; sending it starts a new version."""
        self._begin_edit(lambda: self.branching.start_edit(node))

    def _begin_edit(self, mark: Callable[[], Edit]) -> None:
        if self.busy:
            self.notify(BUSY, markup=False)
            return
        try:
            edit = mark()
        except (BranchError, TranscriptError, OSError) as exc:
            self.notify(one_line(str(exc)), severity="warning", markup=False)
            return
        self.prompt.load_text(edit.text)
        self.prompt.move_cursor(self.prompt.document.end)
        self.prompt.focus()
        self.refresh_bindings()
        hint = f"editing prompt {edit.number}: Enter sends it as a new version, Esc drops the edit"
        self.notify(hint, markup=False)

    async def _send_edit(self, text: str) -> None:
        moved: list[tuple[int, int]] = []

        def move() -> Transcript:
            view, version = self.branching.send_edit()
            moved.append(version)
            return view

        if await self._branch_move(move) is not None:
            self._start_turn(text, moved[0])

    async def action_regenerate(self) -> None:
        """Ctrl+G: a new answer to the last prompt (the old one stays, as another version)."""
        if await self._branch_move(self.branching.regenerate) is not None:
            self._start_turn(None)

    async def action_step_branch(self, delta: int) -> None:
        """Alt+Left / Alt+Right: the previous or next version at the last fork."""
        await self._branch_move(lambda: self.branching.step(delta))

    async def action_switch_branch(self, node: str) -> None:
        """Palette: show the branch through ``node`` and continue it."""
        await self._branch_move(lambda: self.branching.switch(node))

    async def action_undo_branch(self) -> None:
        """Palette: back to the branch shown before the last switch, edit or regenerate."""
        await self._branch_move(self.branching.undo)
