"""The tokens of JSON as `PartialJSON` reads them: patterns, tables, errors, open containers.

Shared by the parser's structure (`parser`) and its string, number and literal modes
(`scalars`). Runs that may be empty are typed to match always, so a hot loop skips a None
check per call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeAlias, cast

JSON: TypeAlias = Any
"""A decoded JSON value: dict, list, str, int, float, bool or None."""
Path: TypeAlias = tuple[str | int, ...]
"""Keys and list indexes leading from the top-level value to a nested value."""
Growth: TypeAlias = tuple[Path, str]
"""A string value at `Path` that grew by the given text."""

# Runs that may be empty, so their match never fails (typed so, to skip a None check per call).
Run: TypeAlias = Callable[..., "re.Match[str]"]
# Runs of string content that need no decoding: no quote, backslash or control character.
PLAIN_RUN = cast(Run, re.compile(r'[^"\\\x00-\x1f]*').match)
PLAIN_ALL = re.compile(r'[^"\\\x00-\x1f]+').fullmatch
HIGH_ESCAPE = re.compile(r"\\u[dD][89abAB]").match
# What may be held back at the end of a fragment: a half escape or a whole high surrogate.
HELD_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{0,3}|u[dD][89abAB][0-9a-fA-F]{2})?").fullmatch
WS_RUN = cast(Run, re.compile(r"[ \t\n\r]*").match)
HEX_RUN = cast(Run, re.compile(r"[0-9a-fA-F]*").match)
DIGIT_RUN = cast(Run, re.compile(r"[0-9]*").match)
# After a high surrogate escape: text that may still become a low surrogate escape.
LOW_PREFIX = re.compile(r"(?:\\(?:u(?:[dD](?:[c-fC-F][0-9a-fA-F]{0,2})?)?)?)?").fullmatch
LOW_ESCAPE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}").fullmatch

ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
LITERALS: dict[str, tuple[str, JSON]] = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
    "N": ("NaN", float("nan")),
    "I": ("Infinity", float("inf")),
}
MINUS_INFINITY = ("-Infinity", float("-inf"))
MAX_DEPTH = 900
"""Deepest nesting of objects and arrays accepted (deeper raises `PartialJSONError`).

`json.loads`, which parses the final arguments, fails near Python's recursion limit (1000
frames, less its caller's stack), so no usable tool arguments are deeper than this."""

# Number grammar as a state machine over character classes ("0", "d" = 1-9, "-", "+", ".",
# "e"). States: 0 start, 1 after "-", 2 a leading zero, 3 integer digits, 4 after ".",
# 5 fraction digits, 6 after "e", 7 after the exponent sign, 8 exponent digits.
NUM_CLASS = {c: "d" for c in "123456789"} | {"0": "0", "-": "-", "+": "+", ".": "."}
NUM_CLASS |= {"e": "e", "E": "e"}
NUM_NEXT = {
    (0, "-"): 1, (0, "0"): 2, (0, "d"): 3, (1, "0"): 2, (1, "d"): 3,
    (2, "."): 4, (2, "e"): 6, (3, "0"): 3, (3, "d"): 3, (3, "."): 4, (3, "e"): 6,
    (4, "0"): 5, (4, "d"): 5, (5, "0"): 5, (5, "d"): 5, (5, "e"): 6,
    (6, "+"): 7, (6, "-"): 7, (6, "0"): 8, (6, "d"): 8, (7, "0"): 8, (7, "d"): 8,
    (8, "0"): 8, (8, "d"): 8,
}  # fmt: skip
NUM_DIGIT_STATES = (3, 5, 8)  # states where a run of digits may be skipped at once
NUM_FINAL = {2: int, 3: int, 5: float, 8: float}  # states where a number may end


def clean_end(text: str) -> int:
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
    if last + 6 == n and not HIGH_ESCAPE(text, last):
        return n  # a complete \uXXXX that needs no low half
    if not HELD_ESCAPE(text, last) or (last >= 6 and HIGH_ESCAPE(text, last - 6)):
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


class Invalid(Exception):
    """Raised inside one `feed` call with an offset into that call's text."""

    def __init__(self, index: int, msg: str) -> None:
        super().__init__(msg)
        self.index = index
        self.msg = msg


class Frame:
    """An open object or array: its node, where it sits in its parent, and (objects) the key
    being filled.

    A frame links to its parent instead of holding its whole path: opening a container costs
    O(1) however deep it is. A path is built (and kept) only for a frame that holds a string
    value, walking the links once.
    """

    __slots__ = ("node", "parent", "slot", "key", "_path")

    def __init__(
        self, node: dict[str, Any] | list[Any], parent: Frame | None, slot: str | int
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
            frame: Frame | None = self
            while frame is not None and frame._path is None:
                if frame.parent is not None:
                    slots.append(frame.slot)
                frame = frame.parent
            base = frame._path if frame is not None else ()
            assert base is not None
            self._path = (*base, *reversed(slots))
        return self._path
