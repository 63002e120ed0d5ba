"""The fast path for the one SSE event shape that makes up nearly all of a stream.

Almost every event of a long answer is the same JSON object with one string
changed: an Anthropic ``content_block_delta`` with a ``text_delta`` or
``input_json_delta``, an OpenAI chunk whose only payload is
``choices[0].delta.content`` (or one call's argument fragment). Parsing each
with ``json.loads`` and walking the result costs more than everything else.

``HotEvents`` recognises that shape at an event boundary of the SSE text:
an anchored regular expression for the whole event up to the string's opening
quote (the ``event:`` line, ``data:`` and every key before the string, in this
exact order; JSON whitespace allowed between tokens), the string decoded by
the C ``json.decoder.scanstring`` (the same function ``json.loads`` uses, so
escapes, surrogates and control characters are treated exactly alike), then an
anchored expression for the rest of the object and the blank line ending the
event. Anything else (another key order, an extra key, a value the adapter
would act on, a line not yet complete) is left to the full parse. The events
that follow with byte-for-byte the same head and tail are taken in a tight
loop without the expressions (or, when what separates their strings is
short, many at once by one split: ``bulk``), and their strings are joined
(one read's fragments are coalesced anyway, ``providers.parser``).

The adapter supplies what an event means through ``target``: given the head's
match, where the decoded strings go, or None when this event needs the full
parse (for example, a fragment that would start a new tool call). The
equivalence with the full parse is checked by property tests
(``tests/providers/test_fastpath.py``).
"""

from __future__ import annotations

import json.decoder
import re
from collections.abc import Callable

# The C string scanner behind json.loads: (text, index after the opening quote[,
# strict]) -> (decoded string, index after the closing quote); ValueError when
# invalid. Not strict: control characters pass through raw.
scanstring: Callable[..., tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

Sink = Callable[[str], None]
Target = Callable[[re.Match[str]], Sink | None]

# A JSON scalar an adapter ignores: a string without escapes, a number, a literal.
SCALAR = (
    r'(?:"[^"\\\x00-\x1f]*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|null|true|false)'
)
# A JSON integer >= 0 ("01" is not JSON); short, so int() of it never fails.
INDEX = r"(0|[1-9][0-9]{0,8})"


def template(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` with ``~`` standing for optional JSON whitespace within a line."""
    return re.compile(pattern.replace("~", "[ \t]*"))


def ignore(text: str) -> None:
    """The sink of events the adapter reads but does not report."""


def first_of(*paths: Callable[[str, int], int]) -> Callable[[str, int], int]:
    """A hot path trying ``paths`` in order (shapes whose heads and tails differ)."""

    def hot(text: str, pos: int) -> int:
        for path in paths:
            end = path(text, pos)
            if end != pos:
                return end
        return pos

    return hot


class HotEvents:
    """Consumes a run of hot events at an SSE event boundary (see the module docstring).

    Args:
        head: matches an event from its first line up to and including the
            string's opening quote.
        tail: matches from the string's closing quote to the end of the
            event (its blank line included).
        target: where the event's string goes; None leaves the event to the
            full parse.
    """

    def __init__(self, head: re.Pattern[str], tail: re.Pattern[str], target: Target) -> None:
        self._head = head
        self._tail = tail
        self._target = target

    def __call__(self, text: str, pos: int) -> int:
        """Consume the hot events at ``pos`` in ``text``; returns where the rest begins."""
        match = self._head.match(text, pos)
        if match is None:
            return pos
        sink = self._target(match)
        if sink is None:
            return pos
        head = match.group()
        size = len(head)
        startswith = text.startswith
        pieces: list[str] = []
        append = pieces.append
        content = match.end()  # where the string of the event at ``pos`` begins
        try:
            while True:
                value, end = scanstring(text, content)
                found = self._tail.match(text, end - 1)
                if found is None:
                    break
                append(value)
                pos = found.end()
                if not startswith(head, pos):
                    break
                # The events that follow with this same tail and head: no regex needed.
                sep = found.group()[1:] + head  # after a closing quote, up to the next string
                step = len(sep)
                content = bulk(text, pos + size, sep, append)
                value, end = scanstring(text, content)
                while startswith(sep, end):
                    append(value)
                    content = end + step
                    value, end = scanstring(text, content)
                pos = content - size  # an event with this head but another tail, or none yet
        except ValueError:  # invalid, or not complete: the full parse reports it
            pos = content - size if pieces else pos
        if pieces:
            sink(pieces[0] if len(pieces) == 1 else "".join(pieces))
        return pos


_CONTROL = re.compile(r"[\x01-\x1f]")
BULK_WINDOW = 16  # events' worth of text the first split looks at (then 4x, 16x ...)
BULK_LONGEST = 96  # separators from here on use str.split's slow search (CPython 3.11)


def bulk(text: str, content: int, sep: str, append: Callable[[str], None]) -> int:
    """Take the strings of a run of identical events at once; returns where the run goes on.

    ``content`` is where the string of an event begins; every event of the run
    is a string, a closing quote, then ``sep`` (the rest of the event and the
    head of the next one). One ``str.split`` on quote + ``sep`` gives the
    strings (only for separators short enough for its fast search). They are
    checked and decoded together: joined with NUL (which no valid string holds
    raw), one non-strict ``scanstring`` validates the escapes and stops at the
    first unescaped quote, a search finds the first raw control character, and
    the strings before both are taken. Escapes cannot pair across a NUL, so
    the result is exactly the strings decoded one by one, joined. The first odd
    string ends the bulk; the loop in ``HotEvents`` takes it from there. The
    text looked at grows 4x while the run lasts, so a short run costs little.
    """
    if len(sep) >= BULK_LONGEST:
        return content  # str.split would search for it at per-event cost: the loop is faster
    separator = '"' + sep
    width = BULK_WINDOW * (len(sep) + 32)
    while True:
        parts = text[content : content + width].split(separator)
        parts.pop()  # the rest: not followed by a separator within the window
        if not parts:
            return content
        raw = "\x00".join(parts)
        if raw.count("\x00") >= len(parts) or "\\u0000" in raw:
            return content  # a raw NUL (invalid), or a NUL escape: would look like a separator
        try:
            decoded, stop = scanstring(raw + '"', 0, False)
        except ValueError:  # an invalid escape somewhere: string by string instead
            return content
        bad = _CONTROL.search(raw, 0, stop - 1)
        stop = bad.start() if bad else stop - 1  # the first string not to take begins before
        taken = raw.count("\x00", 0, stop) + (stop == len(raw))
        if not taken:
            return content
        if taken < len(parts):
            decoded, _ = scanstring("\x00".join(parts[:taken]) + '"', 0, False)
        append(decoded.replace("\x00", ""))
        content += sum(map(len, parts[:taken])) + taken * (len(sep) + 1)
        if taken < len(parts):
            return content
        width *= 4
