"""Incremental repair of partial JSON, for showing tool arguments while they stream.

`PartialJSON` is fed the argument text of a tool call fragment by fragment. After each fragment
it can give the best-effort value so far, and `feed` reports which string values grew and by
what text, so a view (say, the file body of a `save_file` call) can append just the new
characters. State is kept between fragments, so a fragment costs O(len(fragment)) however long
the text before it; `partial-json-parser` and jiter's partial mode re-parse the whole prefix.
A reader that looks once a frame can `push` fragments (an append, nothing parsed) and `pull`
the growth of everything pushed since, parsed in one go.

    >>> p = PartialJSON()
    >>> p.feed('{"path": "app.py", "con')
    [(('path',), 'app.py')]
    >>> p.feed('tent": "import os\\\\nprint(')
    [(('content',), 'import os\\nprint(')]
    >>> p.value
    {'path': 'app.py', 'content': 'import os\\nprint('}

What a snapshot (`value`) shows, for any prefix of a valid JSON text:

- Strings show every character decoded so far. A half escape (a lone backslash, `\\u00`, or a
  high surrogate `\\ud83d` whose low half may follow) is held back, never shown as garbage.
- An object key appears once its value has begun: `{"a": ` shows `{}`, `{"a": "` shows
  `{"a": ""}`, `{"a": [` shows `{"a": []}`.
- Numbers wait until a delimiter follows them (or `finish`), because `12` may become `123`;
  `true`, `false`, `null`, `NaN`, `Infinity` and `-Infinity` appear once complete.
- Before the top-level value has begun (or while it is an unfinished number or literal),
  `value` is None.
- Values only grow: each snapshot is a prefix of the final value (strings are prefixes,
  containers only gain items, and only their last item can still change).

`value` is the parser's own tree, updated in place, so a read costs O(what arrived since the
last read), not O(size): the same dicts and lists come back each time, grown, and only the
string being read is rebuilt, by appending to it (in place, unless the caller still holds the
previous string). Treat it as read-only; `copy.deepcopy` it to keep a snapshot.

Semantics follow `json.loads` exactly: the same whitespace, number forms (`-0` is the int 0,
big ints, `1E5` is a float), `NaN`/`Infinity`/`-Infinity` accepted as floats, raw control
characters inside strings rejected, lone surrogate escapes accepted (a lone high surrogate is
emitted once the next character proves no low half follows). Duplicate keys: the last value
wins and keeps the first key's position; it replaces the earlier one in `value` as soon as it
begins (the one exception to "values only grow"), and its growth events reuse the path, so
the growth concatenated for that path is then the old text followed by the new.

Invalid input raises `PartialJSONError` (a `ValueError`) at the character offset where the
text stopped being a prefix of any valid JSON text (`tru e` fails at the space, `[1,]` at
`]`); after that the parser refuses further input. Nothing is silently repaired.

Deliberate differences from `partial_json_parser.loads` on a prefix:

- It shows partial numbers (`[12` gives `[12]`) and completes partial literals (`[tr` gives
  `[True]`); those can change later, so we wait.
- It shows a trailing high surrogate escape at once (`"\\ud83d` gives `'\\ud83d'`); we hold it
  back until the next character, since it is usually half of an astral character.
- It strips the text first, so whitespace at the end of an unfinished string is not shown
  until more follows (`"a ` gives `'a'`); we show it.
- It raises on empty or whitespace-only input; we give None.
- It repairs some invalid text (and raises on other prefixes) wherever its scan notices;
  we raise exactly where the text becomes invalid.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# The C string scanner json.loads uses; typeshed does not declare it.
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, NoReturn, TypeAlias, cast

JSON: TypeAlias = Any
"""A decoded JSON value: dict, list, str, int, float, bool or None."""
Path: TypeAlias = tuple[str | int, ...]
"""Keys and list indexes leading from the top-level value to a nested value."""
Growth: TypeAlias = tuple[Path, str]
"""A string value at `Path` that grew by the given text."""

# Runs that may be empty, so their match never fails (typed so, to skip a None check per call).
_Run: TypeAlias = Callable[..., "re.Match[str]"]
# Runs of string content that need no decoding: no quote, backslash or control character.
_PLAIN_RUN = cast(_Run, re.compile(r'[^"\\\x00-\x1f]*').match)
_PLAIN_ALL = re.compile(r'[^"\\\x00-\x1f]+').fullmatch
_HIGH_ESCAPE = re.compile(r"\\u[dD][89abAB]").match
# What may be held back at the end of a fragment: a half escape or a whole high surrogate.
_HELD_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{0,3}|u[dD][89abAB][0-9a-fA-F]{2})?").fullmatch
_WS_RUN = cast(_Run, re.compile(r"[ \t\n\r]*").match)
_HEX_RUN = cast(_Run, re.compile(r"[0-9a-fA-F]*").match)
_DIGIT_RUN = cast(_Run, re.compile(r"[0-9]*").match)
# After a high surrogate escape: text that may still become a low surrogate escape.
_LOW_PREFIX = re.compile(r"(?:\\(?:u(?:[dD](?:[c-fC-F][0-9a-fA-F]{0,2})?)?)?)?").fullmatch
_LOW_ESCAPE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}").fullmatch

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS: dict[str, tuple[str, JSON]] = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
    "N": ("NaN", float("nan")),
    "I": ("Infinity", float("inf")),
}
_MINUS_INFINITY = ("-Infinity", float("-inf"))
MAX_DEPTH = 900
"""Deepest nesting of objects and arrays accepted (deeper raises `PartialJSONError`).

