"""The live tool-call card: a call rendered while its arguments stream, then approved and run.

States: ``CardState`` (``tui.ui.widgets.card_state``), each also a ``-state`` CSS class.

Argument fragments go to ``LiveArguments`` (``tui.ui.widgets.live_args``): pushed to
``PartialJSON`` (an append) and parsed together once a frame. ``save_file`` content is appended
to a ``CodeView`` from the growth of ``("content",)`` only (just the new characters), and so is
an MCP tool's first long string argument (``CODE_KEYS``: content, code, query...), its language
guessed from a path-like argument (``PATH_KEYS``) or its name (``query`` is SQL); other tools
show their arguments as pretty JSON, re-rendered from ``PartialJSON.value`` at most once a
frame. Nothing here is applied per fragment: ``feed`` only buffers, ``flush`` (called once a
frame by the renderer) parses and updates widgets. Asking for approval is the base class,
``ApprovalCard`` (``tui.ui.widgets.card_approval``); the prompt itself is
``tui.ui.widgets.approval.ApprovalPanel``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.reactive import var
from textual.timer import Timer
from textual.widget import AwaitMount, Widget
from textual.widgets import Collapsible, Static

from providers.accumulate import INCOMPLETE_CALL
from providers.conversation import ToolCall, ToolResult
from tui.core.sanitize import sanitize, visible
from tui.core.tools.live_edit import Reader
from tui.core.tools.prepared import PreparedCall
from tui.core.turn import Approval
from tui.core.units import human_size
from tui.ui.widgets.card_approval import ApprovalCard
from tui.ui.widgets.card_state import LABELS, OPEN_STATES
from tui.ui.widgets.card_state import CardState as CardState
from tui.ui.widgets.code_view import CodeView
from tui.ui.widgets.edit_preview import EditPreview
from tui.ui.widgets.live_args import LiveArguments
from tui.ui.widgets.safe import one_line, shown

STATE_STYLED = ("#header",)
"""The card's children whose styles depend on its state class (app.tcss): only these are
restyled when the state changes (a test keeps the stylesheet to that)."""
ELAPSED_TICK = 0.5
"""Seconds between redraws of a running command's elapsed time."""
RESULT_FOLD_LINES = 6
RESULT_FOLD_CHARS = 600


