"""The approval prompt shown on a tool card: what will happen, the diff, and the question.

The title and the diff come from ``PreparedCall`` (tool and model text): they are shown as
``Text``/``Syntax`` with hidden characters made visible, never as markup. The question is
answered with y / n / a on the card or with the buttons; n asks for an optional reason.
"""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui.core.sanitize import visible
from tui.core.tools.registry import PreparedCall
from tui.ui.widgets.safe import shown

APPROVE_PROMPT = "Approve? [y] yes  [n] no  [a] always for this tool this session"
COMMAND_PROMPT = "Run it? [y] yes  [n] no  (every command is asked)"


class ReasonInput(Input):
    """The optional reason for a refusal: Enter sends it, Escape sends none."""

    BINDINGS = [Binding("escape", "skip", "No reason", show=True)]

    def action_skip(self) -> None:
        self.value = ""
        self.post_message(Input.Submitted(self, ""))


class ApprovalPanel(Vertical):
    """What is about to happen, the diff of an existing file, and the question."""

    def __init__(self, prepared: PreparedCall) -> None:
        super().__init__(id="approval")
        self.prepared = prepared

    def compose(self) -> ComposeResult:
        yield Static(Text(visible(self.prepared.title)), id="approval-title")
        preview = self.prepared.preview
        if preview and self.prepared.diff is None:  # an edit's diff is on the card already
            yield Static(
                Syntax(
                    shown(preview).rstrip("\n"),  # escapes shown, not stripped
                    "diff",
                    theme="ansi_dark",
                    background_color="default",
                    word_wrap=True,
                ),
                id="diff",
            )
        command = self.prepared.stream is not None
        yield Static(Text(COMMAND_PROMPT if command else APPROVE_PROMPT), id="approve-prompt")
        with Horizontal(id="approve-buttons"):
            yield Button(Text("Yes"), id="yes", variant="success", compact=True)
            yield Button(Text("No"), id="no", variant="error", compact=True)
            if not command:  # every command is asked: no button may claim otherwise
                yield Button(Text("Always"), id="always", variant="primary", compact=True)
