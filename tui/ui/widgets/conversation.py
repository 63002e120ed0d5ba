"""The scrolling conversation, and the renderer that turns session events into its widgets.

Coalescing: ``TurnRenderer.handle`` is called from the turn worker for every event and only
buffers (text chunks, argument fragments through ``PartialJSON``); widgets are created per
*block* (a text block, a reasoning block, a tool card), never per fragment. ``flush``, called
by the app's frame timer (``tui.ui.pacing.FRAME``, 30 Hz) and at block boundaries, applies the
buffers: a text or reasoning block's chunks go to its ``MarkdownView`` (one widget per block,
however long: it renders only what changed, after the next screen refresh), file content to
``CodeView.append``, JSON snapshots are read once a frame.

Memory: old turns leave the DOM (``Conversation.prune``, each time widgets are added, so as
a turn starts; they stay in the transcript) while the conversation is over any of three
budgets: top-level widgets, widgets in all, and characters of text. A widget holds its text
and its rendered lines, so the widget counts alone would let a few huge answers (one widget
each) keep hundreds of MB mounted: the text budget bounds that. The newest ``KEEP_NEWEST``
top-level widgets stay whatever their size, so one answer bigger than the budget stays until
the next turn starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.reactive import var
from textual.widget import Widget

from providers.conversation import AssistantMessage, ReasoningPart, TextPart, ToolCall, ToolResult
from providers.conversation import UserMessage as UserMsg
from providers.events import Finish, ReasoningDelta, TextDelta, ToolCallDelta, ToolCallStart
from tui.core.session import (
    ApprovalNeeded,
    CallReady,
    SessionEvent,
    StepStarted,
    ToolOutput,
    ToolProgress,
    ToolRan,
    TurnStatus,
)
from tui.core.tools.live_edit import Reader
from tui.core.tools.registry import PreparedCall
from tui.core.transcript import Entry, EntryStatus, Transcript
from tui.ui.compat import draw_now, forget_removed_styles, lay_out_once
from tui.ui.markdown.view import MarkdownView
from tui.ui.widgets.hold import FrameHold
from tui.ui.widgets.messages import (
    AssistantText,
    AssistantTurn,
    BranchMark,
    ReasoningBlock,
    TurnNote,
    UserMessage,
)

if TYPE_CHECKING:  # imported where a card is made: the first screen has none
    from tui.ui.widgets.tool_card import ToolCard

MAX_TURN_WIDGETS = 200
"""Top-level widgets kept mounted; older ones leave the DOM (they stay in the transcript)."""
MAX_MOUNTED_WIDGETS = 1500
"""Widgets (all descendants) kept mounted. Textual re-arranges every mounted widget on each
layout, and a growing tool card causes one per frame, so this bounds the cost of a frame:
measured with the demo's answers when an answer was one widget per Markdown block, 60 turns
(2,200 widgets) made a layout ~10x slower than one turn. An answer is now one
``MarkdownView`` (a turn: about three widgets), a tool card four or five."""
MAX_MOUNTED_CHARS = 1_000_000
"""Characters of text kept mounted (answers, reasoning, files in tool cards, prompts). A
finished answer keeps its rendered lines, about 34 bytes per character of Markdown
(measured: 2 MB for a 60 KB answer at 116 columns), so this bounds them at roughly 35 MB
however long the answers are; 100 turns of 60 KB answers were 200 MB under the widget budgets
alone."""
KEEP_NEWEST = 2
"""Top-level widgets never pruned (the current prompt and the turn answering it)."""


def mounted_weight(widget: Widget) -> tuple[int, int]:
    """What ``widget`` counts against the budgets: widgets (itself and its descendants) and
    characters of text they hold."""
    from tui.ui.widgets.code_view import CodeView  # not with the first screen (Pygments)

    nodes = [widget, *widget.query("*")]
    chars = 0
    for node in nodes:
        if isinstance(node, MarkdownView):
            chars += node.document.size
        elif isinstance(node, CodeView):
            chars += node.char_count
        elif isinstance(node, UserMessage):
            chars += len(node.source)
    return len(nodes), chars


def _total(widgets: Iterable[Widget]) -> tuple[int, int]:
    weights = [mounted_weight(widget) for widget in widgets]
    return sum(weight[0] for weight in weights), sum(weight[1] for weight in weights)


class Conversation(VerticalScroll, can_focus=False):
    """The conversation: follows new output until the user scrolls up.

    ``following`` mirrors Textual's anchor: it turns False when the user scrolls (Textual
    releases the anchor) and True again once the view is back at the bottom. ``new_below``
    is set when output arrives while not following (the app shows a hint).
    """

    BLANK = True
    """Its own lines are background only (no border, no content of its own): Textual draws
    them as blank strips instead of rendering each one through its styles cache again
    whenever the answer grows (measured: about 0.8 ms of every frame that follows it)."""
    following: var[bool] = var(True)
    new_below: var[bool] = var(False)

    def on_mount(self) -> None:
        self.anchor()
        # Output grows the widgets here every frame: one layout a frame, not two.
        lay_out_once(self.app)

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
        """Mount widgets at the end, then prune the oldest (see the budgets above)."""
        await self.mount_all(widgets)
        await self.prune()
        self.content_grew()

    async def add_history(self, widgets: list[Widget], chunk: int = 10) -> None:
        """Mount a saved conversation, newest first, only as far back as the budgets allow."""
        count, chars = _total(self.children)
        with self.app.batch_update():  # one layout at the end, not one per batch
            for end in range(len(widgets), 0, -chunk):
                batch = widgets[max(0, end - chunk) : end]
                await self.mount_all(batch, before=0 if self.children else None)
                more = _total(batch)
                count, chars = count + more[0], chars + more[1]
                if count > MAX_MOUNTED_WIDGETS or chars > MAX_MOUNTED_CHARS:
                    break
            await self.prune()
        self.content_grew()

    async def prune(self) -> None:
        """Remove the oldest top-level widgets while over any budget (see the module's
        docstring); the newest ``KEEP_NEWEST`` stay."""
        children = list(self.children)
        if len(children) <= KEEP_NEWEST:  # nothing to weigh (the first screen's welcome)
            return
        weights = [mounted_weight(child) for child in children]
        count = sum(weight[0] for weight in weights)
        chars = sum(weight[1] for weight in weights)
        drop = 0
        while drop < len(children) - KEEP_NEWEST and (
            len(children) - drop > MAX_TURN_WIDGETS
            or count > MAX_MOUNTED_WIDGETS
            or chars > MAX_MOUNTED_CHARS
        ):
            count, chars = count - weights[drop][0], chars - weights[drop][1]
            drop += 1
        if drop:
            await self.remove_children(children[:drop])
            forget_removed_styles()  # or Textual keeps their rendered lines


_Streamed = AssistantText | ReasoningBlock


class TurnRenderer:
    """Builds one assistant turn from session events, applying updates once a frame.

    Args:
        conversation: where output growth is reported (for the "new output below" hint).
        turn: the container the turn's blocks are mounted in.
        clock: passed to tool cards for their write rate.
        edit_reader: reads the file of an ``edit_file`` call for its live diff.
        approval_grace: passed to tool cards (keys that do not answer a new question).
    """

    def __init__(
        self,
        conversation: Conversation,
        turn: AssistantTurn,
        clock: Callable[[], float] = time.monotonic,
        edit_reader: Reader | None = None,
        approval_grace: float = 0.0,
    ) -> None:
        self.conversation = conversation
        self.turn = turn
        self.clock = clock
        self.edit_reader = edit_reader
        self.approval_grace = approval_grace
        self.cards: dict[int, ToolCard] = {}  # this step's calls by index
        self.cards_by_id: dict[str, ToolCard] = {}
        self._last: Widget | None = None
        self._dirty: dict[int, AssistantText | ReasoningBlock | ToolCard] = {}
        self._approval: ToolCard | None = None
        self.fed = 0
        """Characters of output buffered since the last ``flush`` (see ``FrameBudget.due``)."""
        self._hold = FrameHold(conversation, before_release=self._release_styles)
        """Held from a call's completion to its result (``tui.ui.widgets.hold``)."""
        self._unmounted: ToolCard | None = None
        """A card made for a call that has started, mounted by the next update (``flush``)
        or when something needs it on screen (see ``_card``)."""

    def take(self, event: SessionEvent) -> bool:
        """Buffer a fragment for the block or card already streaming; False if ``event``
        needs ``handle`` (it starts a block, or is not a fragment).

        Nearly every event is one of these, and this is plain code: no coroutine, no match,
        nothing scheduled per event; ``flush`` applies the buffers once a frame.
        """
        block: AssistantText | ReasoningBlock | ToolCard | None
        if isinstance(event, TextDelta | ReasoningDelta):
            kind = AssistantText if isinstance(event, TextDelta) else ReasoningBlock
            block = self._last if isinstance(self._last, kind) else None
            if block is None:
                return False
            block.feed(event.text)
            self.fed += len(event.text)
        elif isinstance(event, ToolCallDelta):
            block = self.cards.get(event.index)
            if block is None:
                return False
            block.feed(event.arguments)
            self.fed += len(event.arguments)
        else:
            return False
        self._dirty[id(block)] = block
        return True

    async def handle(self, event: SessionEvent) -> None:
        """Take one event: buffer it, or start a block."""
        match event:
            case TextDelta(text=text):
                block = await self._block(AssistantText)
                block.feed(text)
                self._dirty[id(block)] = block
                self.fed += len(text)
            case ReasoningDelta(text=text):
                block = await self._block(ReasoningBlock)
                block.feed(text)
                self._dirty[id(block)] = block
                self.fed += len(text)
            case ToolCallStart(index=index, id=call_id, name=name):
                await self._card(index, call_id, name)
            case ToolCallDelta(index=index, arguments=fragment):
                card = self.cards.get(index)
                if card is not None:
                    card.feed(fragment)
                    self._dirty[id(card)] = card
                    self.fed += len(fragment)
            case CallReady(index=index, call=call):
                self._hold.hold()  # its result, if quick, comes in the same frame
                card = self.cards.get(index) or await self._card(index, call.id, call.name)
                self.cards_by_id[call.id] = card
                if self._hold.held:  # its states until the result are not drawn
                    card.hold_style()
                card.ready(call)  # before its mount, if not mounted yet: see ToolCard.ready
                await self._mount_card()
            case ApprovalNeeded(index=index):
                self._hold.release()  # the question is shown at once
                await self.flush()
                self._approval = self.cards.get(index)
            case ToolProgress(index=index, progress=done, total=total, message=message):
                self._hold.release()  # a running call's news is shown as it comes
                card = self.cards.get(index)
                if card is not None:
                    card.progress(done, total, message)
                    self._dirty[id(card)] = card
            case ToolOutput(index=index, call_id=call_id, text=text):
                self._hold.release()
                card = self.cards_by_id.get(call_id) or self.cards.get(index)
                if card is not None:
                    card.add_output(text)
                    self._dirty[id(card)] = card
            case ToolRan(index=index, call=call, result=result):
                await self._mount_card()
                card = self.cards_by_id.get(call.id) or self.cards.get(index)
                shown = card.finish(result) if card is not None else None
                self._run_next()
                if shown is not None:
                    # The result is drawn (with the held frame, if the hold has not lapsed)
                    # before the session goes on: its next request's set-up ran first, and
                    # once the hold had lapsed the result waited for the next step's frame.
                    await shown
                    if self._hold.held:
                        self._hold.release(now=True)
                    else:
                        draw_now(self.conversation.screen)
                self._hold.release()
            case Finish():
                await self._close_last()
                self._run_next()
            case StepStarted():
                self.cards = {}

    def _release_styles(self) -> None:
        """The held frame is about to be drawn: the cards' current states are styled."""
        for card in {*self.cards_by_id.values(), *self.cards.values()}:
            card.release_style()

    def card_for(self, prepared: PreparedCall) -> ToolCard | None:
        """The card a prepared call belongs to."""
        return self.cards_by_id.get(prepared.call.id) or self._approval

    @property
    def running_tool(self) -> bool:
        """Whether a card of this turn is running its call."""
        from tui.ui.widgets.tool_card import CardState

        return any(card.state is CardState.RUNNING for card in self.cards.values())

    async def flush(self) -> None:
        """Apply buffered updates (once a frame); a card not mounted yet is mounted first."""
        self.fed = 0
        await self._mount_card()
        if not self._dirty:
            return
        dirty = list(self._dirty.values())
        self._dirty.clear()
        for widget in dirty:
            if isinstance(widget, AssistantText | ReasoningBlock):
                await widget.flush()
            else:
                widget.flush()
        self.conversation.content_grew()

    async def close(self, status: TurnStatus) -> None:
        """The turn ended: final renders, and open cards marked when cancelled."""
        self._hold.release()
        await self.flush()
        await self._close_last()
        if status.cut_short:
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
        from tui.ui.widgets.tool_card import ToolCard

        card = ToolCard(
            name,
            call_id,
            clock=self.clock,
            edit_reader=self.edit_reader,
            grace=self.approval_grace,
        )
        await self._start(card, mount=False)
        self._unmounted = card
        self.cards[index] = card
        if call_id:
            self.cards_by_id[call_id] = card
        return card

    async def _mount_card(self) -> None:
        """Mount the card ``_card`` made, if it is not mounted yet.

        A card takes its call's fragments unmounted (they are buffered, parsed when it
        flushes), so its mount waits for the next update of the screen: at a model's pace
        that is the next frame; in a burst (``tui.ui.pacing.BURST_RATE``: a local server,
        a backlog) the next update comes ``BURST_FRAME`` later, or the call is complete
        first and its card is mounted in the frame that shows its result. Mounted as the
        call started, the card had a layout of the screen of its own while the burst was
        read, and was parsed and appended to once more.
        """
        card, self._unmounted = self._unmounted, None
        if card is not None:
            await self.turn.mount(card)
            self.conversation.content_grew()

    async def _start(self, widget: Widget, *, mount: bool = True) -> None:
        await self._close_last()
        await self._mount_card()  # the blocks stay in the order they started
        self._last = widget
        if mount:
            await self.turn.mount(widget)
            self.conversation.content_grew()

    async def _close_last(self) -> None:
        last = self._last
        if isinstance(last, AssistantText | ReasoningBlock):
            await last.close()  # with what is still buffered: no flush (it lets keys go first)

    def _run_next(self) -> None:
        """Mark the first complete call as running, unless one is busy or waiting."""
        from tui.ui.widgets.tool_card import CardState

        cards = [self.cards[i] for i in sorted(self.cards)]
        if any(card.state in (CardState.RUNNING, CardState.APPROVAL) for card in cards):
            return
        for card in cards:
            if card.state is CardState.READY:
                card.mark_running()
                return


