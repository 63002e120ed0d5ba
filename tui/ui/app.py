"""ChatApp: the Textual front end of a ``Session``.

One turn runs in one ``@work(exclusive=True)`` worker that iterates ``Session.send`` (or
``retry``) and hands each event to a ``TurnRenderer``, which only buffers; a 30 Hz timer
applies the buffers (see ``tui.ui.widgets.conversation``). Cancelling the worker (Escape)
closes the HTTP stream at once; the session saves the partial as cancelled.

Approval: the session's ``approver`` is ``ChatApp._approve``; it shows the prompt on the
call's card, moves focus there, and waits for y / n / a or a button.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from providers.conversation import REASONING_LEVELS
from providers.events import ReasoningDelta, TextDelta, ToolCallDelta
from tui.core.branches import BranchError
from tui.core.dataclass_cache import save_installed
from tui.core.pricing import total_cost
from tui.core.runtime import Options, Runtime, StartupError, start
from tui.core.sanitize import visible
from tui.core.session import (
    Approval,
    PriceUnknown,
    RequestFailed,
    SessionEvent,
    TurnEnded,
    TurnStatus,
)
from tui.core.signals import hang_up, on_stop_signals, stop_status, watch_terminal
from tui.core.tools.registry import PreparedCall
from tui.core.transcript import Transcript, TranscriptError, load, write_markdown
from tui.exitcodes import ExitCode
from tui.ui.branching import Branching, Edit
from tui.ui.compat import crash_without_locals, drop_frames_when_terminal_gone
from tui.ui.pacing import (
    FRAME,
    IDLE_COLLECT_DELAY,
    FrameBudget,
    collect_deferred,
    defer_full_collections,
    paced,
    pay_first_use_costs,
    settle_gc,
)
from tui.ui.widgets.conversation import Conversation, TurnRenderer, history_widgets
from tui.ui.widgets.footer import ChatFooter
from tui.ui.widgets.messages import AssistantTurn, ErrorNote, TurnNote, UserMessage, Welcome
from tui.ui.widgets.prompt import Prompt
from tui.ui.widgets.safe import one_line
from tui.ui.widgets.status import BarState, StatusBar

if TYPE_CHECKING:  # imported where used: not needed for the first screen
    from tui.core.attachments import Prepared
    from tui.core.catalog import ModelCatalog, ModelList
    from tui.core.mcp.manager import ServerStatus

STREAMED = (TextDelta, ToolCallDelta, ReasoningDelta)
"""Nearly all events: a tool card's state never changes on one (so nothing to check)."""
BUSY = "a response is running: press Escape first"
APPROVAL_GRACE = 0.4
"""Seconds in which y / n / a typed as a question appears (or during a burst) do not answer it."""


