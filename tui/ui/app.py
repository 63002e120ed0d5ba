"""ChatApp: the Textual front end of a ``Session``, built in layers.

- ``tui.ui.turns.TurnApp``: the state, sending, the turn worker, approval, frames;
- ``tui.ui.branch_actions.BranchActions``: edit, regenerate, step and switch versions;
- ``tui.ui.palette_actions.PaletteActions``: copy, export, provider/model/reasoning, pickers;
- ``ChatApp`` (here): the screen and its keys, the first screen and what follows it (warm-up,
  MCP servers), the queue of prompts sent while a turn runs, and ``run_app``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import sys
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from providers.client import KEEPALIVE_SECONDS
from tui.core import dataclass_cache, regex_cache
from tui.core.runtime import Options, StartupError, start
from tui.core.sanitize import visible
from tui.core.signals import hang_up, on_stop_signals, stop_status, watch_terminal
from tui.core.transcript.sync import BackgroundSync
from tui.exitcodes import ExitCode
from tui.ui.compat import (
    crash_without_locals,
    css_cache,
    drop_frames_when_terminal_gone,
    end_input_when_terminal_gone,
    load_default_css,
    timers_keep_their_slots,
)
from tui.ui.pacing import (
    FRAME,
    IDLE_COLLECT_DELAY,
    collect_deferred,
    pay_first_use_costs,
    settle_gc,
)
from tui.ui.palette_actions import PaletteActions, commands_module
from tui.ui.turns import BUSY, joined
from tui.ui.widgets.conversation import history_widgets
from tui.ui.widgets.footer import ChatFooter
from tui.ui.widgets.messages import AssistantText, UserMessage
from tui.ui.widgets.prompt import Prompt
from tui.ui.widgets.safe import one_line

WARM_AGAIN = KEEPALIVE_SECONDS - 10
"""Seconds after the connection was opened or used before typing opens one again (a kept
connection is closed after ``KEEPALIVE_SECONDS`` idle)."""
DRAFT_EVERY = 2.0
"""Seconds between saves of the prompt's unsent text (also saved on every exit): a killed
chattui loses at most this much typing."""

if TYPE_CHECKING:  # imported where used: not needed for the first screen
    from tui.core.mcp.status import ServerStatus


class ChatApp(PaletteActions):
    """The chat TUI over a ``Runtime``; constructed as ``TurnApp`` (its arguments)."""

    CSS_PATH = "app.tcss"
    TITLE = "chattui"
    COMMANDS = App.COMMANDS | {lambda: commands_module().ChatCommands}
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

    _draft_warned = False
    _warm: tuple[object, float] = (None, 0.0)
    """The provider whose connection was last opened or used, and until when it is kept."""

    def compose(self) -> ComposeResult:
        yield self.conversation
        yield Static(Text("↓ new output below (click or ctrl+end)"), id="new-below")
        yield Vertical(id="queue")
        yield self.prompt
        yield self.status_bar
        yield ChatFooter()

    async def on_mount(self) -> None:
        on_stop_signals(self._stop_by_signal)
        self._frame_timer = self.set_interval(FRAME, self._tick, name="frame")
        self.set_interval(DRAFT_EVERY, self._keep_draft)
        self.call_after_refresh(settle_gc)
        self.call_after_refresh(self._warm_up)
        self.call_after_refresh(self._start_mcp)
        self.watch(self.conversation, "new_below", self._show_new_below)
        self.prompt.on_typed = self._warm_connection
        self.prompt.focus()
        for warning in self.runtime.config.warnings:
            self.notify(one_line(warning, 500), title="config", severity="warning", markup=False)
        if self.runtime.resumed_from is not None:
            self.branching.reset(self.runtime.resumed_from)
            await self.conversation.add_history(history_widgets(self.runtime.resumed_from))
            self.conversation.follow()
        else:
            await self.conversation.add(self._welcome())
        self._restore_draft()

    def _start_mcp(self) -> None:
        # After the first screen: the servers (and the SDK's import) never delay it.
        manager = self.runtime.mcp
        if manager is None:
            return
        loop = asyncio.get_running_loop()
        self.status_bar.mcp = manager.counts()
        self.status_bar.tick()

        def changed(status: ServerStatus) -> None:  # in the servers' thread
            loop.call_soon_threadsafe(self._mcp_changed, status)

        self.runtime.start_mcp(changed)

    def _mcp_changed(self, status: ServerStatus) -> None:
        from tui.core.mcp.status import ServerState

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
        load_default_css(self, AssistantText)  # else parsed as the first answer streams
        # First-use costs, paid in a thread now rather than on the loop at the first send.
        imports = self.run_worker(
            _pay_first_use_costs, thread=True, group="warm-up", exit_on_error=False
        )
        self.run_worker(self._load_card_css(imports), group="warm-up", exit_on_error=False)
        # The provider's connection pool (httpx and the CA bundle); a failure comes back at the
        # first send, as that request's error.
        prepare = self.runtime.provider.prepare
        self.run_worker(prepare, thread=True, group="warm-up", exit_on_error=False)
        pricer = self.runtime.session.pricer
        if pricer is not None:  # the price table: else a fast first answer waits for it to load
            pricer.warm()

    async def _load_card_css(self, imports: Worker[None]) -> None:
        """A tool card's CSS, once the warm-up thread has imported its module (its first
        mount parsed the stylesheet again, about 2 ms, as the first call began to stream)."""
        await imports.wait()
        from tui.ui.widgets.code_view import CodeView
        from tui.ui.widgets.tool_card import ToolCard

        load_default_css(self, ToolCard, CodeView)

    # The unsent text (tui.core.drafts) -----------------------------------------------------
    def _restore_draft(self) -> None:
        draft = self.runtime.draft
        text = draft.load() if draft is not None else ""
        if text:
            self.prompt.load_text(text)
            self.prompt.move_cursor(self.prompt.document.end)
            self.notify("the text you had not sent is back in the input", markup=False)

    def _keep_draft(self) -> None:
        """Save what is typed and not sent (queued prompts first); warn once if it cannot be."""
        draft = self.runtime.draft
        if draft is None:
            return
        problem = draft.save(joined([*self.queue, self.prompt.unsent]))
        if problem is None or self._draft_warned:
            return
        self._draft_warned = True
        text = f"the unsent text is not kept ({problem}): it is lost if chattui exits"
        self.notify(one_line(text, 500), title="drafts", severity="warning", markup=False)

    # Sending -----------------------------------------------------------------------------
    def _warm_connection(self) -> None:
        """A key typed or a paste (``Prompt.on_typed``): open the API connection now unless one
        is kept, so the prompt's request skips the TCP and TLS handshakes
        (``HTTPProvider.warm_connection``). Text set by the app (a draft, a prompt given back)
        opens none: only the user's typing says a request is coming."""
        provider, now = self.runtime.provider, self.clock()
        if self.busy or (provider is self._warm[0] and now < self._warm[1]):
            return
        self._warm = (provider, now + WARM_AGAIN)
        warm = getattr(provider, "warm_connection", None)  # a test's provider may have none
        if warm is not None:
            self.run_worker(warm(), group="warm", exit_on_error=False)

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

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self._worker = None
        self._cancelling = False
        self._warm = (self.runtime.provider, self.clock() + WARM_AGAIN)  # it was just used
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
        self.give_back(*self.queue)
        self.queue.clear()
        await queued.remove_children()
        self.notify("queued prompts moved back to the input", markup=False)

    # Actions -----------------------------------------------------------------------------
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
            if self.turn_started:  # else the worker, as it begins, sees _cancelling and stops
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

    def action_follow(self) -> None:
        """Jump to the newest output and follow it."""
        self.conversation.follow()

    # Frame -------------------------------------------------------------------------------
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
        self._keep_draft()
        collect_deferred()
        try:
            await self.runtime.aclose()
        except Exception:  # noqa: BLE001 - closing must not fail the exit
            pass


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
    # What was compiled for the first screen and these modules, for the next start.
    dataclass_cache.save_installed()
    regex_cache.save_installed()
    css_cache.save_installed()
    from tui.ui.widgets.code_view import warm_up

    warm_up()  # syntax highlighting
    pay_first_use_costs()  # the HTTP stack's first request


def run_app(ns: argparse.Namespace) -> int:
    """Run the TUI for parsed command-line options; returns the exit code."""
    options = Options(ns.provider, ns.model, ns.config, ns.workspace, ns.resume, ns.reasoning)
    syncer = BackgroundSync()  # transcripts are fsync'ed off the event loop
    try:
        runtime = start(options, syncer=syncer)
    except StartupError as exc:
        print(f"chattui: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    css_cache.install()
    app = ChatApp(runtime)
    watch_terminal(sys.__stdin__.fileno() if sys.__stdin__ else 0)
    drop_frames_when_terminal_gone(hang_up)
    end_input_when_terminal_gone(hang_up)
    timers_keep_their_slots()
    try:
        app.run()
    finally:
        css_cache.uninstall()
        runtime.close()
        _finish_syncs(syncer)
    return app.return_code or ExitCode.OK


def _finish_syncs(syncer: BackgroundSync) -> None:
    """Wait (bounded) for the transcript's last fsync; a failure is said on stderr."""
    try:
        syncer.close()
    except OSError as exc:  # the screen is gone: said like a start-up error
        with contextlib.suppress(OSError):  # unless the terminal went too (a hang-up)
            print(f"chattui: {visible(str(exc))}", file=sys.stderr)
