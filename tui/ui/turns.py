"""The turn engine under ``ChatApp``: its state, sending, the turn worker, approval, frames.

One turn runs in one ``@work(exclusive=True)`` worker that iterates ``Session.send`` (or
``retry``) and hands each event to a ``TurnRenderer``, which only buffers; a 30 Hz timer
applies the buffers (see ``tui.ui.widgets.conversation``). Cancelling the worker (Escape)
closes the HTTP stream at once; the session saves the partial as cancelled.

Approval: the session's ``approver`` is ``TurnApp._approve``; it shows the prompt on the
call's card, moves focus there, and waits for y / n / a or a button.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import aclosing
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from providers.events import ReasoningDelta, TextDelta, ToolCallDelta, Usage
from tui.core.pricing import total_cost
from tui.core.runtime import Runtime
from tui.core.session import (
    Approval,
    PriceUnknown,
    RequestFailed,
    SessionEvent,
    StepStarted,
    TurnEnded,
    TurnStatus,
)
from tui.core.tools.registry import PreparedCall
from tui.ui.branching import Branching
from tui.ui.pacing import (
    FrameBudget,
    defer_full_collections,
    paced,
)
from tui.ui.widgets.conversation import Conversation, TurnRenderer
from tui.ui.widgets.messages import AssistantTurn, ErrorNote, TurnNote, UserMessage, Welcome
from tui.ui.widgets.prompt import Prompt
from tui.ui.widgets.safe import one_line
from tui.ui.widgets.status import BarState, StatusBar

if TYPE_CHECKING:  # imported where used: not needed for the first screen
    from tui.core.attachments import Prepared
    from tui.core.catalog import ModelCatalog

STREAMED = (TextDelta, ToolCallDelta, ReasoningDelta)
"""Nearly all events: a tool card's state never changes on one (so nothing to check)."""
ENDING = (Usage, PriceUnknown, TurnEnded)
"""What a request ends with (its usage, the notice that it has no price, and the turn's
end): handed on without a frame before them (``paced``). A frame drawn between them showed
a turn still running, and the frame showing it ended then waited for the next refresh."""
BUSY = "a response is running: press Escape first"
APPROVAL_GRACE = 0.4
"""Seconds in which y / n / a typed as a question appears (or during a burst) do not answer it."""


def _ending(event: SessionEvent) -> bool:
    return isinstance(event, ENDING)


def joined(prompts: Iterable[str]) -> str:
    """Prompts as one text for the input, a blank line between, blank ones left out."""
    return "\n\n".join(prompt for prompt in prompts if prompt.strip())


