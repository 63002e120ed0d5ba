"""The blocks of a conversation: user messages, streamed answers, reasoning, notes.

Streaming blocks keep a *pending* buffer that the renderer flushes once a frame
(``flush``); ``close`` ends the stream. Answers and reasoning are ``MarkdownView`` s: one
widget per text block, cached lines, only the open Markdown block rendered again per frame.
Every string shown here is untrusted and goes in as ``Text``/``Content`` or through
``MarkdownView`` (Rich Markdown, no markup), never as markup.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Collapsible, Static

from tui.core.session import TurnStatus
from tui.core.transcript import EntryStatus
from tui.ui.compat import repaint_pending
from tui.ui.markdown.view import MarkdownView
from tui.ui.pacing import let_others_run
from tui.ui.widgets.safe import one_line, plain

SAFE_SCHEMES = ("http://", "https://", "mailto:")
REFRESH_WAIT = 0.1
"""Longest a stream's flush waits for a refresh that draws what is pending (a key's echo)."""


class UserMessage(Static, can_focus=True):
    """What the user typed (already in the transcript).

    Focusable (click it, or Tab to it): ``e`` edits it, which sends a new version as a
    branch. ``version`` is ``(n, count)`` when the prompt has other versions;
    ``attached`` names the files sent with it.
    """

    BINDINGS = [Binding("e", "edit", "Edit this prompt")]

    class EditRequested(Message):
        """The user asked to edit this prompt."""

        def __init__(self, widget: UserMessage) -> None:
            super().__init__()
            self.widget = widget

    def __init__(
        self,
        text: str,
        *,
        queued: bool = False,
        version: tuple[int, int] | None = None,
        attached: tuple[str, ...] = (),
    ) -> None:
        shown = plain(text)
        if attached:  # chips: one line naming what went with the prompt
            shown.append("\n" + "  ".join(f"📎 {one_line(name, 60)}" for name in attached), "dim")
        if version is not None:
            shown.append(f"\n{branch_mark(*version)}", style="dim")
        super().__init__(shown, classes="-queued" if queued else "")
        self.can_focus = not queued
        self.source = text

    def action_edit(self) -> None:
        """``e``: ask the app to edit this prompt."""
        self.post_message(self.EditRequested(self))


def branch_mark(index: int, count: int) -> str:
    """``‹ 2/3 ›`` and the keys that switch versions."""
    return f"‹ {index}/{count} ›  alt+← / alt+→ other versions"


class BranchMark(Static):
    """The dim ``‹ 2/3 ›`` line above an answer that has other versions."""

    def __init__(self, index: int, count: int) -> None:
        super().__init__(plain(branch_mark(index, count)))


class AssistantTurn(Vertical):
    """One assistant turn: text, reasoning and tool-call blocks in stream order."""

    BLANK = True
    """Background only, drawn as blank strips (see ``Conversation.BLANK``): it grows with
    the answer, and each new height would render its lines again."""

    def __init__(self, *blocks: Widget) -> None:
        super().__init__(*blocks)
        self.status: TurnStatus | EntryStatus | None = None
        """How the turn ended (``None`` while it streams); a loaded turn has its entry's status."""

    @property
    def source(self) -> str:
        """The raw Markdown of every text block of the turn."""
        texts = [block.raw for block in self.query_children(AssistantText)]
        return "\n\n".join(text for text in texts if text.strip())


