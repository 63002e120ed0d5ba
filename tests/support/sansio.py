"""Drive a provider's sans-IO parser directly, read by read, as the transport does.

``drive`` feeds pieces the way ``HTTPProvider`` does (feed, take what the read
produced, stop at an error or when the parser is done, ``end()`` at the end of
the body) and returns the events of each read separately, so tests can see
what one read produced. ``event_pieces`` cuts a body at its wire-event
boundaries (SSE blank lines, NDJSON newlines): one wire event per read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from providers import create_provider
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


def event_pieces(body: bytes, ndjson: bool = False) -> list[bytes]:
    """``body`` cut right after each wire event (an SSE blank line, or an NDJSON newline)."""
    ends = [m.end() for m in (re.finditer(rb"\n", body) if ndjson else _SSE_END.finditer(body))]
    bounds = [0, *ends, len(body)]
    return [body[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
