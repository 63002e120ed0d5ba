"""What the palette and a few keys do besides sending: copy, export, switch provider, model
or reasoning effort, open a saved conversation, and the palette's own pickers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from textual.command import CommandPalette

from providers.conversation import REASONING_LEVELS
from tui.core.sanitize import visible
from tui.core.transcript import TranscriptError, load, write_markdown
from tui.ui.branch_actions import BranchActions
from tui.ui.turns import BUSY
from tui.ui.widgets.messages import AssistantTurn
from tui.ui.widgets.safe import one_line

if TYPE_CHECKING:  # imported where used: not needed for the first screen
    from tui.core.catalog import ModelList


def commands_module() -> ModuleType:
    """The palette's commands (``tui.ui.commands``), imported when the palette first opens."""
    from tui.ui import commands

    return commands


class PaletteActions(BranchActions):
    """The palette's actions of ``ChatApp`` (its commands: ``tui.ui.commands``)."""

    def model_list(self) -> asyncio.Task[ModelList]:
        """The current provider's models: fetched in the background, once per session."""
        if self._models is None:
            from tui.core.catalog import ModelCatalog

            self._models = ModelCatalog()
        return self._models.start(self.runtime.provider_config.name, self.runtime.provider)

    def action_copy(self) -> None:
        """Ctrl+Y: copy the focused card's source, or the last answer's Markdown."""
        from tui.ui.widgets.tool_card import ToolCard

        text = ""
        focused = self.focused
        cards = [focused] if isinstance(focused, ToolCard) else []
        if focused is not None and not cards:
            cards = [a for a in focused.ancestors if isinstance(a, ToolCard)]
        if cards:
            text = cards[0].source
        else:
            for turn in reversed(self.conversation.query_children(AssistantTurn)):
                text = turn.source
                if text:
                    break
        if not text:
            self.notify("nothing to copy yet", markup=False)
            return
        self.copy_to_clipboard(text)
        self.notify(f"copied {len(text):,} characters", markup=False)

    def action_toggle_reasoning(self) -> None:
        """Show or hide reasoning blocks."""
        self.conversation.toggle_class("-hide-reasoning")

    def action_export_markdown(self) -> None:
        """Palette: write the conversation as ``<id>.md`` in the workspace (or the cwd)."""
        try:
            transcript = load(self.runtime.transcript.path)
        except (TranscriptError, OSError) as exc:
            self.notify(f"cannot export: {one_line(str(exc))}", severity="error", markup=False)
            return
        if not transcript.entries:
            self.notify("nothing to export yet", markup=False)
            return
        folders = (Path(self.runtime.session.tools.workspace.root), Path.cwd())
        target = write_markdown(transcript, folders)
        if target is None:
            self.notify("cannot export: no writable folder", severity="error", markup=False)
        else:
            self.notify(f"exported to {visible(str(target))}", markup=False)

    def action_set_reasoning(self, level: str) -> None:
        """Palette: the reasoning effort for the rest of the session (every provider)."""
        for known in REASONING_LEVELS:
            if level == known:
                self.runtime.set_reasoning(known)
                self.notify(f"reasoning effort: {known}, from the next request", markup=False)

    def action_switch_provider(self, name: str) -> None:
        """Palette: use another configured provider (and its model) from the next request."""
        self._switch(name, None)

    def action_switch_model(self, model: str) -> None:
        """Palette: use ``model`` on the current provider from the next request."""
        self._switch(self.runtime.provider_config.name, model)

    def action_open_models(self) -> None:
        """Palette: the current provider's models (they may still be loading), or a typed one."""
        self.model_list()
        name = self.runtime.provider_config.name
        self.push_screen(
            CommandPalette(
                providers=[commands_module().ModelCommands],
                placeholder=one_line(f"Model for {name}: pick or type a name…"),
            )
        )

    def _switch(self, name: str, model: str | None) -> None:
        if self.busy:
            self.notify(BUSY, markup=False)
            return
        try:
            self.runtime.switch(name, model)
        except Exception as exc:  # a config or key problem: say it, keep the old provider
            self.notify(f"cannot switch: {one_line(str(exc))}", severity="error", markup=False)
            return
        self.status_bar.label = self.runtime.label
        self.status_bar.tick()
        self.notify(f"now using {one_line(self.runtime.label)}", markup=False)

    async def action_open_transcript(self, path: str) -> None:
        """Palette: show a saved conversation and continue it (its file gets the new turns)."""
        if self.busy:
            self.notify(BUSY, markup=False)
            return
        try:
            transcript = await asyncio.to_thread(self.runtime.resume, Path(path))
        except (TranscriptError, OSError) as exc:
            message = f"cannot open transcript: {one_line(str(exc))}"
            self.notify(message, severity="error", markup=False)
            return
        self.branching.reset(transcript)
        await self.show_branch(transcript)
        count = len(transcript.entries)
        self.notify(f"resumed {one_line(transcript.id, 80)} ({count} messages)", markup=False)

    def action_open_prompts(self) -> None:
        """Palette: the prompts of this branch, to pick one to edit."""
        self.push_screen(
            CommandPalette(
                providers=[commands_module().PromptCommands], placeholder="Edit which prompt?"
            )
        )

    def action_open_branches(self) -> None:
        """Palette: every branch of this conversation, to switch to one."""
        self.push_screen(
            CommandPalette(
                providers=[commands_module().BranchCommands], placeholder="Switch to which branch?"
            )
        )
