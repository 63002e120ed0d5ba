"""Reading a response body within limits: decompression, total size, ratio and wall time.

httpx would inflate a compressed body a whole network read at a time, with no
bound on what one read turns into, so the transport reads the raw bytes and
``BodyReader`` inflates them here in pieces of at most ``PIECE`` bytes,
counting as it goes. Only ``gzip`` and ``deflate`` are asked for
(``ACCEPT_ENCODING``) and decoded; a body in another encoding is refused with
a message rather than passed on undecoded.

Every limit (``providers.settings.StreamLimits``) raises ``LimitExceeded``
before the bytes past it are handed on, so the parser only ever sees a
bounded body and the events before the limit are kept.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

from providers.errors import LimitExceeded, StreamError
from providers.settings import StreamLimits, mib

ACCEPT_ENCODING = "gzip, deflate"
PIECE = 65536  # the most one decompression step may produce
_GZIP = 16 + zlib.MAX_WBITS
_ZLIB_OR_GZIP = 32 + zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS


class BodyReader:
    """Turns the raw bytes of one response into its decoded body, within ``limits``.

    Args:
        encoding: the response's ``Content-Encoding`` header ("" for none).
        limits: the bounds to enforce.
        deadline: the ``clock()`` value by which the body must be complete.
        clock: a monotonic clock (tests pass a fake one).

    Raises:
        StreamError: ``encoding`` is one chattui does not decode.
    """

    def __init__(
        self, encoding: str, limits: StreamLimits, deadline: float, clock: Callable[[], float]
    ) -> None:
        self.limits = limits
        self.raw = 0
        self.decoded = 0
        self._deadline = deadline
        self._clock = clock
        self._inflater: _Inflater | None = _inflater_for(encoding)

    def decode(self, raw: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``raw``, each checked against the limits before it is given."""
        if self._clock() > self._deadline:
            raise LimitExceeded(
                f"response took too long: over {self.limits.max_seconds:g} s"
                " (limit max_response_seconds)"
            )
        self.raw += len(raw)
        if self._inflater is None:
            self._count(len(raw))
            yield raw
            return
        for piece in self._inflater.feed(raw):
            self._count(len(piece))
            yield piece

    def _count(self, size: int) -> None:
        self.decoded += size
        limits = self.limits
        if self.decoded > limits.max_response_bytes:
            raise LimitExceeded(
                f"response too large: over {mib(limits.max_response_bytes)} (limit max_response_mb)"
            )
        if self.decoded > limits.ratio_floor and self.decoded > self.raw * limits.max_ratio:
            raise LimitExceeded(
                f"response refused: it decompresses to over {limits.max_ratio} times"
                " its compressed size (a compression bomb?)"
            )


def _inflater_for(encoding: str) -> _Inflater | None:
    codings = [c.strip().lower() for c in encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip"):
        return _Inflater(_GZIP)
    if len(codings) == 1 and codings[0] == "deflate":
        return _Inflater(_ZLIB_OR_GZIP, fallback=_RAW_DEFLATE)
    raise StreamError(
        f"the server sent a body compressed as {', '.join(codings)!r}, which chattui does not"
        f" decode (it asks for {ACCEPT_ENCODING})"
    )


class _Inflater:
    """Incremental zlib decompression whose every step yields at most ``PIECE`` bytes."""

    def __init__(self, wbits: int, fallback: int | None = None) -> None:
        self._z = zlib.decompressobj(wbits)
        self._fallback = fallback  # "deflate" is sometimes raw deflate without the zlib header
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            out = self._step(data)
            data = self._z.unconsumed_tail
            if out:
                yield out
            # A full piece may leave output pending even when all input was taken.
            if not data and len(out) < PIECE:
                return

    def _step(self, data: bytes) -> bytes:
        try:
            out = self._z.decompress(data, PIECE)
        except zlib.error as exc:
            if self._started or self._fallback is None:
                raise StreamError(f"could not decode the compressed response: {exc}") from None
            self._z = zlib.decompressobj(self._fallback)
            self._fallback = None
            return self._step(data)
        self._started = True
        return out