class ChatApp(App[int]):
    """The chat TUI over a ``Runtime``.

    Args:
        runtime: the assembled session, provider, config and transcript.
        clock: seconds, for rates and time to first token (snapshot tests fix it).
        approval_grace: seconds after an approval question appears (and after each key
            pressed meanwhile) in which y / n / a do not answer it, so keys typed for the
            prompt as the question takes focus never approve a call.
    """

    CSS_PATH = "app.tcss"
    TITLE = "chattui"
    COMMANDS = App.COMMANDS | {lambda: _commands().ChatCommands}
    BINDINGS = [
        # Priority: the prompt's TextArea binds ctrl+y to redo. First: the footer lists keys
        # in the order of the focused widget's bindings, then the app's, and the prompt's come
        # with its redo's ctrl+y; so the footer reads the same before and after the prompt has
        # focus (it is composed before, and need not recompose after).
        Binding("ctrl+y", "copy", "Copy", priority=True),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+end", "follow", "Follow", show=False),
        Binding("alt+left", "step_branch(-1)", "‹ Version"),
        Binding("alt+right", "step_branch(1)", "Version ›"),
        Binding("ctrl+g", "regenerate", "Regenerate", show=False),
        # Priority: page keys scroll the conversation, not the (small) prompt.
        Binding("pageup", "page(-1)", "Scroll up", show=False, priority=True),
        Binding("pagedown", "page(1)", "Scroll down", show=False, priority=True),
    ]

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
        self._last_status = TurnStatus.STOP
        self._models: ModelCatalog | None = None
        self.branching = Branching(runtime)
        self._frames = FrameBudget()
        # Kept, not queried: queries walk the whole DOM, and these are used per event.
        self.conversation = Conversation(id="conversation")
        self.prompt = Prompt(id="prompt")
        self.status_bar = StatusBar(runtime.label, clock=clock, id="status")
        self.status_bar.reset_counts(total_cost(runtime.session.history))

    def compose(self) -> ComposeResult:
        yield self.conversation
        yield Static(Text("↓ new output below (click or ctrl+end)"), id="new-below")
        yield Vertical(id="queue")
        yield self.prompt
        yield self.status_bar
        yield ChatFooter()

    async def on_mount(self) -> None:
        on_stop_signals(self._stop_by_signal)
        self.set_interval(FRAME, self._tick)
        self.call_after_refresh(settle_gc)
        self.call_after_refresh(self._warm_up)
        self.call_after_refresh(self._start_mcp)
        self.watch(self.conversation, "new_below", self._show_new_below)
        self.prompt.focus()
        for warning in self.runtime.config.warnings:
            self.notify(one_line(warning, 500), title="config", severity="warning", markup=False)
        if self.runtime.resumed_from is not None:
            self.branching.reset(self.runtime.resumed_from)
            await self.conversation.add_history(history_widgets(self.runtime.resumed_from))
            self.conversation.follow()
        else:
            await self.conversation.add(self._welcome())

    def _start_mcp(self) -> None:
        # After the first screen: the servers (and the SDK's import) never delay it.
        manager = self.runtime.mcp
        if manager is None:
            return
        loop = asyncio.get_running_loop()
        self.status_bar.mcp = manager.counts()

        def changed(status: ServerStatus) -> None:  # in the servers' thread
            loop.call_soon_threadsafe(self._mcp_changed, status)

        self.runtime.start_mcp(changed)

    def _mcp_changed(self, status: ServerStatus) -> None:
        from tui.core.mcp.manager import ServerState  # imported by the runtime (with servers)

        manager = self.runtime.mcp
        if manager is None:
            return
        self.status_bar.mcp = manager.counts()
        self.status_bar.tick()
        name = one_line(status.name, 40)
        if status.state is ServerState.FAILED and status.error:
            text = f"MCP server {name!r} is not available: {one_line(status.error, 400)}"
            self.notify(text, title="mcp", severity="warning", markup=False)
        for note in status.notes:
            self.notify(f"MCP server {name!r}: {one_line(note, 300)}", title="mcp", markup=False)

    def _warm_up(self) -> None:
        # First-use costs, paid in a thread now rather than on the loop at the first send.
        self.run_worker(_pay_first_use_costs, thread=True, group="warm-up", exit_on_error=False)
        # The provider's connection pool (httpx and the CA bundle); a failure comes back at the
        # first send, as that request's error.
        prepare = self.runtime.provider.prepare
        self.run_worker(prepare, thread=True, group="warm-up", exit_on_error=False)
        pricer = self.runtime.session.pricer
        if pricer is not None:  # the price table: else a fast first answer waits for it to load
            pricer.warm()

    # Widgets ---------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a turn is running."""
        return self._worker is not None and self._worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def model_list(self) -> asyncio.Task[ModelList]:
        """The current provider's models: fetched in the background, once per session."""
        if self._models is None:
            from tui.core.catalog import ModelCatalog

            self._models = ModelCatalog()
        return self._models.start(self.runtime.provider_config.name, self.runtime.provider)

    # Sending ---------------------------------------------------------------------------------

    @on(Prompt.Submitted)
    async def _on_submitted(self, event: Prompt.Submitted) -> None:
        text = event.text
        if not text.strip():
            return
        self.prompt.remember(text)
        self.prompt.clear()
        if self.branching.editing is not None and not self.busy:
            await self._send_edit(text)
            return
        if self.busy:
            self.queue.append(text)
            await self.query_one("#queue").mount(UserMessage(text, queued=True))
            return
        self.send(text)

    def send(self, text: str) -> None:
        """Start a turn (the worker shows the user's message first)."""
        self._start_turn(text)

    def _start_turn(self, prompt: str | None, version: tuple[int, int] | None = None) -> None:
        self._cancelling = False
        self._worker = self._run_turn(prompt, version)
        self.refresh_bindings()

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def _run_turn(self, prompt: str | None, version: tuple[int, int] | None) -> None:
        session = self.runtime.session
        turn = AssistantTurn()
        prepared: Prepared | None = None
        if prompt is not None:
            prepared = await self._attachments(prompt)
            if prepared is None:
                return
            await self.conversation.add(
                UserMessage(prompt, version=version, attached=prepared.names)
            )
        self.conversation.follow()
        await self.conversation.add(turn)
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
            status, reason = await self._pump(events, renderer)
        except asyncio.CancelledError:
            await self._end_turn(renderer, TurnStatus.CANCELLED, None)
            raise
        except Exception as exc:  # a bug must cost this turn, never the app
            self.log.error(traceback.format_exc())
            message = f"internal error: {type(exc).__name__}: {exc}"
            self.internal_errors.append(message)
            await self._end_turn(renderer, TurnStatus.ERROR, message)
        else:
            await self._end_turn(renderer, status, reason)

    async def _attachments(self, prompt: str) -> Prepared | None:
        """The prompt with its ``@`` files applied; None (said, prompt given back) if refused."""
        from tui.core.attachments import AttachmentError, check_provider, prepare

        try:
            prepared = await asyncio.to_thread(
                prepare, prompt, self.runtime.session.tools.workspace
            )
            check_provider(prepared, self.runtime.provider)
            return prepared
        except AttachmentError as exc:
            await self._error_note(str(exc), retry=False)
            if not self.prompt.text.strip():
                self.prompt.load_text(prompt)
            return None

    async def _pump(
        self, events: AsyncIterator[SessionEvent], renderer: TurnRenderer
    ) -> tuple[TurnStatus, str | None]:
        defer_full_collections()  # made once the app is idle: _collect_when_idle
        status: TurnStatus = TurnStatus.FAILED
        reason: str | None = None
        async with aclosing(paced(events)) as stream:
            async for event in stream:
                self.status_bar.observe(event)
                if renderer.take(event):  # a fragment: buffered, nothing else to do
                    continue
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

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self._worker = None
        self._cancelling = False
        if not self.screen_stack:  # the app is shutting down
            return
        self.refresh_bindings()
        self.set_timer(IDLE_COLLECT_DELAY, self._collect_when_idle)
        if self.queue:
            self.call_later(self._after_turn)

    def _collect_when_idle(self) -> None:
        if not self.busy:
            collect_deferred()

    async def _after_turn(self) -> None:
        if self.busy or not self.queue:
            return
        queued = self.query_one("#queue")
        if self._last_status.ran_to_an_end:
            text = self.queue.pop(0)
            await queued.children[0].remove()
            self.send(text)
            return
        # Cancelled or failed: give the queued prompts back to the user rather than send them.
        restored = "\n\n".join(
            [*self.queue, self.prompt.text] if self.prompt.text.strip() else self.queue
        )
        self.queue.clear()
        await queued.remove_children()
        self.prompt.load_text(restored)
        self.notify("queued prompts moved back to the input", markup=False)

    # Approval --------------------------------------------------------------------------------

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

    # Actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.busy or self.branching.editing is not None
        if action == "retry":
            return not self.busy and self._last_status.cut_short
        if action == "step_branch":  # shown in the footer only once there are versions
            return not self.busy and self.branching.forked
        if action == "page":  # only on the main screen (the palette has its own list)
            return self.screen is self.screen_stack[0]
        return True

    def action_page(self, direction: int) -> None:
        """PageUp / PageDown: scroll the conversation (scrolling up stops following)."""
        if direction < 0:
            self.conversation.scroll_page_up()
        else:
            self.conversation.scroll_page_down()

    def _stop_by_signal(self, signum: int) -> None:
        """SIGTERM or SIGHUP: exit as on Ctrl+Q (the turn is saved cancelled, the terminal
        restored), with the conventional status."""
        self.exit(return_code=stop_status(signum))

    def action_cancel(self) -> None:
        """Escape: stop the response (the partial stays, marked cancelled), or drop an edit."""
        if not self.busy and self.branching.editing is not None:
            self.branching.editing = None
            self.prompt.clear()
            self.notify("edit dropped", markup=False)
            return
        if self.busy and not self._cancelling and self._worker is not None:
            self._cancelling = True
            self._worker.cancel()

    def action_retry(self) -> None:
        """Run the last failed or cancelled request again."""
        if self.check_action("retry", ()):
            self._start_turn(None)

    async def action_new_conversation(self) -> None:
        """Ctrl+N: a fresh transcript and an empty view."""
        if self.busy:
            self.notify(BUSY, markup=False)
            return
        self.runtime.new_conversation()
        self.branching.reset()
        await self.reset_view()
        self.notify("new conversation", markup=False)

    async def reset_view(self, welcome: bool = True) -> None:
        """Empty the conversation view, the queue and the counters."""
        await self.conversation.remove_children()
        await self.query_one("#queue").remove_children()
        self.queue.clear()
        self._last_status = TurnStatus.STOP
        self.conversation.follow()
        self.status_bar.reset_counts(total_cost(self.runtime.session.history))
        self.status_bar.set_state(BarState.IDLE)
        self.refresh_bindings()
        if welcome:
            await self.conversation.add(self._welcome())

    def _welcome(self) -> Welcome:
        return Welcome(self.runtime.label, demo=self.runtime.provider_config.kind == "demo")

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

    def action_follow(self) -> None:
        """Jump to the newest output and follow it."""
        self.conversation.follow()

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
                providers=[_commands().ModelCommands],
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

    # Branches --------------------------------------------------------------------------------

    async def show_branch(self, view: Transcript) -> None:
        """Show ``view`` (a branch of the conversation) instead of what is on screen."""
        await self.reset_view(welcome=False)
        await self.conversation.add_history(history_widgets(view))
        self.conversation.follow()
        self.refresh_bindings()

    async def _branch_move(self, move: Callable[[], Transcript]) -> Transcript | None:
        """Run a branch operation when idle; its problems become notes, not crashes."""
        if self.busy:
            self.notify(BUSY, markup=False)
            return None
        try:
            view = move()
        except (BranchError, TranscriptError, OSError) as exc:
            self.notify(one_line(str(exc)), severity="warning", markup=False)
            return None
        await self.show_branch(view)
        return view

    @on(UserMessage.EditRequested)
    def _on_edit_requested(self, event: UserMessage.EditRequested) -> None:
        shown = list(self.conversation.query_children(UserMessage))
        if event.widget in shown:
            back = len(shown) - 1 - shown.index(event.widget)
            self._begin_edit(lambda: self.branching.prompt_from_end(back))

    def action_edit_prompt(self, node: str) -> None:
        """Palette: edit a prompt of this branch; sending it starts a new version."""
        self._begin_edit(lambda: self.branching.start_edit(node))

    def _begin_edit(self, mark: Callable[[], Edit]) -> None:
        if self.busy:
            self.notify(BUSY, markup=False)
            return
        try:
            edit = mark()
        except (BranchError, TranscriptError, OSError) as exc:
            self.notify(one_line(str(exc)), severity="warning", markup=False)
            return
        self.prompt.load_text(edit.text)
        self.prompt.move_cursor(self.prompt.document.end)
        self.prompt.focus()
        self.refresh_bindings()
        hint = f"editing prompt {edit.number}: Enter sends it as a new version, Esc drops the edit"
        self.notify(hint, markup=False)

    async def _send_edit(self, text: str) -> None:
        moved: list[tuple[int, int]] = []

        def move() -> Transcript:
            view, version = self.branching.send_edit()
            moved.append(version)
            return view

        if await self._branch_move(move) is not None:
            self._start_turn(text, moved[0])

    async def action_regenerate(self) -> None:
        """Ctrl+G: a new answer to the last prompt (the old one stays, as another version)."""
        if await self._branch_move(self.branching.regenerate) is not None:
            self._start_turn(None)

    async def action_step_branch(self, delta: int) -> None:
        """Alt+Left / Alt+Right: the previous or next version at the last fork."""
        await self._branch_move(lambda: self.branching.step(delta))

    async def action_switch_branch(self, node: str) -> None:
        """Palette: show the branch through ``node`` and continue it."""
        await self._branch_move(lambda: self.branching.switch(node))

    async def action_undo_branch(self) -> None:
        """Palette: back to the branch shown before the last switch, edit or regenerate."""
        await self._branch_move(self.branching.undo)

    def action_open_prompts(self) -> None:
        """Palette: the prompts of this branch, to pick one to edit."""
        self.push_screen(
            CommandPalette(providers=[_commands().PromptCommands], placeholder="Edit which prompt?")
        )

    def action_open_branches(self) -> None:
        """Palette: every branch of this conversation, to switch to one."""
        self.push_screen(
            CommandPalette(
                providers=[_commands().BranchCommands], placeholder="Switch to which branch?"
            )
        )

    # Frame -----------------------------------------------------------------------------------

    async def _tick(self) -> None:
        if not self._frames.due():
            return
        started = self._frames.start()
        try:
            if self._renderer is not None:
                await self._renderer.flush()
            self.status_bar.tick()
            self.call_after_refresh(self._frames.drawn, started)
        except Exception as exc:  # never the crash screen from a frame update
            self.log.error(traceback.format_exc())
            self.internal_errors.append(f"{type(exc).__name__}: {exc}")

    def _show_new_below(self, value: bool) -> None:
        self.query_one("#new-below").display = value

    def on_click(self, event: object) -> None:
        widget = getattr(event, "widget", None)
        if widget is not None and widget.id == "new-below":
            self.conversation.follow()

    def _fatal_error(self) -> None:
        # Textual's default crash screen prints local variables (an API key in a local,
        # request headers...): show the traceback without them.
        crash_without_locals(self)

    async def on_unmount(self) -> None:
        collect_deferred()
        try:
            await self.runtime.aclose()
        except Exception:  # noqa: BLE001 - closing must not fail the exit
            pass


