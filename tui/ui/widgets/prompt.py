"""The multi-line prompt: Enter sends, Shift+Enter / Ctrl+J insert a newline, Up/Down recall.

It stays editable while a response streams (the app queues what is sent meanwhile), so
nothing typed is ever lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import events
from textual.message import Message

from tui.ui.compat import ThemeCssKept, run_own_key_binding

HISTORY_LIMIT = 500


class Prompt(ThemeCssKept):
    """The input box.

    History: Up on the first line recalls the previous prompt, Down on the last line the
    next one; what was being typed is kept as the newest entry until it is sent.
    """

    @dataclass
    class Submitted(Message):
        """The user pressed Enter."""

        prompt: Prompt
        text: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            highlight_cursor_line=False,
            placeholder="Message (Enter to send, Shift+Enter for a new line)",
        )
        self.past: list[str] = []
        self._index: int | None = None  # position in history while browsing
        self._draft = ""
        self.on_typed: Callable[[], None] | None = None
        """Called for each key the prompt gets but Enter, and each paste (the app opens the
        API connection while the user types), before the key or paste is applied. Not for
        Enter: it sends, and a connection opened then races the request for the loop and
        the pool (the request opened a second one)."""

    async def _on_paste(self, event: events.Paste) -> None:
        if self.on_typed is not None:  # then TextArea's own _on_paste runs (along the MRO)
            self.on_typed()

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs each class's _on_key along the MRO unless prevent_default() is called,
        # so TextArea's own handler runs after this one for every other key.
        if event.key == "enter":  # sends: its request opens its own connection (no racing HEAD)
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
            return
        if self.on_typed is not None:
            self.on_typed()
        if event.key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self.replace("\n", start, end, maintain_selection_offset=False)
            return
        # An editing key (backspace, arrows...) runs here, in order with the characters typed
        # around it, not after a trip through the app, when a later key may have been inserted.
        if await run_own_key_binding(self, event.key):
            event.stop()
            event.prevent_default()

    @property
    def unsent(self) -> str:
        """What the user typed and has not sent: the text, or while an unchanged past prompt
        is recalled (Up), what was being typed before it."""
        text = self.text
        if self._index is not None and text == self.past[self._index]:
            return self._draft
        return text

    def remember(self, text: str) -> None:
        """Add a sent prompt to the history and stop browsing."""
        if text.strip() and (not self.past or self.past[-1] != text):
            self.past.append(text)
            del self.past[:-HISTORY_LIMIT]
        self._index = None
        self._draft = ""

    def action_cursor_up(self, select: bool = False) -> None:
        if select or self.cursor_location[0] > 0 or not self.past:
            super().action_cursor_up(select)
            return
        if self._index is None:
            self._draft = self.text
            self._index = len(self.past)
        if self._index > 0:
            self._index -= 1
            self._show(self.past[self._index], at_end=False)

    def action_cursor_down(self, select: bool = False) -> None:
        last_line = self.document.line_count - 1
        if select or self.cursor_location[0] < last_line or self._index is None:
            super().action_cursor_down(select)
            return
        self._index += 1
        if self._index >= len(self.past):
            self._index = None
            self._show(self._draft, at_end=True)
        else:
            self._show(self.past[self._index], at_end=True)

    def _show(self, text: str, *, at_end: bool) -> None:
        self.load_text(text)
        if at_end:
            self.move_cursor(self.document.end)
        else:
            self.move_cursor((0, len(self.document.get_line(0))))
