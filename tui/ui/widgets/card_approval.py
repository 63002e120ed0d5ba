"""The approval half of a tool card: the question, its keys, its grace period, the answer.

``ApprovalCard.ask`` mounts an ``ApprovalPanel`` under the card and waits for y / n / a or
a button; "no" first asks for an optional reason. Keys pressed within ``grace`` seconds of
the question appearing (or of the last key ignored) do not answer it, so a key meant for
the prompt, typed as the question took focus, cannot approve a call. ``ToolCard`` is the
subclass: its hooks show the question and the answer in its state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual import on
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Button, Input

from tui.core.tools.prepared import PreparedCall
from tui.core.turn import Approval
from tui.ui.widgets.approval import ApprovalPanel, ReasonInput


class ApprovalCard(Vertical):
    """A widget that can ask the user to approve a call (see the module docstring).

    Args:
        clock: seconds, for the grace period.
        grace: seconds after the question appears (and after any key pressed meanwhile)
            in which y / n / a do not answer it.
        classes: CSS classes, as for any widget.
    """

    BINDINGS = [
        Binding("y", "key_answer('yes')", "Approve"),
        Binding("n", "key_answer('no')", "Refuse"),
        Binding("a", "key_answer('always')", "Always"),
    ]

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, grace: float = 0.0, classes: str = ""
    ) -> None:
        super().__init__(classes=classes)
        self.grace = grace
        self._clock = clock
        self._quiet_since = 0.0  # when the question appeared, or the last key ignored
        self._future: asyncio.Future[Approval] | None = None
        self._asks_command = False  # the question is a command's (asked every time)

    def _before_question(self, prepared: PreparedCall) -> None:
        """Called before the prompt is mounted (the subclass shows its state)."""

    def _answered(self, answer: Approval) -> None:
        """Called with the answer, before ``ask`` returns it (the subclass shows its state)."""

    async def ask(self, prepared: PreparedCall, *, then_focus: Widget | None = None) -> Approval:
        """Show the approval prompt and wait for the user's key or click.

        Args:
            prepared: the call to approve.
            then_focus: where focus goes once answered. It moves before the prompt is
                removed: removing a focused widget makes Textual focus and scroll to some
                other widget, which would stop the conversation following its output.
        """
        self._before_question(prepared)
        self._asks_command = prepared.stream is not None
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
        if action == "key_answer" and parameters == ("always",) and self._asks_command:
            return False  # every command is asked: no "always" in the footer or on `a`
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
        self._answered(answer)
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