`json.loads`, which parses the final arguments, fails near Python's recursion limit (1000
frames, less its caller's stack), so no usable tool arguments are deeper than this."""

# Number grammar as a state machine over character classes ("0", "d" = 1-9, "-", "+", ".",
# "e"). States: 0 start, 1 after "-", 2 a leading zero, 3 integer digits, 4 after ".",
# 5 fraction digits, 6 after "e", 7 after the exponent sign, 8 exponent digits.
_NUM_CLASS = {c: "d" for c in "123456789"} | {"0": "0", "-": "-", "+": "+", ".": "."}
_NUM_CLASS |= {"e": "e", "E": "e"}
_NUM_NEXT = {
    (0, "-"): 1, (0, "0"): 2, (0, "d"): 3, (1, "0"): 2, (1, "d"): 3,
    (2, "."): 4, (2, "e"): 6, (3, "0"): 3, (3, "d"): 3, (3, "."): 4, (3, "e"): 6,
    (4, "0"): 5, (4, "d"): 5, (5, "0"): 5, (5, "d"): 5, (5, "e"): 6,
    (6, "+"): 7, (6, "-"): 7, (6, "0"): 8, (6, "d"): 8, (7, "0"): 8, (7, "d"): 8,
    (8, "0"): 8, (8, "d"): 8,
}  # fmt: skip
_NUM_DIGIT_STATES = (3, 5, 8)  # states where a run of digits may be skipped at once
_NUM_FINAL = {2: int, 3: int, 5: float, 8: float}  # states where a number may end


def _clean_end(text: str) -> int:
    """Where string content that starts at an escape boundary stops being decodable now.

    Returns:
        len(text); or the start of a trailing half escape, or of a trailing high surrogate
        escape whose low half may follow, to hold back; or -1 when unsure (slow path).
    """
    n = len(text)
    last = text.rfind("\\", -12)
    if last < 0 or last + 6 < n or (last + 1 < n and text[last + 1] != "u"):
        return n  # no escape can be unfinished at the end
    first = last
    while first and text[first - 1] == "\\":
        first -= 1
    if (last - first) & 1:
        return n  # the last backslash is itself escaped: "\\\\" or "\\\\u12"
    if last + 6 == n and not _HIGH_ESCAPE(text, last):
        return n  # a complete \uXXXX that needs no low half
    if not _HELD_ESCAPE(text, last) or (last >= 6 and _HIGH_ESCAPE(text, last - 6)):
        return -1  # invalid, or perhaps the low half of a pair: the slow path decides
    return last


class PartialJSONError(ValueError):
    """The text is not (a prefix of) one valid JSON value.

    Attributes:
        msg: What was wrong, in `json.loads` wording where there is one.
        pos: Character offset, from the start of all text fed, where it went wrong.
    """

    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(f"{msg}: char {pos}")
        self.msg = msg
        self.pos = pos


class _Invalid(Exception):
    """Raised inside one `feed` call with an offset into that call's text."""

    def __init__(self, index: int, msg: str) -> None:
        super().__init__(msg)
        self.index = index
        self.msg = msg


class _Frame:
    """An open object or array: its node, where it sits in its parent, and (objects) the key
    being filled.

    A frame links to its parent instead of holding its whole path: opening a container costs
    O(1) however deep it is. A path is built (and kept) only for a frame that holds a string
    value, walking the links once.
    """

    __slots__ = ("node", "parent", "slot", "key", "_path")

    def __init__(
        self, node: dict[str, Any] | list[Any], parent: _Frame | None, slot: str | int
    ) -> None:
        self.node = node
        self.parent = parent
        self.slot = slot  # this container's key or index in its parent (unused at the top)
        self.key = ""
        self._path: Path | None = None

    def path(self) -> Path:
        """Keys and indexes from the top-level value to this container."""
        if self._path is None:
            slots: list[str | int] = []
            frame: _Frame | None = self
            while frame is not None and frame._path is None:
                if frame.parent is not None:
                    slots.append(frame.slot)
                frame = frame.parent
            base = frame._path if frame is not None else ()
            assert base is not None
            self._path = (*base, *reversed(slots))
        return self._path


