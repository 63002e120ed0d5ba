"""The app's branch commands: edit a past prompt, regenerate the answer, switch versions.

Nothing is lost: an edited prompt or a regenerated answer becomes a new version
beside the old one (``tui.core.branches``), and ``alt+←`` / ``alt+→`` step between
the versions at the last fork of the conversation shown. Editing only marks the
prompt until it is sent (Escape drops the edit), so an edit started by mistake
changes nothing. "Undo branch switch" goes back to where the last move started.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core import branches
from tui.core.runtime import Runtime
from tui.core.transcript import Transcript


@dataclass
class Edit:
    """A prompt being edited: its message id, its number on the branch, its old text."""

    node: str
    number: int
    text: str


class Branching:
    """Branch state for one app: the edit in progress and the head before the last move."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.editing: Edit | None = None
        self.before: str | None = None
        """The head the last switch, edit or regenerate left (what undo returns to)."""
        self.forked = False
        """Whether the conversation shown has other versions somewhere (keys shown)."""

    def prompt_from_end(self, back: int) -> Edit:
        """Mark for editing the prompt ``back`` places from the last one (0: the last).

        Raises:
            BranchError: there is no such prompt on the branch.
        """
        found = branches.prompts(self.runtime.transcript)
        if not 0 <= back < len(found):
            raise branches.BranchError("that prompt is not on this branch")
        return self.start_edit(found[-1 - back].node)

    def start_edit(self, node: str) -> Edit:
        """Mark the prompt ``node`` for editing (nothing changes until it is sent).

        Raises:
            BranchError: ``node`` is not a prompt of the current branch.
        """
        for prompt in branches.prompts(self.runtime.transcript):
            if prompt.node == node:
                self.editing = Edit(node, prompt.number, prompt.text)
                return self.editing
        raise branches.BranchError("that prompt is not on this branch")

    def send_edit(self) -> tuple[Transcript, tuple[int, int]]:
        """Go back to before the prompt being edited; its new version goes out next.

        Returns:
            The conversation up to there, and the new version's ``(n, count)``.
        """
        assert self.editing is not None
        writer = self.runtime.transcript
        node, self.editing = self.editing.node, None
        self.before = writer.head
        view, _ = branches.edit(writer, self.runtime.session, node)
        count = len(view.tree.siblings(node)) + 1
        self.forked = True  # the version about to be sent has a sibling
        return view, (count, count)

    def regenerate(self) -> Transcript:
        """Go back to the last prompt; the answer that follows is a new version."""
        self.before = self.runtime.transcript.head
        view = branches.regenerate(self.runtime.transcript, self.runtime.session)
        self.forked = True  # the answer about to stream has a sibling
        return view

    def step(self, delta: int) -> Transcript:
        """The previous (-1) or next (+1) version at the last fork."""
        before = self.runtime.transcript.head
        view = branches.step(self.runtime.transcript, self.runtime.session, delta)
        self.before = before
        return self._seen(view)

    def switch(self, node: str) -> Transcript:
        """The branch through ``node``."""
        before = self.runtime.transcript.head
        view = branches.switch(self.runtime.transcript, self.runtime.session, node)
        self.before = before
        return self._seen(view)

    def undo(self) -> Transcript:
        """Back to where the last move started.

        Raises:
            BranchError: no move to undo.
        """
        if self.before is None:
            raise branches.BranchError("no branch switch to undo")
        return self.switch(self.before)

    def reset(self, shown: Transcript | None = None) -> None:
        """Forget the edit and the undo point: another conversation (``shown``) is on screen."""
        self.editing = None
        self.before = None
        self.forked = shown is not None and shown.tree.branched

    def _seen(self, view: Transcript) -> Transcript:
        self.forked = view.tree.branched
        return view
