"""The blocks of a conversation: user messages, streamed answers, reasoning, notes.

Streaming blocks keep a *pending* buffer that the renderer flushes once a frame
(``flush``); ``close`` ends the stream with one full ``Markdown.update`` (a known Textual
issue can leave a streamed code fence blank otherwise). Every string shown here is
untrusted and goes in as ``Text``/``Content`` or through Markdown, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from tui.widgets.safe import one_line, plain

SAFE_SCHEMES = ("http://", "https://", "mailto:")


class UserMessage(Static):
    """What the user typed (already in the transcript)."""

    def __init__(self, text: str, *, queued: bool = False) -> None:
        super().__init__(plain(text), classes="-queued" if queued else "")
        self.source = text


class AssistantTurn(Vertical):
    """One assistant turn: text, reasoning and tool-call blocks in stream order."""

    def __init__(self, *blocks: Widget) -> None:
        super().__init__(*blocks)
        self.status = "streaming"

    @property
    def source(self) -> str:
        """The raw Markdown of every text block of the turn."""
        texts = [block.raw for block in self.query_children(AssistantText)]
        return "\n\n".join(text for text in texts if text.strip())


class StreamedMarkdown(Markdown):
    """Markdown fed in chunks through ``Markdown.get_stream``, finalized by ``close``."""

    def __init__(self, text: str = "", *, classes: str = "") -> None:
        super().__init__(text, open_links=False, classes=classes)
        self._parts: list[str] = [text] if text else []
        self._pending: list[str] = []
        self._stream: MarkdownStream | None = None
        self.closed = bool(text)

    @property
    def raw(self) -> str:
        """Everything fed so far (not ``source``: Markdown.append relies on its own)."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def feed(self, text: str) -> None:
        """Queue a chunk for the next frame."""
        self._parts.append(text)
        self._pending.append(text)

    async def flush(self) -> None:
        """Hand the queued chunks to the Markdown stream."""
        if not self._pending or self.closed:
            return
        text = "".join(self._pending)
        self._pending.clear()
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        await self._stream.write(text)

    async def close(self) -> None:
        """End the stream and render the whole source once."""
        if self.closed:
            return
        self.closed = True
        self._pending.clear()
        if self._stream is not None:
            await self._stream.stop()
        await self.update(self.raw)

    async def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
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
        self.collapsed = True

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
