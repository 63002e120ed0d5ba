"""The live tool-call card: a call rendered while its arguments stream, then approved and run.

States (``ToolCard.state``; each is also a ``-state`` CSS class)::

    receiving --first argument bytes--> streaming --CallReady--> ready
    ready --ApprovalNeeded--> approval --y/a--> running --ToolRan--> done | failed
                                       --n----> refused --ToolRan--> refused
    ready --(no approval needed)--> running --ToolRan--> done | failed
    ready (call.error) --> invalid --ToolRan--> failed
    any state before a result --Escape--> cancelled

Argument fragments are pushed to ``PartialJSON`` (an append) and parsed together once a frame
(``pull``). ``save_file`` content is appended to a ``CodeView`` from the growth events of
``("content",)`` only (just the new characters), and so is an MCP tool's first long string
argument (``CODE_KEYS``: content, code, query...), its language guessed from a path-like
argument (``PATH_KEYS``) or its name (``query`` is SQL); other tools show their arguments as pretty
JSON, re-rendered from ``PartialJSON.value`` at most once a frame. Nothing here is applied per
fragment: ``feed`` only buffers, ``flush`` (called once a frame by the renderer) parses and
updates widgets. The approval
prompt itself is ``tui.ui.widgets.approval.ApprovalPanel``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import var
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Input, Static

from providers.conversation import ToolCall, ToolResult
from tui.core.partial_json import PartialJSON, PartialJSONError
from tui.core.sanitize import sanitize, visible
from tui.core.session import Approval
from tui.core.tools.live_edit import Reader
from tui.core.tools.registry import PreparedCall
from tui.core.units import human_size
from tui.ui.widgets.approval import ApprovalPanel, ReasonInput
from tui.ui.widgets.code_view import CodeView
from tui.ui.widgets.edit_preview import EditPreview
from tui.ui.widgets.safe import one_line, shown


class CardState(StrEnum):
    """Where a card is in its life (see the module docstring); also its ``-state`` CSS class."""

    RECEIVING = "receiving"
    STREAMING = "streaming"
    READY = "ready"
    APPROVAL = "approval"
    RUNNING = "running"
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"
    INVALID = "invalid"
    CANCELLED = "cancelled"


LABELS = {
    CardState.RECEIVING: "receiving…",
    CardState.STREAMING: "streaming",
    CardState.READY: "complete",
    CardState.APPROVAL: "waiting for approval",
    CardState.RUNNING: "running",
    CardState.DONE: "done",
    CardState.REFUSED: "refused",
    CardState.FAILED: "failed",
    CardState.INVALID: "invalid arguments",
    CardState.CANCELLED: "cancelled",
}
"""The word the header shows for each state."""
OPEN_STATES = frozenset(
    {
        CardState.RECEIVING,
        CardState.STREAMING,
        CardState.READY,
        CardState.APPROVAL,
        CardState.RUNNING,
    }
)
CODE_KEYS = frozenset(
    {"content", "code", "text", "body", "query", "patch", "diff", "source", "script", "sql"}
)
"""Argument names whose string value an MCP call's card shows in the code view."""
PATH_KEYS = ("path", "file_path", "filename", "file", "filepath")
"""Arguments that name a file: the code view's language is guessed from the first one."""
LANGUAGE_BY_KEY = {"query": "query.sql", "sql": "query.sql", "patch": "a.diff", "diff": "a.diff"}
"""Without a path argument, a language guessed from the long argument's name."""
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