class TurnApp(App[int]):
    """The chat TUI's state and its turns (``ChatApp`` adds the screen, keys and palette).

    Args:
        runtime: the assembled session, provider, config and transcript.
        clock: seconds, for rates and time to first token (snapshot tests fix it).
        approval_grace: seconds after an approval question appears (and after each key
            pressed meanwhile) in which y / n / a do not answer it, so keys typed for the
            prompt as the question takes focus never approve a call.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Callable[[], float] = time.monotonic,
        approval_grace: float = APPROVAL_GRACE,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.clock = clock
        self.approval_grace = approval_grace
        runtime.session.approver = self._approve
        self.queue: list[str] = []
        self.internal_errors: list[str] = []
        """Unexpected exceptions caught (and shown as notes) instead of crashing."""
        self._worker: Worker[None] | None = None
        self._renderer: TurnRenderer | None = None
        self._cancelling = False
        self.turn_started = False
        """Whether the turn worker's coroutine has begun (a worker cancelled before that
        never ends: Textual leaves it RUNNING, so ``action_cancel`` does not cancel it)."""
        self._last_status = TurnStatus.STOP
        self._models: ModelCatalog | None = None
        self.branching = Branching(runtime)
        self._frames = FrameBudget()
        self._frame_timer: Timer | None = None
        """Runs ``_tick`` once a frame while a turn runs; paused while idle."""
        # Kept, not queried: queries walk the whole DOM, and these are used per event.
        self.conversation = Conversation(id="conversation")
        self.prompt = Prompt(id="prompt")
        self.status_bar = StatusBar(runtime.label, clock=clock, id="status")
        self.status_bar.reset_counts(total_cost(runtime.session.history))

    @property
    def busy(self) -> bool:
        """Whether a turn is running."""
        return self._worker is not None and self._worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    # Sending -----------------------------------------------------------------------------
    def send(self, text: str) -> None:
        """Start a turn (the worker shows the user's message first)."""
        self._start_turn(text)

    def _start_turn(self, prompt: str | None, version: tuple[int, int] | None = None) -> None:
        self._cancelling = self.turn_started = False
        self._worker = self._run_turn(prompt, version)
        self.refresh_bindings()
        if self._frame_timer is not None:
            self._frame_timer.resume()

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def _run_turn(self, prompt: str | None, version: tuple[int, int] | None) -> None:
        self.turn_started = True
        if self._cancelling:  # Escape came before the worker ran: nothing was sent
            self._unsend(prompt)
            return
        session = self.runtime.session
        turn = AssistantTurn()
        prepared: Prepared | None = None
        shown: list[Widget] = []
        if prompt is not None:
            prepared = await self._attachments(prompt)
            if prepared is None:
                return
            shown.append(UserMessage(prompt, version=version, attached=prepared.names))
        self.conversation.follow()
        # The request does not wait for the mount: the mount and its frame overlap the
        # network round trip (``_pump`` waits for it before the first event needing the turn).
        mounted = asyncio.ensure_future(self.conversation.add(*shown, turn))
        renderer = self._renderer = TurnRenderer(
            self.conversation,
            turn,
            self.clock,
            edit_reader=session.tools.read_for_edit,
            approval_grace=self.approval_grace,
        )
        events = (
            session.send(prepared.text, prepared.images)
            if prepared is not None
            else session.retry()
        )
        try:
            status, reason = await self._pump(events, renderer, mounted)
        except asyncio.CancelledError:
            await mounted
            await self._end_turn(renderer, TurnStatus.CANCELLED, None)
            raise
        except OSError as exc:  # the transcript could not be written or synced (disk full, EIO)
            await mounted
            await self._end_turn(renderer, TurnStatus.ERROR, f"cannot save the transcript: {exc}")
        except Exception as exc:  # a bug must cost this turn, never the app
            self.log.error(traceback.format_exc())
            message = f"internal error: {type(exc).__name__}: {exc}"
            self.internal_errors.append(message)
            await mounted
            await self._end_turn(renderer, TurnStatus.ERROR, message)
        else:
            await mounted
            await self._end_turn(renderer, status, reason)

    def _unsend(self, prompt: str | None) -> None:
        """A turn cancelled before it began: its prompt goes back to the input, unsent."""
        self._last_status = TurnStatus.CANCELLED  # queued prompts come back too
        self.status_bar.set_state(BarState.CANCELLED)
        if prompt:
            self.give_back(prompt)
            self.notify("cancelled before it was sent: back in the input", markup=False)

    def give_back(self, *prompts: str) -> None:
        """Put ``prompts`` back in the input, before what is typed there (nothing is lost)."""
        self.prompt.load_text(joined([*prompts, self.prompt.text]))

    async def _attachments(self, prompt: str) -> Prepared | None:
        """The prompt with its ``@`` files applied; None (said, prompt given back) if refused."""
        from tui.core.attachments import (
            AttachmentError,
            Prepared,
            check_provider,
            may_mention,
            prepare,
        )

        if not may_mention(prompt):  # no file to read: no thread hop before the request
            return Prepared(prompt)
        try:
            prepared = await asyncio.to_thread(
                prepare, prompt, self.runtime.session.tools.workspace
            )
            check_provider(prepared, self.runtime.provider)
            return prepared
        except AttachmentError as exc:
            await self._error_note(str(exc), retry=False)
            self.give_back(prompt)
            return None

    async def _pump(
        self,
        events: AsyncIterator[SessionEvent],
        renderer: TurnRenderer,
        mounted: asyncio.Future[None],
    ) -> tuple[TurnStatus, str | None]:
        """Hand ``events`` to ``renderer``; ``mounted``: the turn's mount, awaited before the
        first event other than ``StepStarted`` (which comes before the request is sent)."""
        defer_full_collections()  # made once the app is idle: _collect_when_idle
        status: TurnStatus = TurnStatus.FAILED
        reason: str | None = None
        async with aclosing(paced(events, _ending)) as stream:
            async for event in stream:
                self.status_bar.observe(event)
                if renderer.take(event):  # a fragment: buffered, nothing else to do
                    continue
                if not mounted.done() and not isinstance(event, StepStarted):
                    # Shielded: a cancel here must not cancel the mount, which the turn's
                    # end waits for.
                    await asyncio.shield(mounted)
                await renderer.handle(event)
                if isinstance(event, STREAMED):
                    continue
                if renderer.running_tool and self.status_bar.state is not BarState.APPROVAL:
                    self.status_bar.set_state(BarState.RUNNING)
                if isinstance(event, RequestFailed):
                    await renderer.flush()
                    await self._error_note(str(event.error))
                elif isinstance(event, TurnEnded):
                    status, reason = event.status, event.reason
                elif isinstance(event, PriceUnknown):
                    self.notify(one_line(event.reason, 300), title="cost", markup=False)
        return status, reason

    async def _error_note(self, message: str, *, retry: bool = True) -> None:
        await self.conversation.add(ErrorNote(message, retry=retry))
        self.notify(one_line(message, 200), title="error", severity="error", markup=False)

    async def _end_turn(
        self, renderer: TurnRenderer, status: TurnStatus, reason: str | None
    ) -> None:
        await renderer.close(status)
        self._renderer = None
        self._last_status = status
        if status is TurnStatus.CANCELLED:
            await renderer.turn.mount(TurnNote("cancelled"))
        elif status is TurnStatus.ERROR:
            await self._error_note(reason or "internal error")
        elif status not in (TurnStatus.STOP, TurnStatus.FAILED, TurnStatus.TOOL_CALLS):
            await renderer.turn.mount(TurnNote(f"stopped: {reason or status}"))
        if not renderer.turn.children:
            await renderer.turn.remove()
        if status is TurnStatus.CANCELLED:
            self.status_bar.set_state(BarState.CANCELLED)
        else:
            self.status_bar.set_state(BarState.IDLE if status.ran_to_an_end else BarState.ERROR)
        self.status_bar.tick()

    # Approval ----------------------------------------------------------------------------
    async def _approve(self, prepared: PreparedCall) -> Approval:
        renderer = self._renderer
        card = renderer.card_for(prepared) if renderer is not None else None
        if renderer is None or card is None:  # fail closed
            return Approval("no", "the approval prompt could not be shown")
        await renderer.flush()
        self.status_bar.set_state(BarState.APPROVAL)
        # Focus moves (card, reason box) scroll the view; they are not the user scrolling away.
        following = self.conversation.following
        try:
            answer = await card.ask(prepared, then_focus=self.prompt)
        finally:
            if following:
                self.conversation.follow()
        refused = answer.decision == "no"
        self.status_bar.set_state(BarState.WAITING if refused else BarState.RUNNING)
        return answer

    # View --------------------------------------------------------------------------------
    async def reset_view(self, welcome: bool = True) -> None:
        """Empty the conversation view, the queue and the counters."""
        await self.conversation.remove_children()
        await self.query_one("#queue").remove_children()
        self.queue.clear()
        self._last_status = TurnStatus.STOP
        self.conversation.follow()
        self.status_bar.reset_counts(total_cost(self.runtime.session.history))
        self.status_bar.set_state(BarState.IDLE)
        self.status_bar.tick()
        self.refresh_bindings()
        if welcome:
            await self.conversation.add(self._welcome())

    def _welcome(self) -> Welcome:
        return Welcome(self.runtime.label, demo=self.runtime.provider_config.kind == "demo")

    async def _tick(self) -> None:
        renderer = self._renderer
        if renderer is None and not self.busy:
            # Idle: nothing streams and no rate runs. The status is drawn once more, then
            # the timer sleeps until the next turn (a 30 Hz tick with nothing to do took an
            # idle chattui to four times the CPU of an idle Textual app).
            self.status_bar.tick()
            if self._frame_timer is not None:
                self._frame_timer.pause()
            return
        if not self._frames.due(renderer.fed if renderer is not None else 0):
            return
        started = self._frames.start()
        try:
            if renderer is not None:
                await renderer.flush()
            self.status_bar.tick()
            self.call_after_refresh(self._frames.drawn, started)
        except Exception as exc:  # never the crash screen from a frame update
            self.log.error(traceback.format_exc())
            self.internal_errors.append(f"{type(exc).__name__}: {exc}")