class StreamedMarkdown(MarkdownView):
    """Markdown fed in chunks: ``feed`` buffers, ``flush`` (once a frame) renders what
    changed, ``close`` renders the last block for good. See ``MarkdownView``."""

    def __init__(self, text: str = "", *, classes: str = "") -> None:
        super().__init__(text, classes=classes)
        self._pending: list[str] = []
        self.closed = bool(text)

    @property
    def raw(self) -> str:
        """Everything fed so far."""
        self._take_pending()
        return self.document.raw

    def feed(self, text: str) -> None:
        """Queue a chunk for the next frame."""
        if not self.closed:
            self._pending.append(text)

    def _take_pending(self) -> bool:
        if not self._pending:
            return False
        self.document.append("".join(self._pending))
        self._pending.clear()
        return True

    async def flush(self) -> None:
        """Hand the queued chunks over and render them (called once a frame): the next screen
        refresh draws them. Keys typed meanwhile go first: the loop turns given before the
        rendering let their events through (a key waited for the rendering and the frame
        drawing it: echo median 30-41 ms where it was 17-27 ms with the rendering after a
        refresh)."""
        if self._take_pending():
            await let_others_run()
            if self.is_attached and repaint_pending(self.screen):  # removed meanwhile: no screen
                await self._refreshed()
            self.sync_now()

    async def _refreshed(self) -> None:
        """Wait for the screen's next refresh (at most a few frames: it may be closing)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def refreshed() -> None:
            if not done.done():
                done.set_result(None)

        self.call_after_refresh(refreshed)
        await asyncio.wait([done], timeout=REFRESH_WAIT)

    async def close(self) -> None:
        """End the stream: the open block becomes final."""
        if self.closed:
            return
        self.closed = True
        self._take_pending()
        self.finish()

    async def on_markdown_view_link_clicked(self, event: MarkdownView.LinkClicked) -> None:
        # Model-made links: open web links only, never other schemes.
        event.stop()
        href = event.href.strip()
        if href.lower().startswith(SAFE_SCHEMES):
            self.app.open_url(href)
        else:
            self.notify(f"link not opened: {one_line(href, 120)}", markup=False)


class AssistantText(StreamedMarkdown):
    """A streamed Markdown answer block."""


class ReasoningText(StreamedMarkdown):
    """The reasoning text inside a ``ReasoningBlock``."""


class ReasoningBlock(Collapsible):
    """The model's reasoning: dim, open while it streams, collapsed afterwards."""

    def __init__(self, text: str = "") -> None:
        self.body = ReasoningText(text)
        self._folding = False
        finished = bool(text)
        super().__init__(
            self.body, title="Reasoning" if finished else "Thinking…", collapsed=finished
        )

    def feed(self, text: str) -> None:
        """Queue a chunk for the next frame."""
        self.body.feed(text)

    async def flush(self) -> None:
        """Apply queued chunks."""
        await self.body.flush()

    async def close(self) -> None:
        """Reasoning is over: final render, then fold it away."""
        await self.body.close()
        self.title = "Reasoning"
        self._folding = True
        self.collapsed = True

    def scroll_visible(self, *args: Any, **kwargs: Any) -> None:
        # Collapsible scrolls itself into view after every toggle; not after folding itself
        # at the end of the reasoning: that would pull the view away from the answer below.
        if self._folding:
            self._folding = False
            return
        super().scroll_visible(*args, **kwargs)

    @property
    def source(self) -> str:
        """The reasoning text."""
        return self.body.raw


class Welcome(Static):
    """What an empty conversation shows: where you are and the keys that matter."""

    def __init__(self, label: str, demo: bool) -> None:
        text = Text.assemble(("chattui", "bold"), "  ", (one_line(label), "dim"), "\n")
        if demo:
            text.append(
                "Offline demo: no API key needed. Say hello and watch a file being written, "
                "live, then approve it.\n"
            )
        else:
            text.append("Type a message and press Enter.\n")
        text.append(
            "Enter send · Shift+Enter newline · ↑ history · Esc cancel · Ctrl+P commands · "
            "Ctrl+Q quit",
            style="dim",
        )
        super().__init__(text)


class TurnNote(Static):
    """A dim one-line mark under a turn: cancelled, stopped after max steps..."""

    def __init__(self, text: str) -> None:
        super().__init__(plain(text))


class ErrorNote(Static, can_focus=True):
    """A failed request, said in one line, with the key that retries it."""

    BINDINGS = [Binding("r", "app.retry", "Retry")]

    def __init__(self, message: str, *, retry: bool = True) -> None:
        text = Text.assemble(("✖ ", "bold"), one_line(message))
        if retry:
            text.append("   press ctrl+r to retry", style="italic")
        super().__init__(text)
        self.message = one_line(message)
