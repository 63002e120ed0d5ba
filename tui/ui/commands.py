"""The command palette (Ctrl+P): provider/model, conversations, export, reasoning, theme.

"Switch model" opens a second palette (``ModelCommands``) listing the models the
current provider's server offers, fetched once per session in the background, and
accepting any typed name (a server may have no list, or not list every model).

Titles can hold untrusted text (a transcript's first line), and Textual's own
``Matcher.highlight`` and ``help`` parse strings as markup, so titles are built as
``Content`` here and highlighted by offsets; help strings are constants.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.style import Style

from providers.conversation import REASONING_LEVELS
from tui.core import branches, locations
from tui.core.catalog import ModelList
from tui.core.runtime import Runtime
from tui.core.transcript import TranscriptError, TranscriptInfo, list_transcripts
from tui.ui.widgets.safe import one_line

TRANSCRIPTS_SHOWN = 50


class PaletteHost(Protocol):
    """What the palette reads from the app it serves (typed here, so the app is not imported)."""

    runtime: Runtime

    def model_list(self) -> asyncio.Task[ModelList]:
        """The current provider's models, fetched once per session."""
        ...


@dataclass(frozen=True)
class Command:
    """One palette entry: an app action, run by name through ``App.run_action``.

    Attributes:
        title: What the palette shows (may hold untrusted text: made one line).
        help: A constant description.
        action: An action string, e.g. ``"switch_provider('local')"``.
    """

    title: str
    help: str
    action: str


class ChatCommands(Provider):
    """chattui's own commands (Textual's system commands, such as Theme, stay too)."""

    _transcripts: list[TranscriptInfo]

    async def startup(self) -> None:
        runtime = self._host.runtime
        self._host.model_list()  # the model list starts loading now, for "Switch model"
        directory = locations.transcripts_dir(runtime.env)
        try:
            infos = await asyncio.to_thread(list_transcripts, directory)
        except OSError:
            infos = []
        current = runtime.transcript.id
        self._transcripts = [i for i in infos if i.id != current][:TRANSCRIPTS_SHOWN]

    @property
    def _host(self) -> PaletteHost:
        return cast(PaletteHost, self.app)

    def commands(self) -> list[Command]:
        """Every entry, in display order."""
        items = [
            Command("New conversation", "Start a fresh conversation (ctrl+n)", "new_conversation"),
            Command(
                "Export Markdown",
                "Write this conversation as <id>.md in the workspace",
                "export_markdown",
            ),
            Command(
                "Toggle reasoning", "Show or hide the model's reasoning blocks", "toggle_reasoning"
            ),
            Command("Theme", "Change the colour theme", "change_theme"),
            Command("Edit a prompt", "Send a new version of an earlier prompt", "open_prompts"),
            Command("Regenerate answer", "A new answer to the last prompt (ctrl+g)", "regenerate"),
            Command("Switch branch", "Show another version of this conversation", "open_branches"),
            Command("Previous version", "At the last fork (alt+left)", "step_branch(-1)"),
            Command("Next version", "At the last fork (alt+right)", "step_branch(1)"),
            Command(
                "Undo branch switch",
                "Back to the branch shown before the last switch, edit or regenerate",
                "undo_branch",
            ),
            Command(
                "Switch model",
                "Pick a model the server offers, or type a model name",
                "open_models",
            ),
        ]
        for level in REASONING_LEVELS:
            items.append(
                Command(
                    f"Reasoning effort: {level}",
                    "Send this reasoning effort from the next request, this session",
                    f"set_reasoning({level!r})",
                )
            )
        for name, provider in self._host.runtime.config.providers.items():
            items.append(
                Command(
                    one_line(f"Switch provider: {name} ({provider.kind} · {provider.model})"),
                    "Use this provider and model from the config",
                    f"switch_provider({name!r})",  # repr: Textual parses it with literal_eval
                )
            )
        for info in getattr(self, "_transcripts", []):
            title = one_line(info.title or "(untitled)", 60)
            items.append(
                Command(
                    f"Open transcript: {title} · {info.id}",
                    "Load this saved conversation and continue it",
                    f"open_transcript({str(info.path)!r})",
                )
            )
        return items

    def _runner(self, command: Command) -> Callable[[], Awaitable[None]]:
        """A callable the palette runs when ``command`` is picked."""

        async def run() -> None:
            await self.app.run_action(command.action)

        return run

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(
                Content(command.title), self._runner(command), text=command.title, help=command.help
            )

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for command in self.commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    _highlight(matcher, command.title),
                    self._runner(command),
                    text=command.title,
                    help=command.help,
                )


