"""Drive a provider's sans-IO parser directly, read by read, as the transport does.

``drive`` feeds pieces the way ``HTTPProvider`` does (feed, take what the read
produced, stop at an error or when the parser is done, ``end()`` at the end of
the body) and returns the events of each read separately, so tests can see
what one read produced. ``event_pieces`` cuts a body at its wire-event
boundaries (SSE blank lines, NDJSON newlines): one wire event per read.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from unittest import mock

from providers import create_provider, toolcalls
from providers.base import HTTPProvider
from providers.events import StreamEvent
from providers.parser import StreamParser
from tests.support.replay import settings_for

Reads = list[list[StreamEvent]]


@functools.cache
def _provider(kind: str) -> HTTPProvider:
    # Built once per kind: an HTTP client costs ~50 ms, a parser ~30 µs. Never used to send.
    return create_provider(settings_for(kind))


def parser_for(kind: str) -> StreamParser:
    """A fresh parser of the adapter for ``kind``."""
    return _provider(kind).parser()


@contextmanager
def numbered_ids() -> Iterator[None]:
    """Synthesized call ids numbered from 1 (``call_1`` ...), so that runs compare equal."""
    counter = itertools.count(1)
    with mock.patch.object(toolcalls, "synthesize_id", lambda: f"call_{next(counter)}"):
        yield


def drive(parser: StreamParser, pieces: Sequence[bytes]) -> tuple[Reads, str | None]:
    """The events of each read, and ``"Type: message"`` of the error that ended it (if any)."""
    reads: Reads = []
    for piece in [*pieces, None]:
        events, error = parser.push(piece)
        reads.append(events)
        if error is not None:
            return reads, f"{type(error).__name__}: {error}"
        if parser.done:
            break
    return reads, None


def flat(reads: Reads) -> list[StreamEvent]:
    """All events of all reads, in order."""
    return [event for read in reads for event in read]


_SSE_END = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def event_pieces(body: bytes, framing: str = "sse") -> list[bytes]:
    """``body`` cut right after each wire event.

    ``framing``: ``sse`` (after each blank line), ``ndjson`` (after each
    newline) or ``array`` (a streamed JSON array: after each element's end).
    """
    if framing == "array":
        ends = _array_element_ends(body)
    else:
        found = re.finditer(rb"\n", body) if framing == "ndjson" else _SSE_END.finditer(body)
        ends = [m.end() for m in found]
    bounds = [0, *ends, len(body)]
    return [body[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _array_element_ends(body: bytes) -> list[int]:
    ends, depth, in_string, escaped = [], 0, False, False
    for i, byte in enumerate(body):
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == 92, byte != 34)
        elif byte == 34:
            in_string = True
        elif byte in b"{[":
            depth += 1
        elif byte in b"}]":
            depth -= 1
            if depth == 1:  # inside the outer array: an element just ended
                ends.append(i + 1)
    return ends
