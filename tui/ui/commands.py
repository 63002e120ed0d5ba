"""The command palette (Ctrl+P): provider/model, conversations, export, reasoning, theme.

Titles can hold untrusted text (a transcript's first line), and Textual's own
``Matcher.highlight`` and ``help`` parse strings as markup, so titles are built as
``Content`` here and highlighted by offsets; help strings are constants.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.style import Style

from tui.core import locations
from tui.core.sanitize import visible
from tui.core.transcript import (
    TranscriptError,
    TranscriptInfo,
    list_transcripts,
    load,
    to_markdown,
)
from tui.ui.widgets.conversation import history_widgets
from tui.ui.widgets.safe import one_line

if TYPE_CHECKING:
    from tui.ui.app import ChatApp

TRANSCRIPTS_SHOWN = 50
BUSY = "a response is running: press Escape first"


@dataclass(frozen=True)
class Command:
    """One palette entry."""

    title: str
    help: str
    run: Callable[[], Any]


class ChatCommands(Provider):
    """chattui's own commands (Textual's system commands, such as Theme, stay too)."""

    _transcripts: list[TranscriptInfo]

    async def startup(self) -> None:
        app = self._chat_app
        directory = locations.transcripts_dir(app.runtime.env)
        try:
            infos = await asyncio.to_thread(list_transcripts, directory)
        except OSError:
            infos = []
        current = app.runtime.transcript.id
        self._transcripts = [i for i in infos if i.id != current][:TRANSCRIPTS_SHOWN]

    @property
    def _chat_app(self) -> ChatApp:
        return self.app  # type: ignore[return-value]

    def commands(self) -> list[Command]:
        """Every entry, in display order."""
        app = self._chat_app
        items = [
            Command(
                "New conversation",
                "Start a fresh conversation (ctrl+n)",
                app.action_new_conversation,
            ),
            Command(
                "Export Markdown",
                "Write this conversation as <id>.md in the workspace",
                partial(export_markdown, app),
            ),
            Command(
                "Toggle reasoning",
                "Show or hide the model's reasoning blocks",
                app.action_toggle_reasoning,
            ),
            Command("Theme", "Change the colour theme", app.action_change_theme),
        ]
        for name, provider in app.runtime.config.providers.items():
            items.append(
                Command(
                    one_line(f"Switch provider: {name} ({provider.kind} · {provider.model})"),
                    "Use this provider and model from the config",
                    partial(switch_provider, app, name),
                )
            )
        for info in getattr(self, "_transcripts", []):
            title = one_line(info.title or "(untitled)", 60)
            items.append(
                Command(
                    f"Open transcript: {title} · {info.id}",
                    "Load this saved conversation and continue it",
                    partial(open_transcript, app, info.path),
                )
            )
        return items

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(
                Content(command.title), command.run, text=command.title, help=command.help
            )

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    _highlight(matcher, command.title),
                    command.run,
                    text=command.title,
                    help=command.help,
                )


def _highlight(matcher: Any, title: str) -> Content:
    """Like ``Matcher.highlight`` but treating ``title`` as plain text, not markup."""
    content = Content(title)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    style = Style(reverse=True)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(style, offset, offset + 1)
    return content


# The commands themselves ------------------------------------------------------------------


def export_markdown(app: ChatApp) -> None:
    """Write the conversation as ``<id>.md`` into the workspace (or the cwd if it fails)."""
    try:
        transcript = load(app.runtime.transcript.path)
    except (TranscriptError, OSError) as exc:
        app.notify(f"cannot export: {one_line(str(exc))}", severity="error", markup=False)
        return
    if not transcript.entries:
        app.notify("nothing to export yet", markup=False)
        return
    text = to_markdown(transcript)
    for folder in (Path(app.runtime.session.tools.workspace.root), Path.cwd()):
        target = folder / f"{transcript.id}.md"
        try:
            target.write_text(text, encoding="utf-8")
        except OSError:
            continue
        app.notify(f"exported to {visible(str(target))}", markup=False)
        return
    app.notify("cannot export: no writable folder", severity="error", markup=False)


def switch_provider(app: ChatApp, name: str) -> None:
    """Use another provider (and its model) from the config, from the next request on."""
    if app.busy:
        app.notify(BUSY, markup=False)
        return
    try:
        app.runtime.switch(name)
    except Exception as exc:  # a config or key problem: say it, keep the old provider
        app.notify(f"cannot switch: {one_line(str(exc))}", severity="error", markup=False)
        return
    app.status_bar.label = app.runtime.label
    app.status_bar.tick()
    app.notify(f"now using {one_line(app.runtime.label)}", markup=False)


async def open_transcript(app: ChatApp, path: Path) -> None:
    """Load a saved conversation into view and continue it (its file gets the new turns)."""
    if app.busy:
        app.notify(BUSY, markup=False)
        return
    try:
        transcript = await asyncio.to_thread(app.runtime.resume, path)
    except (TranscriptError, OSError) as exc:
        app.notify(f"cannot open transcript: {one_line(str(exc))}", severity="error", markup=False)
        return
    await app.reset_view(welcome=False)
    await app.conversation.add_history(history_widgets(transcript))
    app.conversation.follow()
    app.notify(
        f"resumed {one_line(transcript.id, 80)} ({len(transcript.entries)} messages)", markup=False
    )