class ModelCommands(Provider):
    """The second palette of "Switch model": the server's models, and the typed name."""

    @property
    def _host(self) -> PaletteHost:
        return cast(PaletteHost, self.app)

    async def _models(self) -> list[Command]:
        found = await self._host.model_list()
        current = self._host.runtime.provider.model
        if found.error:
            return [Command(one_line(f"(no model list: {found.error})", 120), "", "")]
        return [
            Command(
                one_line(("● " if m.id == current else "") + m.id, 100),
                one_line(m.label, 80) if m.label else "",
                f"switch_model({m.id!r})",
            )
            for m in found.models
        ]

    def _runner(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if action:  # an entry that only informs has no action
                await self.app.run_action(action)

        return run

    async def discover(self) -> Hits:
        for command in await self._models():
            yield DiscoveryHit(
                Content(command.title),
                self._runner(command.action),
                text=command.title,
                help=command.help or None,
            )

    async def search(self, query: str) -> AsyncIterator[Hit]:
        typed = query.strip()
        if typed and typed.isprintable():
            title = one_line(f"Use model: {typed}", 100)
            yield Hit(0.01, Content(title), self._runner(f"switch_model({typed!r})"), title)
        matcher = self.matcher(query)
        for command in await self._models():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    _highlight(matcher, command.title),
                    self._runner(command.action),
                    text=command.title,
                    help=command.help or None,
                )


class _ListCommands(Provider):
    """A second palette listing commands built once when it opens (see subclasses)."""

    _items: list[Command]

    async def startup(self) -> None:
        try:
            self._items = await asyncio.to_thread(self.build)
        except (OSError, TranscriptError):
            self._items = []

    def build(self) -> list[Command]:
        """The entries (runs in a thread: it may read the transcript)."""
        raise NotImplementedError

    @property
    def _host(self) -> PaletteHost:
        return cast(PaletteHost, self.app)

    def _runner(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.app.run_action(action)

        return run

    async def discover(self) -> Hits:
        for command in getattr(self, "_items", []):
            yield DiscoveryHit(
                Content(command.title), self._runner(command.action), text=command.title
            )

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for command in getattr(self, "_items", []):
            score = matcher.match(command.title)
            if score > 0:
                title = _highlight(matcher, command.title)
                yield Hit(score, title, self._runner(command.action), text=command.title)


class PromptCommands(_ListCommands):
    """ "Edit a prompt": the prompts of the current branch, newest first."""

    def build(self) -> list[Command]:
        found = branches.prompts(self._host.runtime.transcript)
        return [
            Command(one_line(f"{p.number}: {p.text}", 100), "", f"edit_prompt({p.node!r})")
            for p in reversed(found)
        ]


class BranchCommands(_ListCommands):
    """ "Switch branch": every branch, the current one marked."""

    def build(self) -> list[Command]:
        return [
            Command(
                one_line(
                    f"{'● ' if b.current else ''}branch {b.number}: {b.last_prompt}"
                    f" · {b.length} messages",
                    100,
                ),
                "",
                f"switch_branch({b.leaf!r})",
            )
            for b in branches.branch_list(self._host.runtime.transcript)
        ]


def _highlight(matcher: Any, title: str) -> Content:
    """Like ``Matcher.highlight`` but treating ``title`` as plain text, not markup."""
    content = Content(title)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    style = Style(reverse=True)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(style, offset, offset + 1)
    return content
