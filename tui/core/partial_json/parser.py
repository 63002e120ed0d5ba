"""`PartialJSON`: the incremental parser's interface, its fast paths and JSON's structure.

The package docstring (``tui.core.partial_json``) says what a snapshot shows; the string,
number and literal modes are in `scalars`, the patterns and tables in `grammar`.
"""

from __future__ import annotations

from collections.abc import Callable

# The C string scanner json.loads uses; typeshed does not declare it.
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, NoReturn

from tui.core.partial_json.grammar import (
    JSON,
    LITERALS,
    MAX_DEPTH,
    PLAIN_ALL,
    WS_RUN,
    Frame,
    Growth,
    Invalid,
    PartialJSONError,
    Path,
    clean_end,
)
from tui.core.partial_json.scalars import ScalarModes


class PartialJSON(ScalarModes):
    """Incremental parser that turns a growing JSON text into best-effort values.

    Feed fragments with `feed` (parsed at once), or `push` them and `pull` the growth once a
    frame (parsed together then); read `value` whenever a view is wanted; call `finish` when
    the text is complete.
    """

    def __init__(self) -> None:
        self._offset = 0  # characters parsed so far
        self._carry = ""  # a half escape held back until the next fragment
        self._pending: list[str] = []  # pushed, not parsed yet
        self.push: Callable[[str], None] = self._pending.append
        """Queue a fragment, parsed by the next `pull`, `value`, `feed` or `finish` (O(1))."""
        self._stack: list[Frame] = []
        self._root: JSON = None
        self._has_root = False
        self._done = False  # the top-level value is complete
        self._finished = False
        self._error: PartialJSONError | None = None
        self._mode = self._value
        self._events: list[Growth] = []
        # The string being read: decoded pieces of this scan, and (values) its path; keys
        # have no path. A value string lives in its parent at `_str_slot` (the root if there
        # is no parent); `_chunks` is what was decoded since it was last joined into it.
        self._pieces: list[str] = []
        self._str_path: Path | None = None
        self._str_parent: dict[str, Any] | list[Any] | None = None
        self._str_slot: str | int = ""
        self._chunks: list[str] = []
        # Inside a value string, `_chunks` is also in `_fast_parts` if nothing is carried (then
        # plain fragments take the fast path), else in `_carry_parts`.
        self._fast_parts: list[str] | None = None
        self._carry_parts: list[str] | None = None
        self._fast_path: Path = ()
        self._num_state = 0
        self._num_parts: list[str] = []
        self._num_start = 0
        self._literal: tuple[str, JSON] = ("", None)
        self._lit_done = 0

    @property
    def value(self) -> JSON:
        """The best-effort value so far (None before the top-level value has begun).

        Parses what was pushed; never raises (an error waits for the next `pull` or
        `finish`). The tree is the parser's own, updated in place: treat it as read-only.
        """
        if self._pending and self._error is None:
            try:
                self._parse_pending()
            except PartialJSONError:
                pass
            if self._events:  # kept for `pull`: the fast paths would not return them
                self._fast_parts = self._carry_parts = None
        if self._chunks:
            self._join_string()
        return self._root if self._has_root else None

    def feed(self, fragment: str) -> list[Growth]:
        """Parse the next fragment of text (after anything pushed before it).

        Args:
            fragment: The next piece of the JSON text (any length, may split any token).

        Returns:
            The growth of string values since the last `feed` or `pull`: `(path,
            appended_text)` pairs, at most one per string, in text order. Object keys are not
            values.

        Raises:
            PartialJSONError: The text is no longer a prefix of a valid JSON text, or
                `finish` was already called.
        """
        parts = self._fast_parts
        if parts is not None and not self._pending:
            if PLAIN_ALL(fragment) is not None:
                # Fast path: plain content inside a string value, one match and one append.
                parts.append(fragment)
                self._offset += len(fragment)
                return [(self._fast_path, fragment)]
            return self._feed_in_string(fragment, parts)
        if self._pending:
            self._pending.append(fragment)
            fragment = "".join(self._pending)
            self._pending.clear()
        if self._carry_parts is not None:
            return self._feed_in_string(fragment, self._carry_parts)
        return self._feed_slow(fragment)

    def pull(self) -> list[Growth]:
        """Parse everything pushed since the last `pull` or `feed`, in one go.

        Returns:
            The growth of string values since the last `feed` or `pull`, as `feed` gives it.

        Raises:
            PartialJSONError: As `feed` (also for an error a `value` read came across).
        """
        if self._pending:
            self._parse_pending()
        elif self._error is not None:
            raise self._error
        events, self._events = self._events, []
        return events

    def finish(self) -> JSON:
        """End the input and return the complete value, equal to `json.loads` of all text.

        Raises:
            PartialJSONError: The text is not exactly one complete JSON value (trailing
                whitespace is fine), with the offset where that shows.
        """
        if self._pending:
            self._parse_pending()
        if self._error is not None:
            raise self._error
        if not self._finished:
            if self._mode == self._number:
                self._run(" ", 0)  # the end of input ends a number, as a space would
            if not self._done:
                self._fail(self._offset, self._end_message())
            self._finished = True
        return self.value

    # -- driving ---------------------------------------------------------------------------

    def _parse_pending(self) -> None:
        """Parse the pushed fragments as one, keeping their growth for `pull`."""
        pending = self._pending
        text = pending[0] if len(pending) == 1 else "".join(pending)
        pending.clear()
        self._events = self.feed(text)

    def _feed_in_string(self, fragment: str, parts: list[str]) -> list[Growth]:
        """Second fast path: string content with escapes, decoded by the stdlib's C scanner.

        A half escape at the end is carried to the next fragment. Anything unusual (a closing
        quote, a control character, a cut that turns out not to be at an escape) goes to the
        slow path, which has the state untouched.
        """
        text = self._carry + fragment
        cut = clean_end(text)
        if cut <= 0 or not fragment:
            return self._feed_slow(fragment)
        try:
            decoded, end = scanstring(text[:cut] + '"', 0)
        except ValueError:
            return self._feed_slow(fragment)
        if end <= cut:  # the string closes inside this fragment
            return self._feed_slow(fragment)
        parts.append(decoded)
        self._offset += len(fragment)
        if cut < len(text) or self._carry:
            self._carry = carry = text[cut:]
            self._fast_parts, self._carry_parts = (None, parts) if carry else (parts, None)
        return [(self._fast_path, decoded)]

    def _feed_slow(self, fragment: str) -> list[Growth]:
        """Parse a fragment that the fast path cannot take, one mode handler at a time."""
        if self._error is not None:
            raise self._error
        if self._finished:
            self._fail(self._offset, "Input after finish()")
        self._run(self._carry + fragment, len(self._carry))
        self._offset += len(fragment)
        events, self._events = self._events, []
        self._fast_parts = self._carry_parts = None
        if self._str_path is not None:
            self._fast_path = self._str_path
            if self._carry:
                self._carry_parts = self._chunks
            else:
                self._fast_parts = self._chunks
        return events

    def _run(self, text: str, carried: int) -> None:
        """Scan text that starts `carried` characters before the current offset."""
        self._base = self._offset - carried  # offset of text[0]
        self._carry = ""
        try:
            self._scan(text)
        except Invalid as exc:
            self._fail(self._base + exc.index, exc.msg)

    def _end_message(self) -> str:
        """Why the input cannot end here."""
        if self._mode == self._string:
            return "Unterminated string"
        return "Expecting value" if self._mode == self._value else "Unexpected end of input"

    def _fail(self, pos: int, msg: str) -> NoReturn:
        """Raise a `PartialJSONError`, and keep it to refuse further input."""
        self._fast_parts = self._carry_parts = None
        self._pending.clear()
        self._error = PartialJSONError(msg, pos)
        raise self._error

    def _scan(self, text: str) -> None:
        """Run mode handlers over the text; each consumes what it can and picks the next."""
        i, n = 0, len(text)
        while i < n:
            i = self._mode(text, i)
        if self._pieces and self._str_path is not None:
            self._flush_string()

    def _attach(self, node: JSON) -> str | int:
        """Store a value that has begun in its parent, returning its key or index there."""
        if not self._stack:
            self._root, self._has_root = node, True
            return 0
        frame = self._stack[-1]
        parent = frame.node
        if isinstance(parent, dict):
            parent[frame.key] = node  # a duplicate key's later value wins, as in json.loads
            return frame.key
        parent.append(node)
        return len(parent) - 1

    def _string_path(self, slot: str | int) -> Path:
        """The path of a string value just attached at ``slot`` of the innermost container."""
        return (*self._stack[-1].path(), slot) if self._stack else ()

    def _value_done(self) -> None:
        """A value is complete: expect a delimiter, or nothing more if it was the top level."""
        self._mode = self._after_value
        self._done = not self._stack

    # -- structure -------------------------------------------------------------------------

    def _value(self, text: str, i: int) -> int:
        """Expect the start of a value."""
        i = WS_RUN(text, i).end()
        if i == len(text):
            return i
        char = text[i]
        if char == '"':
            slot = self._attach("")
            self._str_parent = self._stack[-1].node if self._stack else None
            self._str_slot, self._str_path = slot, self._string_path(slot)
            self._mode = self._string
        elif char == "{" or char == "[":
            if len(self._stack) >= MAX_DEPTH:
                raise Invalid(i, f"nested too deeply (more than {MAX_DEPTH} levels)")
            container: dict[str, JSON] | list[JSON] = {} if char == "{" else []
            parent = self._stack[-1] if self._stack else None
            self._stack.append(Frame(container, parent, self._attach(container)))
            self._mode = self._object_start if char == "{" else self._array_start
        elif char == "-" or "0" <= char <= "9":
            self._num_state, self._num_parts, self._num_start = 0, [], self._base + i
            self._mode = self._number
            return i
        elif char in LITERALS:
            self._literal, self._lit_done = LITERALS[char], 0
            self._mode = self._literal_chars
            return i
        else:
            raise Invalid(i, "Expecting value")
        return i + 1

    def _array_start(self, text: str, i: int) -> int:
        """After `[`: the first item or `]`."""
        i = WS_RUN(text, i).end()
        if i < len(text):
            if text[i] == "]":
                return self._close(i)
            self._mode = self._value
        return i

    def _object_start(self, text: str, i: int) -> int:
        """After `{`: the first key or `}`."""
        i = WS_RUN(text, i).end()
        if i == len(text):
            return i
        if text[i] == "}":
            return self._close(i)
        return self._key(text, i)

    def _key(self, text: str, i: int) -> int:
        """Expect the opening quote of a key."""
        i = WS_RUN(text, i).end()
        if i == len(text):
            self._mode = self._key
            return i
        if text[i] != '"':
            raise Invalid(i, "Expecting property name enclosed in double quotes")
        self._str_path = None
        self._mode = self._string
        return i + 1

    def _colon(self, text: str, i: int) -> int:
        """After a key: expect `:`."""
        i = WS_RUN(text, i).end()
        if i < len(text):
            if text[i] != ":":
                raise Invalid(i, "Expecting ':' delimiter")
            self._mode = self._value
            i += 1
        return i

    def _after_value(self, text: str, i: int) -> int:
        """After a value: `,` or the closing bracket; at the top level, only whitespace."""
        i = WS_RUN(text, i).end()
        if i == len(text):
            return i
        if not self._stack:
            raise Invalid(i, "Extra data")
        char = text[i]
        is_object = type(self._stack[-1].node) is dict
        if char == ",":
            self._mode = self._key if is_object else self._value
            return i + 1
        if char == ("}" if is_object else "]"):
            return self._close(i)
        raise Invalid(i, "Expecting ',' delimiter")

    def _close(self, i: int) -> int:
        """Close the innermost container at text[i]."""
        self._stack.pop()
        self._value_done()
        return i + 1