def pretty_json(value: Any) -> str:
    """Arguments as indented JSON with hidden characters made visible."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return shown(sanitize(text))


class ToolCard(ApprovalCard, can_focus=True):
    """One tool call, live from its first fragment to its result.

    Args:
        name: the tool name as the model sent it (untrusted).
        call_id: the call's id, to find the card from a ``PreparedCall``.
        call: a finished call to show at once (a loaded transcript).
        clock: seconds, for the write rate (tests pass a fixed clock).
        edit_reader: reads the file an ``edit_file`` call edits, for its live diff (None:
            the diff is shown from the complete arguments only).
        grace: seconds (on ``clock``) after the question appears, and after any key
            pressed meanwhile, in which y / n / a do not answer it: a key meant for the
            prompt, typed as the question took focus, must not approve a call.
    """

    DEFAULT_CSS = """
    ToolCard > #header { height: 1; }
    ToolCard > CodeView.-hidden { display: none; }
    """

    state: var[CardState] = var(CardState.RECEIVING)

    def __init__(
        self,
        name: str,
        call_id: str = "",
        *,
        call: ToolCall | None = None,
        clock: Callable[[], float] = time.monotonic,
        edit_reader: Reader | None = None,
        grace: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, grace=grace, classes="-receiving")
        self.tool_name = one_line(name, 80)
        self.call_id = call_id
        self.is_save = name == "save_file"
        # An MCP tool's long string argument goes to the code view, as save_file's content.
        self._mcp = name.startswith("mcp__")
        self._edit = EditPreview(edit_reader) if name == "edit_file" else None
        self.is_command = name == "run_command"
        self._output: list[str] = []  # command output not yet shown
        self._output_bytes = 0
        self._started: float | None = None  # when the command started running
        self._ticker: Timer | None = None
        self._end: float | None = None
        self._clock = clock
        self._args = LiveArguments(name, clock)
        self._fed = False  # a fragment arrived (a plain attribute: read once per fragment)
        self._path_shown: str | None = None  # the path the code view's language came from
        self._dirty = True
        self._call: ToolCall | None = None
        self.refused = False
        self._composed = False  # children exist (is_mounted is still False in on_mount)
        self._saved_call = call
        self._ready_call: ToolCall | None = None  # complete before its mount: see ready
        self._style_held = False  # see hold_style
        self._style_stale = False  # a state's style not applied while held
        self._progress = ""  # the last progress report of a running call
        self.result: ToolResult | None = None
        """A saved result to show on mount (a loaded transcript)."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="header")
        yield Static(Text("receiving arguments…"), id="receiving")
        if self.is_save:
            yield CodeView(id="code")
        elif self._edit is not None:
            yield self._edit
        else:
            yield Static(id="args")
            if self._mcp:
                yield CodeView(id="code", classes="-hidden")
        if self.is_command:
            output = CodeView(id="output")
            output.display = False
            yield output

    def on_mount(self) -> None:
        self._composed = True
        if self._ready_call is not None:  # its fragments are replaced, never parsed
            self.ready(self._ready_call)
            return
        if self._saved_call is not None and self._saved_call.error == INCOMPLETE_CALL:
            # The turn ended (cancelled, failed) mid-call: shown as it was when it ended, its
            # arguments so far streamed into the card, as the live card showed them.
            self.feed(self._saved_call.raw_arguments)
            self.cancel()
            return
        if self._saved_call is not None:  # from a transcript: show it finished
            self.ready(self._saved_call)
            if self.result is not None:
                self.refused = self.result.refused
                if self.refused:
                    self.state = CardState.REFUSED
                self.finish(self.result)
            elif self.state is CardState.READY:
                self.state = CardState.CANCELLED
        self.flush()

    def watch_state(self, old: CardState, new: CardState) -> None:
        if old is not new:  # not on mount: the constructor gave the first state's class
            self._restyle(old, new)
        self._dirty = True  # the header is redrawn by the next flush
        if self.is_command and new is CardState.RUNNING and self._ticker is None:
            self._started = self._clock()
            self._ticker = self.set_interval(ELAPSED_TICK, self._tick)
        elif self._ticker is not None and new is not CardState.RUNNING:
            self._ticker.stop()
            self._ticker = None

    def _restyle(self, old: CardState, new: CardState) -> None:
        """Swap the state classes and apply the stylesheet to the nodes they style.

        ``add_class`` and ``remove_class`` each apply the stylesheet to the card and every
        node under it (the code view, its scrollbars, a result): 2-4 ms a change, five
        changes a call, and a restyled scrollbar asked for a layout of the whole screen.
        The state classes style only the card and its header (``STATE_STYLED``).
        """
        self.set_class(False, f"-{old}", update=False)
        self.set_class(True, f"-{new}", update=False)
        if not self.is_attached:
            return
        if self._style_held:
            self._style_stale = True
            return
        self._apply_state_style()

    def _apply_state_style(self) -> None:
        nodes: list[Widget] = [self]
        if self._composed:
            nodes += [self.query_one(selector) for selector in STATE_STYLED]
        self.app.stylesheet.update_nodes(nodes, animate=True)

    def hold_style(self) -> None:
        """Keep the stylesheet pass of state changes until ``release_style``: while the
        screen's updates are held (``FrameHold``), a completion's states (ready, running)
        are never drawn, and each pass cost about 0.7 ms on the way to the result."""
        self._style_held = True

    def release_style(self) -> None:
        """Apply the current state's style if a change was held (before the frame shows it)."""
        stale, self._style_held, self._style_stale = self._style_stale, False, False
        if stale and self.is_attached:
            self._apply_state_style()

    def _tick(self) -> None:
        self._dirty = True  # the elapsed time in the header
        self.flush()

    def add_output(self, text: str) -> None:
        """Take a piece of a running command's output (shown by the next ``flush``)."""
        self._output.append(text)
        self._output_bytes += len(text)
        self._dirty = True

    # Streaming ------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The path argument as far as it is known ("" before)."""
        return self._args.path

    def feed(self, fragment: str) -> None:
        """Take one raw argument fragment (O(1): pushed to the parser, parsed in ``flush``)."""
        if not self._fed:  # not `self.state`: a reactive costs a descriptor call per read
            self._fed = True
            if self.state is CardState.RECEIVING:
                self.state = CardState.STREAMING
        self._dirty = True
        self._args.push(fragment)

    def _pull(self) -> None:
        """Parse the fragments pushed since the last frame in one go; route their growth."""
        growth = self._args.pull()
        if growth is None:
            return
        if self._edit is not None:
            self._edit.feed(growth)
        elif self._args.route(growth):  # an MCP call's long argument appeared
            self.query_one(CodeView).remove_class("-hidden")

    def flush(self) -> None:
        """Apply what arrived since the last frame (called at most once a frame)."""
        if not self._dirty or not self._composed:
            return
        self._dirty = False
        if self._output:
            self._flush_output()
        self._pull()
        if self._args.code_key is not None:
            self._flush_save()
        if self._edit is not None:
            self._edit.flush()
        elif self.is_save:
            pass  # the code view is the whole card
        elif self._call is None and self._args.raw_chars and self._args.error is None:
            self._show_args(self._args.json.value)
        self.query_one("#receiving", Static).display = self._args.raw_chars == 0 and (
            self.state is CardState.RECEIVING
        )
        # One row high (CSS): no layout needed for a new header (the bytes change each frame).
        self.query_one("#header", Static).update(self._header(), layout=False)

    def _flush_save(self) -> None:
        code = self.query_one(CodeView)
        if self._args.pending:
            code.append(shown(self._args.take_pending()))
        # The language is looked up once, from the whole path: a prefix ("app.p") can name
        # another language, whose lexer would be loaded for nothing mid-stream.
        path = self._args.language_path()
        if (self._args.path_known or not self.path) and path and path != self._path_shown:
            self._path_shown = path
            code.set_language_from_path(path)

    def _flush_output(self) -> None:
        view = self.query_one("#output", CodeView)
        view.display = True
        view.append(shown("".join(self._output)))  # escape sequences shown, never run
        self._output.clear()

    def _show_args(self, value: Any) -> None:
        if value is None:
            return
        if self._args.code_key is not None and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != self._args.code_key}
        self.query_one("#args", Static).update(
            Syntax(
                pretty_json(value),
                "json",
                theme="ansi_dark",
                background_color="default",
                word_wrap=True,
            )
        )

    def _header(self) -> Text:
        header = Text.assemble(("⏺ ", "bold"), (self.tool_name, "bold"))
        path = self._edit.path() if self._edit is not None else self.path
        if path:
            header.append("  ")
            header.append(visible(path), style="underline")
        header.append(f"  {LABELS[self.state]}", style="italic")
        if self._progress and self.state is CardState.RUNNING:
            header.append(f" · {self._progress}")
        if self._args.code_key is not None and (self._args.bytes or self._call is not None):
            header.append(f" · {human_size(self._args.bytes)} · {self._line_count()} lines")
            rate = self._args.rate() if self.state is CardState.STREAMING else ""
            if rate:
                header.append(f" · {rate}")
        if self._started is not None:
            seconds = (self._end or self._clock()) - self._started
            header.append(f" · {seconds:.1f} s")
            if self._output_bytes:
                header.append(f" · {human_size(self._output_bytes)} of output")
        if self._args.error is not None and self._call is None:
            header.append(f"  (arguments are not valid JSON: {self._args.error})", style="italic")
        return header

    def _line_count(self) -> int:
        return self.query_one(CodeView).line_count if self._composed else self._args.lines

    # Complete call --------------------------------------------------------------------------

    def ready(self, call: ToolCall) -> None:
        """The arguments are complete and parsed (or ``call.error`` says why not).

        A card not mounted yet (its call came in a burst) takes them as it mounts.
        """
        if not self._composed:
            self._ready_call = call
            return
        self._ready_call = None
        self._call = call
        self._dirty = True
        if call.error is not None:
            self.state = CardState.INVALID
            self.flush()
            return
        if self.is_save:  # the call holds the content: its last fragments need no parsing
            self._finish_content(call.arguments)
        else:
            self._pull()  # fragments pushed since the last frame reach the live views first
            if self._edit is not None:
                self.flush()  # the fragments not yet parsed reach the live diff first
                self._edit.finish(call.arguments)
            else:
                self._show_args(dict(call.arguments))
                if self._args.code_key is not None:
                    self._finish_content(call.arguments)
        self._args.release_parser()  # the call holds the arguments now
        self.state = CardState.READY
        self.flush()

    def _finish_content(self, arguments: Any) -> None:
        """Show the complete long argument: what the live view lacks, then exact colours."""
        self._args.take_pending()  # replaced by the complete content
        content = self._args.complete(arguments)
        code = self.query_one(CodeView)
        if content is not None:
            expected = shown(content)
            so_far = code.text
            if expected.startswith(so_far):  # the usual case: only the tail is missing
                code.append(expected[len(so_far) :])
            else:  # the live view went wrong (invalid JSON, say): redo it
                code.clear()
                code.append(expected)
        self._flush_save()  # the language, from the whole path, before the final lex
        code.complete()

    @property
    def source(self) -> str:
        """What a copy of this card gives: the file content or the arguments as JSON."""
        if self._call is not None and self._call.error is None:
            content = self._call.arguments.get(self._args.code_key or "")
            if self._args.code_key is not None and isinstance(content, str):
                return sanitize(content)
            return pretty_json(dict(self._call.arguments))
        if self._args.code_key is not None:
            return self.query_one(CodeView).text
        return pretty_json(self._args.json.value)

    # Approval (the prompt itself: ``ApprovalCard``) ------------------------------------------

    def _before_question(self, prepared: PreparedCall) -> None:
        self.state = CardState.APPROVAL
        self.flush()
        if self._edit is not None:
            self._edit.show_final(prepared.diff)

    def _answered(self, answer: Approval) -> None:
        self.refused = answer.decision == "no"
        self.state = CardState.REFUSED if self.refused else CardState.RUNNING
        self.flush()

    # Result ---------------------------------------------------------------------------------

    def finish(self, result: ToolResult) -> AwaitMount:
        """The call ran (or was refused): show its result under it (awaitable: its mount)."""
        if self._started is not None:
            self._end = self._clock()
        if not self.refused:
            self.state = CardState.FAILED if result.is_error else CardState.DONE
        self.flush()
        text = sanitize(result.content)
        lines = text.count("\n") + 1
        body = Static(Text(text), classes="result -error" if result.is_error else "result")
        if lines > RESULT_FOLD_LINES or len(text) > RESULT_FOLD_CHARS:
            # The title is parsed as markup by Collapsible: keep untrusted text out of it.
            return self.mount(
                Collapsible(
                    body, title=f"result · {lines} lines", collapsed=True, classes="result-fold"
                )
            )
        return self.mount(body)

    def progress(self, done: float, total: float | None, message: str | None) -> None:
        """A running call reported progress (an MCP server): shown in the header."""
        count = f"{done:g}/{total:g}" if total else f"{done:g}"
        self._progress = f"{count} {one_line(message, 60)}" if message else count
        self._dirty = True  # drawn by the next flush

    def mark_running(self) -> None:
        """The session is running this call now (no approval needed)."""
        if self.state is CardState.READY:
            self.state = CardState.RUNNING
            self.flush()

    def cancel(self) -> None:
        """The turn was cancelled before this call finished."""
        if self._started is not None and self._end is None:
            self._end = self._clock()
        if self.state in OPEN_STATES:
            self.state = CardState.CANCELLED
        self._dirty = True
        self.flush()