def history_widgets(transcript: Transcript) -> list[Widget]:
    """Widgets showing a saved conversation: its newest ``MAX_TURN_WIDGETS`` messages.

    Only those are built (a 1,000-turn transcript's others would be garbage at once, after
    parsing their Markdown); a tool result goes to the card of the latest call with its id.
    """
    shown: list[tuple[Entry, dict[str, ToolResult]]] = []  # with its calls' results
    turn_of: dict[str, dict[str, ToolResult]] = {}  # call id -> results of its turn
    for entry in transcript.entries:
        message = entry.message
        if isinstance(message, UserMsg | AssistantMessage):
            results: dict[str, ToolResult] = {}
            shown.append((entry, results))
            if isinstance(message, AssistantMessage):
                turn_of.update((call.id, results) for call in message.tool_calls)
        elif isinstance(message, ToolResult) and message.call_id in turn_of:
            turn_of[message.call_id][message.call_id] = message
    head = transcript.entries[-1].id if transcript.entries else None
    versions = {fork.node: (fork.index, fork.count) for fork in transcript.tree.forks(head)}
    widgets: list[Widget] = []
    for entry, results in shown[-MAX_TURN_WIDGETS:]:
        message = entry.message
        version = versions.get(entry.id)
        if isinstance(message, UserMsg):
            images = tuple(image.path for image in message.images)
            widgets.append(UserMessage(message.text, version=version, attached=images))
        elif isinstance(message, AssistantMessage):
            widgets.append(_assistant_turn(message, entry.status, results, version))
    return widgets


def _assistant_turn(
    message: AssistantMessage,
    status: EntryStatus,
    results: dict[str, ToolResult],
    version: tuple[int, int] | None = None,
) -> AssistantTurn:
    blocks: list[Widget] = [] if version is None else [BranchMark(*version)]
    for part in message.parts:
        if isinstance(part, TextPart) and part.text:
            blocks.append(AssistantText(part.text))
        elif isinstance(part, ReasoningPart) and part.text:
            blocks.append(ReasoningBlock(part.text))
        elif isinstance(part, ToolCall):
            from tui.ui.widgets.tool_card import ToolCard

            card = ToolCard(part.name, part.id, call=part)
            card.result = results.get(part.id)
            blocks.append(card)
    if status in ("cancelled", "failed", "incomplete"):
        blocks.append(TurnNote(status))
    turn = AssistantTurn(*blocks)
    turn.status = status
    return turn


__all__ = [
    "MAX_MOUNTED_CHARS",
    "MAX_MOUNTED_WIDGETS",
    "MAX_TURN_WIDGETS",
    "Conversation",
    "TurnRenderer",
    "history_widgets",
    "mounted_weight",
]
