"""The scrolling conversation, and the renderer that turns session events into its widgets.

Coalescing: ``TurnRenderer.handle`` is called from the turn worker for every event and only
buffers (text chunks, argument fragments through ``PartialJSON``); widgets are created per
*block* (a text block, a reasoning block, a tool card), never per fragment. ``flush``, called
by the app's frame timer (30 Hz) and at block boundaries, applies the buffers: Markdown
chunks go to ``MarkdownStream``, file content to ``CodeView.append``, JSON snapshots are read
once a frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.containers import VerticalScroll
from textual.reactive import var
from textual.widget import Widget

from providers.conversation import AssistantMessage, ReasoningPart, TextPart, ToolCall, ToolResult
from providers.conversation import UserMessage as UserMsg
from providers.events import Finish, ReasoningDelta, TextDelta, ToolCallDelta, ToolCallStart
from tui.session import ApprovalNeeded, CallReady, SessionEvent, StepStarted, ToolRan
from tui.tools.registry import PreparedCall
from tui.transcript import Transcript
from tui.widgets.leaks import forget_removed_styles
from tui.widgets.messages import (
    AssistantText,
    AssistantTurn,
    ReasoningBlock,
    TurnNote,
    UserMessage,
)
from tui.widgets.tool_card import ToolCard

MAX_TURN_WIDGETS = 200
"""Top-level widgets kept mounted; older ones leave the DOM (they stay in the transcript)."""
MAX_MOUNTED_WIDGETS = 1500
"""Widgets (all descendants) kept mounted. Textual re-arranges every mounted widget on each
layout, and a growing tool card causes one per frame, so this bounds the cost of a frame:
measured with the demo's answers, 60 turns (2,200 widgets) made a layout ~10x slower than one
turn. A Markdown answer is one widget per block (a table: one per cell)."""
KEEP_NEWEST = 2
"""Top-level widgets never pruned (the current prompt and the turn answering it)."""


class Conversation(VerticalScroll, can_focus=False):
    """The conversation: follows new output until the user scrolls up.

    ``following`` mirrors Textual's anchor: it turns False when the user scrolls (Textual
    releases the anchor) and True again once the view is back at the bottom. ``new_below``
    is set when output arrives while not following (the app shows a hint).
    """

    following: var[bool] = var(True)
    new_below: var[bool] = var(False)

    def on_mount(self) -> None:
        self.anchor()

    def release_anchor(self) -> None:
        super().release_anchor()
        self.following = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(new_value) >= self.max_scroll_y:
            self.following = True
            self.new_below = False

    def content_grew(self) -> None:
        """New output arrived (called once a frame at most)."""
        if not self.following:
            self.new_below = True

    def follow(self) -> None:
        """Jump to the newest output and follow it again."""
        self.following = True
        self.new_below = False
        self.anchor()
        self.scroll_end(animate=False)

    async def add(self, *widgets: Widget) -> None:
        """Mount widgets at the end, then prune the oldest (see ``MAX_MOUNTED_WIDGETS``)."""
        await self.mount_all(widgets)
        await self.prune()
        self.content_grew()

    async def add_history(self, widgets: list[Widget], chunk: int = 10) -> None:
        """Mount a saved conversation, newest first, only as far back as the budget allows."""
        total = len(self.query("*"))
        with self.app.batch_update():  # one layout at the end, not one per batch
            for end in range(len(widgets), 0, -chunk):
                batch = widgets[max(0, end - chunk) : end]
                await self.mount_all(batch, before=0 if self.children else None)
                total += sum(1 + len(widget.query("*")) for widget in batch)
                if total > MAX_MOUNTED_WIDGETS:
                    break
            await self.prune()
        self.content_grew()

    async def prune(self) -> None:
        """Remove the oldest top-level widgets while over either budget."""
        children = list(self.children)
        sizes = [1 + len(child.query("*")) for child in children]
        total, drop = sum(sizes), 0
        while drop < len(children) - KEEP_NEWEST and (
            len(children) - drop > MAX_TURN_WIDGETS or total > MAX_MOUNTED_WIDGETS
        ):
            total -= sizes[drop]
            drop += 1
        if drop:
            await self.remove_children(children[:drop])
            forget_removed_styles()  # or Textual keeps their rendered lines (see leaks.py)


_Streamed = AssistantText | ReasoningBlock


class TurnRenderer:
    """Builds one assistant turn from session events, applying updates once a frame.

    Args:
        conversation: where output growth is reported (for the "new output below" hint).
        turn: the container the turn's blocks are mounted in.
        clock: passed to tool cards for their write rate.
    """

    def __init__(
        self,
        conversation: Conversation,
        turn: AssistantTurn,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conversation = conversation
        self.turn = turn
        self.clock = clock
        self.cards: dict[int, ToolCard] = {}  # this step's calls by index
        self.cards_by_id: dict[str, ToolCard] = {}
        self._last: Widget | None = None
        self._dirty: dict[int, AssistantText | ReasoningBlock | ToolCard] = {}
        self._approval: ToolCard | None = None

    async def handle(self, event: SessionEvent) -> None:
        """Take one event: buffer it, or start a block."""
        match event:
            case TextDelta(text=text):
                block = await self._block(AssistantText)
                block.feed(text)
                self._dirty[id(block)] = block
            case ReasoningDelta(text=text):
                block = await self._block(ReasoningBlock)
                block.feed(text)
                self._dirty[id(block)] = block
            case ToolCallStart(index=index, id=call_id, name=name):
                await self._card(index, call_id, name)
            case ToolCallDelta(index=index, arguments=fragment):
                card = self.cards.get(index)
                if card is not None:
                    card.feed(fragment)
                    self._dirty[id(card)] = card
            case CallReady(index=index, call=call):
                card = self.cards.get(index) or await self._card(index, call.id, call.name)
                self.cards_by_id[call.id] = card
                card.ready(call)
            case ApprovalNeeded(index=index):
                await self.flush()
                self._approval = self.cards.get(index)
            case ToolRan(index=index, call=call, result=result):
                card = self.cards_by_id.get(call.id) or self.cards.get(index)
                if card is not None:
                    card.finish(result)
                self._run_next()
            case Finish():
                await self._close_last()
                self._run_next()
            case StepStarted():
                self.cards = {}

    def card_for(self, prepared: PreparedCall) -> ToolCard | None:
        """The card a prepared call belongs to."""
        return self.cards_by_id.get(prepared.call.id) or self._approval

    @property
    def running_tool(self) -> bool:
        """Whether a card of this turn is running its call."""
        return any(card.state == "running" for card in self.cards.values())

    async def flush(self) -> None:
        """Apply buffered updates (once a frame)."""
        if not self._dirty:
            return
        dirty = list(self._dirty.values())
        self._dirty.clear()
        for widget in dirty:
            if isinstance(widget, ToolCard):
                widget.flush()
            else:
                await widget.flush()
        self.conversation.content_grew()

    async def close(self, status: str) -> None:
        """The turn ended: final renders, and open cards marked when cancelled."""
        await self.flush()
        await self._close_last()
        if status in ("cancelled", "failed", "error"):
            for card in {*self.cards_by_id.values(), *self.cards.values()}:
                card.cancel()
        self.turn.status = status

    async def _block(self, kind: type[_Streamed]) -> _Streamed:
        if isinstance(self._last, kind):
            return self._last
        block = kind()
        await self._start(block)
        return block

    async def _card(self, index: int, call_id: str, name: str) -> ToolCard:
        card = ToolCard(name, call_id, clock=self.clock)
        await self._start(card)
        self.cards[index] = card
        if call_id:
            self.cards_by_id[call_id] = card
        return card

    async def _start(self, widget: Widget) -> None:
        await self._close_last()
        self._last = widget
        await self.turn.mount(widget)
        self.conversation.content_grew()

    async def _close_last(self) -> None:
        last = self._last
        if isinstance(last, AssistantText | ReasoningBlock):
            await last.flush()
            await last.close()

    def _run_next(self) -> None:
        """Mark the first complete call as running, unless one is busy or waiting."""
        cards = [self.cards[i] for i in sorted(self.cards)]
        if any(card.state in ("running", "approval") for card in cards):
            return
        for card in cards:
            if card.state == "ready":
                card.mark_running()
                return


def history_widgets(transcript: Transcript) -> list[Widget]:
    """Widgets showing a saved conversation (the newest ``MAX_TURN_WIDGETS`` of them)."""
    widgets: list[Widget] = []
    cards: dict[str, ToolCard] = {}
    for entry in transcript.entries:
        message = entry.message
        if isinstance(message, UserMsg):
            widgets.append(UserMessage(message.text))
        elif isinstance(message, AssistantMessage):
            widgets.append(_assistant_turn(message, entry.status, cards))
        elif isinstance(message, ToolResult) and message.call_id in cards:
            cards[message.call_id].result = message
    return widgets[-MAX_TURN_WIDGETS:]


def _assistant_turn(
    message: AssistantMessage, status: str, cards: dict[str, ToolCard]
) -> AssistantTurn:
    blocks: list[Widget] = []
    for part in message.parts:
        if isinstance(part, TextPart) and part.text:
            blocks.append(AssistantText(part.text))
        elif isinstance(part, ReasoningPart) and part.text:
            blocks.append(ReasoningBlock(part.text))
        elif isinstance(part, ToolCall):
            card = ToolCard(part.name, part.id, call=part)
            cards[part.id] = card
            blocks.append(card)
    if status in ("cancelled", "failed", "incomplete"):
        blocks.append(TurnNote(status))
    turn = AssistantTurn(*blocks)
    turn.status = status
    return turn


__all__ = [
    "MAX_MOUNTED_WIDGETS",
    "MAX_TURN_WIDGETS",
    "Conversation",
    "TurnRenderer",
    "history_widgets",
]