class PartialJSON:
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
        self._stack: list[_Frame] = []
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
            if _PLAIN_ALL(fragment) is not None:
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
        cut = _clean_end(text)
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
        except _Invalid as exc:
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
        i = _WS_RUN(text, i).end()
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
                raise _Invalid(i, f"nested too deeply (more than {MAX_DEPTH} levels)")
            container: dict[str, JSON] | list[JSON] = {} if char == "{" else []
            parent = self._stack[-1] if self._stack else None
            self._stack.append(_Frame(container, parent, self._attach(container)))
            self._mode = self._object_start if char == "{" else self._array_start
        elif char == "-" or "0" <= char <= "9":
            self._num_state, self._num_parts, self._num_start = 0, [], self._base + i
            self._mode = self._number
            return i
        elif char in _LITERALS:
            self._literal, self._lit_done = _LITERALS[char], 0
            self._mode = self._literal_chars
            return i
        else:
            raise _Invalid(i, "Expecting value")
        return i + 1

    def _array_start(self, text: str, i: int) -> int:
        """After `[`: the first item or `]`."""
        i = _WS_RUN(text, i).end()
        if i < len(text):
            if text[i] == "]":
                return self._close(i)
            self._mode = self._value
        return i

    def _object_start(self, text: str, i: int) -> int:
        """After `{`: the first key or `}`."""
        i = _WS_RUN(text, i).end()
        if i == len(text):
            return i
        if text[i] == "}":
            return self._close(i)
        return self._key(text, i)

    def _key(self, text: str, i: int) -> int:
        """Expect the opening quote of a key."""
        i = _WS_RUN(text, i).end()
        if i == len(text):
            self._mode = self._key
            return i
        if text[i] != '"':
            raise _Invalid(i, "Expecting property name enclosed in double quotes")
        self._str_path = None
        self._mode = self._string
        return i + 1

    def _colon(self, text: str, i: int) -> int:
        """After a key: expect `:`."""
        i = _WS_RUN(text, i).end()
        if i < len(text):
            if text[i] != ":":
                raise _Invalid(i, "Expecting ':' delimiter")
            self._mode = self._value
            i += 1
        return i

    def _after_value(self, text: str, i: int) -> int:
        """After a value: `,` or the closing bracket; at the top level, only whitespace."""
        i = _WS_RUN(text, i).end()
        if i == len(text):
            return i
        if not self._stack:
            raise _Invalid(i, "Extra data")
        char = text[i]
        is_object = type(self._stack[-1].node) is dict
        if char == ",":
            self._mode = self._key if is_object else self._value
            return i + 1
        if char == ("}" if is_object else "]"):
            return self._close(i)
        raise _Invalid(i, "Expecting ',' delimiter")

    def _close(self, i: int) -> int:
        """Close the innermost container at text[i]."""
        self._stack.pop()
        self._value_done()
        return i + 1

    # -- strings ---------------------------------------------------------------------------

    def _string(self, text: str, i: int) -> int:
        """Inside a string (key or value): decode up to the closing quote or the text's end."""
        out, n = self._pieces, len(text)
        while True:
            j = _PLAIN_RUN(text, i).end()
            if j > i:
                out.append(text[i:j])
            if j == n:
                return n
            if text[j] == '"':
                self._end_string()
                return j + 1
            if text[j] != "\\":
                raise _Invalid(j, "Invalid control character")
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
            if kind not in _ESCAPES:
                raise _Invalid(j + 1, "Invalid \\escape")
            out.append(_ESCAPES[kind])
            return j + 2
        digits = text[j + 2 : j + 6]
        good = _HEX_RUN(digits).end()
        if good < len(digits):
            raise _Invalid(j + 2 + good, "Invalid \\uXXXX escape")
        if good < 4:
            return -1
        code = int(digits, 16)
        if 0xD800 <= code <= 0xDBFF:
            tail = text[j + 6 : j + 12]
            if _LOW_ESCAPE(tail):
                low = int(tail[2:], 16)
                out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                return j + 12
            if len(tail) < 6 and _LOW_PREFIX(tail):
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
            state = _NUM_NEXT.get((state, _NUM_CLASS.get(text[i], "")), -1)
            if state < 0:
                break
            self._num_state = state
            i = _DIGIT_RUN(text, i + 1).end() if state in _NUM_DIGIT_STATES else i + 1
        self._num_parts.append(text[start:i])
        if i < n:
            self._end_number(text, i)
        return i

    def _end_number(self, text: str, i: int) -> None:
        """The number ended before text[i]: store it, or fail if it is incomplete."""
        state = self._num_state
        if state == 1 and text[i] == "I":
            self._literal, self._lit_done = _MINUS_INFINITY, 1
            self._mode = self._literal_chars
            return
        kind = _NUM_FINAL.get(state)
        if kind is None:
            raise _Invalid(i, "Expecting value" if state < 2 else "Invalid number")
        try:
            number = kind("".join(self._num_parts))
        except ValueError as exc:  # ints beyond sys.get_int_max_str_digits(), as json.loads
            raise _Invalid(self._num_start - self._base, str(exc)) from None
        self._num_parts = []
        self._attach(number)
        self._value_done()

    def _literal_chars(self, text: str, i: int) -> int:
        """Inside `true`, `false`, `null`, `NaN`, `Infinity` or `-Infinity`."""
        word, value = self._literal
        done, n = self._lit_done, len(text)
        while done < len(word) and i < n:
            if text[i] != word[done]:
                raise _Invalid(i, "Expecting value")
            i, done = i + 1, done + 1
        self._lit_done = done
        if done == len(word):
            self._attach(value)
            self._value_done()
        return i
