"""The string, number and literal modes of `PartialJSON` (the structure is in `parser`).

Each mode is a method ``(text, i) -> index after what it consumed``, run by the parser's scan
loop while it is the parser's ``_mode``; a value that completes is stored in its parent by the
parser's ``_attach``, and a string value's growth is reported as it is decoded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from tui.core.partial_json.grammar import (
    DIGIT_RUN,
    ESCAPES,
    HEX_RUN,
    JSON,
    LOW_ESCAPE,
    LOW_PREFIX,
    MINUS_INFINITY,
    NUM_CLASS,
    NUM_DIGIT_STATES,
    NUM_FINAL,
    NUM_NEXT,
    PLAIN_RUN,
    Frame,
    Growth,
    Invalid,
    Path,
)

Mode = Callable[[str, int], int]
"""A parser mode: consume ``text`` from index ``i``, return the index after what it took."""


class ScalarModes:
    """Strings (keys and values), numbers and literals, for `PartialJSON` to inherit.

    The state they read and write is `PartialJSON`'s, declared here for the type checker.
    """

    _mode: Mode
    _base: int  # offset of the scanned text's first character
    _carry: str
    _stack: list[Frame]
    _root: JSON
    _events: list[Growth]
    _pieces: list[str]
    _str_path: Path | None
    _str_parent: dict[str, Any] | list[Any] | None
    _str_slot: str | int
    _chunks: list[str]
    _num_state: int
    _num_parts: list[str]
    _num_start: int
    _literal: tuple[str, JSON]
    _lit_done: int

    if TYPE_CHECKING:

        def _colon(self, text: str, i: int) -> int: ...
        def _attach(self, node: JSON) -> str | int: ...
        def _value_done(self) -> None: ...

    # -- strings ---------------------------------------------------------------------------

    def _string(self, text: str, i: int) -> int:
        """Inside a string (key or value): decode up to the closing quote or the text's end."""
        out, n = self._pieces, len(text)
        while True:
            j = PLAIN_RUN(text, i).end()
            if j > i:
                out.append(text[i:j])
            if j == n:
                return n
            if text[j] == '"':
                self._end_string()
                return j + 1
            if text[j] != "\\":
                raise Invalid(j, "Invalid control character")
            i = self._escape(text, j, out)
            if i < 0:
                self._carry = text[j:]  # a half escape: wait for the rest
                return n

    def _escape(self, text: str, j: int, out: list[str]) -> int:
        """Decode the escape at text[j] into `out`; return the index after it, or -1 if cut."""
        if j + 1 == len(text):
            return -1
        kind = text[j + 1]
        if kind != "u":
            if kind not in ESCAPES:
                raise Invalid(j + 1, "Invalid \\escape")
            out.append(ESCAPES[kind])
            return j + 2
        digits = text[j + 2 : j + 6]
        good = HEX_RUN(digits).end()
        if good < len(digits):
            raise Invalid(j + 2 + good, "Invalid \\uXXXX escape")
        if good < 4:
            return -1
        code = int(digits, 16)
        if 0xD800 <= code <= 0xDBFF:
            tail = text[j + 6 : j + 12]
            if LOW_ESCAPE(tail):
                low = int(tail[2:], 16)
                out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                return j + 12
            if len(tail) < 6 and LOW_PREFIX(tail):
                return -1  # maybe half of a surrogate pair
        out.append(chr(code))  # lone surrogates are kept, as json.loads does
        return j + 6

    def _end_string(self) -> None:
        """The closing quote: a key awaits its colon, a value is complete."""
        if self._str_path is None:
            self._stack[-1].key = "".join(self._pieces)
            self._pieces = []
            self._mode = self._colon
            return
        if self._pieces:
            self._flush_string()
        self._join_string()
        self._str_path = self._str_parent = None
        self._value_done()

    def _flush_string(self) -> None:
        """Queue this scan's decoded pieces for the string value and report the growth."""
        piece = "".join(self._pieces)
        self._pieces = []
        path = self._str_path
        assert path is not None
        self._chunks.append(piece)
        events = self._events
        if events and events[-1][0] is path:  # the same string, grown by two scans
            events[-1] = (path, events[-1][1] + piece)
        else:
            events.append((path, piece))

    def _join_string(self) -> None:
        """Append the queued chunks to the string value in its parent.

        The parent's reference is dropped first, so that the string is extended in place
        (CPython does when nothing else holds it): O(chunks), not O(length).
        """
        chunks, parent, slot = self._chunks, self._str_parent, self._str_slot
        new = chunks[0] if len(chunks) == 1 else "".join(chunks)
        chunks.clear()
        if parent is None:
            text, self._root = self._root, ""
            text += new
            self._root = text
        elif isinstance(parent, dict):
            key = cast(str, slot)  # a slot in an object is its key
            text, parent[key] = parent[key], ""
            text += new
            parent[key] = text
        else:
            text, parent[-1] = parent[-1], ""
            text += new
            parent[-1] = text

    # -- numbers and literals --------------------------------------------------------------

    def _number(self, text: str, i: int) -> int:
        """Inside a number: follow the grammar until a character that is not part of it."""
        state, start, n = self._num_state, i, len(text)
        while i < n:
            state = NUM_NEXT.get((state, NUM_CLASS.get(text[i], "")), -1)
            if state < 0:
                break
            self._num_state = state
            i = DIGIT_RUN(text, i + 1).end() if state in NUM_DIGIT_STATES else i + 1
        self._num_parts.append(text[start:i])
        if i < n:
            self._end_number(text, i)
        return i

    def _end_number(self, text: str, i: int) -> None:
        """The number ended before text[i]: store it, or fail if it is incomplete."""
        state = self._num_state
        if state == 1 and text[i] == "I":
            self._literal, self._lit_done = MINUS_INFINITY, 1
            self._mode = self._literal_chars
            return
        kind = NUM_FINAL.get(state)
        if kind is None:
            raise Invalid(i, "Expecting value" if state < 2 else "Invalid number")
        try:
            number = kind("".join(self._num_parts))
        except ValueError as exc:  # ints beyond sys.get_int_max_str_digits(), as json.loads
            raise Invalid(self._num_start - self._base, str(exc)) from None
        self._num_parts = []
        self._attach(number)
        self._value_done()

    def _literal_chars(self, text: str, i: int) -> int:
        """Inside `true`, `false`, `null`, `NaN`, `Infinity` or `-Infinity`."""
        word, value = self._literal
        done, n = self._lit_done, len(text)
        while done < len(word) and i < n:
            if text[i] != word[done]:
                raise Invalid(i, "Expecting value")
            i, done = i + 1, done + 1
        self._lit_done = done
        if done == len(word):
            self._attach(value)
            self._value_done()
        return i
