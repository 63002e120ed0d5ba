"""The bounded reads of a body besides its stream: an error's head, a capped GET, the drain.

``HTTPProvider`` streams a 200 response through ``ReadAhead`` and its parser; the other
reads it makes are here, each with a bound a server cannot move:

* ``read_head``: the first ``ERROR_BODY_BYTES`` of an error response (enough for any message);
* ``read_capped``: a whole one-off body (a model list), or ``TooBig`` past its cap;
* ``drain``: what follows a stream's in-band end, so the connection goes back to the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from providers.body import BodyReader
from providers.readahead import ReadAhead

DRAIN_BYTES = 65536
DRAIN_SECONDS = 0.1
"""Bounds on reading past the in-band end of a stream (see ``drain``)."""
ERROR_BODY_BYTES = 65536
"""What is read of an error response: enough for any message."""


class TooBig(Exception):
    """A body passed the cap ``read_capped`` was given."""


async def read_capped(body: BodyReader, chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    """The whole decoded body, or ``TooBig`` as soon as it passes ``max_bytes``."""
    parts: list[bytes] = []
    size = 0
    async for raw in chunks:
        for piece in body.decode(raw):
            size += len(piece)
            if size > max_bytes:
                raise TooBig
            parts.append(piece)
    return b"".join(parts)


async def read_head(body: BodyReader, chunks: AsyncIterator[bytes]) -> bytes:
    """The first ``ERROR_BODY_BYTES`` of an error response's decoded body (the rest unread)."""
    head = bytearray()
    async for raw in chunks:
        for piece in body.decode(raw):
            head += piece[: ERROR_BODY_BYTES - len(head)]
            if len(head) >= ERROR_BODY_BYTES:
                return bytes(head)
    return bytes(head)


async def drain(reads: ReadAhead) -> None:
    """Read what follows the in-band end, within bounds, so the connection can be reused.

    After ``[DONE]`` or ``message_stop`` only the chunked terminator (or an empty line) is
    left; reading it lets httpx put the connection back in its pool, so the tool loop's next
    request skips a new TCP and TLS handshake. A server that keeps sending or stalls costs at
    most ``DRAIN_BYTES`` / ``DRAIN_SECONDS``; the connection is then closed instead. Nothing
    read here is parsed, and no error here matters: the response is already complete.
    """
    import httpx

    read = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for batch in reads:
                read += sum(map(len, batch))
                if read > DRAIN_BYTES:
                    return
    except (TimeoutError, httpx.HTTPError):
        return


async def whole(content: bytes) -> AsyncIterator[bytes]:
    """``content`` as a body of one read (a response httpx already read and decoded)."""
    yield content