def _commands() -> ModuleType:
    """The palette's commands (``tui.ui.commands``), imported when the palette first opens."""
    from tui.ui import commands

    return commands


LATER_MODULES = (
    "tui.ui.markdown.elements",
    "tui.ui.widgets.tool_card",
    "tui.ui.commands",
    "tui.core.attachments",
    "tui.core.catalog",
)
"""Not imported with the first screen (an answer's Markdown, a tool card, the palette, ``@``
files, the model list): imported in the warm-up thread right after it, so that their first use
does not pay for the import on the event loop (markdown-it and Rich's Markdown: 20-50 ms)."""


def _pay_first_use_costs() -> None:
    for name in LATER_MODULES:
        importlib.import_module(name)
    save_installed()  # the dataclass methods compiled for the first screen and these modules
    from tui.ui.widgets.code_view import warm_up

    warm_up()  # syntax highlighting
    pay_first_use_costs()  # the HTTP stack's first request


def run_app(ns: argparse.Namespace) -> int:
    """Run the TUI for parsed command-line options; returns the exit code."""
    options = Options(ns.provider, ns.model, ns.config, ns.workspace, ns.resume, ns.reasoning)
    try:
        runtime = start(options)
    except StartupError as exc:
        print(f"chattui: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    app = ChatApp(runtime)
    watch_terminal(sys.__stdin__.fileno() if sys.__stdin__ else 0)
    drop_frames_when_terminal_gone(hang_up)
    try:
        app.run()
    finally:
        runtime.close()
    return app.return_code or ExitCode.OK