class ToolCard(Vertical, can_focus=True):
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

    BINDINGS = [
        Binding("y", "key_answer('yes')", "Approve"),
        Binding("n", "key_answer('no')", "Refuse"),
        Binding("a", "key_answer('always')", "Always"),
    ]

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
        super().__init__(classes="-receiving")
        self.grace = grace
        self._quiet_since = 0.0  # when the question appeared, or the last key ignored
        self.tool_name = one_line(name, 80)
        self.call_id = call_id
        self.is_save = name == "save_file"
        # An MCP tool's long string argument goes to the code view, as save_file's content.
        self._mcp = name.startswith("mcp__")
        self._code_key: str | None = "content" if self.is_save else None
        self._edit = EditPreview(edit_reader) if name == "edit_file" else None
        self.is_command = name == "run_command"
        self._output: list[str] = []  # command output not yet shown
        self._output_bytes = 0
        self._started: float | None = None  # when the command started running
        self._ticker: Timer | None = None
        self._end: float | None = None
        self._clock = clock
        self._json = PartialJSON()
        self._json_error: str | None = None
        self._raw_chars = 0
        self._fed = False  # a fragment arrived (a plain attribute: read once per fragment)
        self._path_parts: list[str] = []
        self._path_known = False  # the path string is complete (its language can be chosen)
        self._path_shown: str | None = None
        self._pending: list[str] = []
        self._bytes = 0
        self._lines = 0
        self._first_content: float | None = None
        self._dirty = True
        self._call: ToolCall | None = None
        self._future: asyncio.Future[Approval] | None = None
        self.refused = False
        self._composed = False  # children exist (is_mounted is still False in on_mount)
        self._saved_call = call
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
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")
        self._dirty = True  # the header is redrawn by the next flush
        if self.is_command and new is CardState.RUNNING and self._ticker is None:
            self._started = self._clock()
            self._ticker = self.set_interval(ELAPSED_TICK, self._tick)
        elif self._ticker is not None and new is not CardState.RUNNING:
            self._ticker.stop()
            self._ticker = None

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
        """The ``save_file`` path as far as it is known ("" before)."""
        if len(self._path_parts) > 1:
            self._path_parts[:] = ["".join(self._path_parts)]
        return self._path_parts[0] if self._path_parts else ""

    def feed(self, fragment: str) -> None:
        """Take one raw argument fragment (O(1): pushed to the parser, parsed in ``flush``)."""
        self._raw_chars += len(fragment)
        if not self._fed:  # not `self.state`: a reactive costs a descriptor call per read
            self._fed = True
            if self.state is CardState.RECEIVING:
                self.state = CardState.STREAMING
        self._dirty = True
        if self._json_error is None:
            self._json.push(fragment)

    def _pull(self) -> None:
        """Parse the fragments pushed since the last frame in one go; route their growth."""
        if self._json_error is not None:
            return
        try:
            growth = self._json.pull()
        except PartialJSONError as exc:
            self._json_error = exc.msg  # the live view stops here; the call fails when it ends
            return
        if self._edit is not None:
            self._edit.feed(growth)
            return
        if not (self.is_save or self._mcp):
            return
        for path, text in growth:
            if self._code_key is None and len(path) == 1 and path[0] in CODE_KEYS:
                self._code_key = str(path[0])
                self.query_one(CodeView).remove_class("-hidden")
            if path == (self._code_key,):
                self._add_content(text)
            elif len(path) == 1 and path[0] in PATH_KEYS:
                self._path_parts.append(text)
                continue
            if self._path_parts:  # another value grows after the path: the path is whole
                self._path_known = True

    def _add_content(self, text: str) -> None:
        if self._first_content is None:
            self._first_content = self._clock()
        self._pending.append(text)
        self._bytes += len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
        self._lines += text.count("\n")

    def flush(self) -> None:
        """Apply what arrived since the last frame (called at most once a frame)."""
        if not self._dirty or not self._composed:
            return
        self._dirty = False
        if self._output:
            self._flush_output()
        self._pull()
        if self._code_key is not None:
            self._flush_save()
        if self._edit is not None:
            self._edit.flush()
        elif self.is_save:
            pass  # the code view is the whole card
        elif self._call is None and self._raw_chars and self._json_error is None:
            self._show_args(self._json.value)
        self.query_one("#receiving", Static).display = self._raw_chars == 0 and (
            self.state is CardState.RECEIVING
        )
        # One row high (CSS): no layout needed for a new header (the bytes change each frame).
        self.query_one("#header", Static).update(self._header(), layout=False)

    def _flush_save(self) -> None:
        code = self.query_one(CodeView)
        if self._pending:
            code.append(shown("".join(self._pending)))
            self._pending.clear()
        # The language is looked up once, from the whole path: a prefix ("app.p") can name
        # another language, whose lexer would be loaded for nothing mid-stream.
        path = self.path or LANGUAGE_BY_KEY.get(self._code_key or "", "")
        if (self._path_known or not self.path) and path and path != self._path_shown:
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
        if self._code_key is not None and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != self._code_key}
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
        if self._code_key is not None and (self._bytes or self._call is not None):
            header.append(f" · {human_size(self._bytes)} · {self._line_count()} lines")
            rate = self._rate()
            if rate:
                header.append(f" · {rate}")
        if self._started is not None:
            seconds = (self._end or self._clock()) - self._started
            header.append(f" · {seconds:.1f} s")
            if self._output_bytes:
                header.append(f" · {human_size(self._output_bytes)} of output")
        if self._json_error is not None and self._call is None:
            header.append(f"  (arguments are not valid JSON: {self._json_error})", style="italic")
        return header

    def _line_count(self) -> int:
        return self.query_one(CodeView).line_count if self._composed else self._lines

    def _rate(self) -> str:
        if self._first_content is None or self.state is not CardState.STREAMING:
            return ""
        elapsed = self._clock() - self._first_content
        return f"{human_size(int(self._bytes / elapsed))}/s" if elapsed >= 0.2 else ""

    # Complete call --------------------------------------------------------------------------

    def ready(self, call: ToolCall) -> None:
        """The arguments are complete and parsed (or ``call.error`` says why not)."""
        self._call = call
        self._dirty = True
        if call.error is not None:
            self.state = CardState.INVALID
            self.flush()
            return
        self._pull()  # fragments pushed since the last frame reach the live views first
        if self.is_save:
            self._finish_content(call.arguments)
        elif self._edit is not None:
            self.flush()  # the fragments not yet parsed reach the live diff first
            self._edit.finish(call.arguments)
        else:
            self._show_args(dict(call.arguments))
            if self._code_key is not None:
                self._finish_content(call.arguments)
        # The call holds the arguments now; the live parser kept every fragment it was fed (a
        # 200 KB file in 4-character fragments: 50,000 strings, 3.3 MB) for as long as the
        # card stays on screen.
        self._json = PartialJSON()
        self.state = CardState.READY
        self.flush()

    def _finish_content(self, arguments: Any) -> None:
        self.flush()
        path = next((arguments[k] for k in PATH_KEYS if isinstance(arguments.get(k), str)), None)
        content = arguments.get(self._code_key or "content")
        if isinstance(path, str):
            self._path_parts[:] = [path]
            self._path_known = True
        code = self.query_one(CodeView)
        if isinstance(content, str):
            expected = shown(content)
            if code.text != expected:  # the live view went wrong (invalid JSON, say): redo it
                code.clear()
                code.append(expected)
            self._bytes = len(content.encode("utf-8", "replace"))
        self._dirty = True
        self.flush()
        code.complete()

    @property
    def source(self) -> str:
        """What a copy of this card gives: the file content or the arguments as JSON."""
        if self._call is not None and self._call.error is None:
            content = self._call.arguments.get(self._code_key or "")
            if self._code_key is not None and isinstance(content, str):
                return sanitize(content)
            return pretty_json(dict(self._call.arguments))
        if self._code_key is not None:
            return self.query_one(CodeView).text
        return pretty_json(self._json.value)

    # Approval -------------------------------------------------------------------------------

    async def ask(self, prepared: PreparedCall, *, then_focus: Widget | None = None) -> Approval:
        """Show the approval prompt and wait for the user's key or click.

        Args:
            prepared: the call to approve.
            then_focus: where focus goes once answered. It moves before the prompt is
                removed: removing a focused widget makes Textual focus and scroll to some
                other widget, which would stop the conversation following its output.
        """
        self.state = CardState.APPROVAL
        self.flush()
        if self._edit is not None:
            self._edit.show_final(prepared.diff)
        panel = ApprovalPanel(prepared)
        await self.mount(panel)
        self._future = asyncio.get_running_loop().create_future()
        self._quiet_since = self._clock()
        # The question must be on screen (the card may be taller than the view); when the
        # conversation follows the output this scrolls nothing.
        self.focus(scroll_visible=False)
        self.call_after_refresh(panel.scroll_visible, animate=False)
        try:
            return await self._future
        finally:
            self._future = None
            focused = self.screen.focused
            if (
                then_focus is not None
                and focused is not None
                and (focused is self or self in focused.ancestors)
            ):
                self.screen.set_focus(then_focus, scroll_visible=False)
            panel.remove()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("answer", "key_answer"):
            return self._future is not None and not self.query("#reason")
        return True

    def check_grace(self) -> bool:
        """Whether a key may answer now; a key inside the grace period restarts it."""
        now = self._clock()
        if now - self._quiet_since < self.grace:
            self._quiet_since = now  # a burst of typing keeps the question closed
            return False
        return True

    def action_key_answer(self, decision: str) -> None:
        """y / n / a: answer, unless the question appeared (or a key came) just now."""
        if self.check_grace():
            self.action_answer(decision)

    def action_answer(self, decision: str) -> None:
        """y / n / a, or a button: answer the pending approval."""
        if self._future is None or self._future.done():
            return
        if decision == "no":
            self._ask_reason()
            return
        self._resolve(Approval("always" if decision == "always" else "yes"))

    def _ask_reason(self) -> None:
        if self.query("#reason"):
            return
        panel = self.query_one(ApprovalPanel)
        reason = ReasonInput(
            placeholder="why not? (optional; Enter sends, Escape skips)", id="reason"
        )
        panel.mount(reason)
        reason.focus()
        self.refresh_bindings()

    def _resolve(self, answer: Approval) -> None:
        if self._future is None or self._future.done():
            return
        self.refused = answer.decision == "no"
        self.state = CardState.REFUSED if self.refused else CardState.RUNNING
        self.flush()
        self._future.set_result(answer)

    @on(Button.Pressed)
    def _on_button(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id in ("yes", "no", "always"):
            self.action_answer(event.button.id)

    @on(Input.Submitted, "#reason")
    def _on_reason(self, event: Input.Submitted) -> None:
        event.stop()
        reason = " ".join(event.value.split())
        self._resolve(Approval("no", reason or None))

    # Result ---------------------------------------------------------------------------------

    def finish(self, result: ToolResult) -> None:
        """The call ran (or was refused): show its result under it."""
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
            self.mount(
                Collapsible(
                    body, title=f"result · {lines} lines", collapsed=True, classes="result-fold"
                )
            )
        else:
            self.mount(body)

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
