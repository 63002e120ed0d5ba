"""What one response may cost (providers/body.py, sse.py, gemini_framing.py; StreamLimits).

Hostile bodies over a real loopback socket: compression bombs, endless lines
and events, a body past the total size, a response past its wall time, an
encoding chattui does not decode, a huge error body. Each ends the response
with ``LimitExceeded`` (or a ``StreamError``) after the text before it was
handed on.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from providers import create_provider
from providers.conversation import ChatRequest, UserMessage
from providers.errors import LimitExceeded, ProviderError, ServerError, StreamError
from providers.events import StreamEvent, TextDelta
from providers.gemini_framing import MAX_LEFTOVER, Framing
from providers.settings import MiB, StreamLimits
from providers.sse import MAX_EVENT, LineSplitter, SSEDecoder
from tests.support.loopback import Reply, gzip_bomb, loopback
from tests.support.replay import settings_for

REQUEST = ChatRequest((UserMessage("hi"),))
HELLO = b'data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n'
PATHS = {"openai": "/v1/chat/completions", "ollama": "/api/chat"}


async def run(
    kind: str, reply: Reply, limits: StreamLimits | None = None, **provider_kwargs: Any
) -> tuple[str, ProviderError | None]:
    """The text a provider yielded from ``reply`` over loopback, and the error it ended with."""
    with loopback() as server:
        server.script(PATHS[kind], reply)
        base = server.base_url + ("/v1" if kind == "openai" else "")
        settings = settings_for(kind, base_url=base, max_retries=0)
        if limits is not None:
            settings = replace(settings, limits=limits)
        provider = create_provider(settings, **provider_kwargs)
        events: list[StreamEvent] = []
        try:
            async for event in provider.stream(REQUEST):
                events.append(event)
        except ProviderError as err:
            return _text(events), err
        finally:
            await provider.aclose()
    return _text(events), None


def _text(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def repeated(head: bytes, piece: bytes, total: int) -> Iterator[bytes]:
    """``head``, then ``piece`` repeated until ``total`` bytes were sent."""
    yield head
    for _ in range(total // len(piece)):
        yield piece


# -- compressed bodies ---------------------------------------------------------------------


async def test_a_gzip_bomb_stops_at_the_ratio_guard_with_the_text_kept() -> None:
    # 2 GiB of newlines (valid SSE: blank lines) in about 2 MB of gzip.
    body = gzip_bomb(HELLO, b"\n", 2048)
    text, err = await run("openai", Reply(body, headers={"Content-Encoding": "gzip"}))
    assert isinstance(err, LimitExceeded) and not err.retryable
    assert "compression bomb" in str(err) and text == "Hello"


async def test_a_decompressed_body_past_max_response_bytes_is_cut_off() -> None:
    limits = StreamLimits(max_response_bytes=4 * MiB, max_ratio=10**9)
    body = gzip_bomb(HELLO, b"\n", 64)
    text, err = await run("openai", Reply(body, headers={"Content-Encoding": "gzip"}), limits)
    assert isinstance(err, LimitExceeded) and "over 4 MiB" in str(err) and text == "Hello"


async def test_deflate_with_and_without_the_zlib_header_is_decoded() -> None:
    done = b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
        body = packer.compress(HELLO + done) + packer.flush()
        reply = Reply([body[:5], body[5:]], headers={"Content-Encoding": "deflate"})
        assert await run("openai", reply) == ("Hello", None)


async def test_an_encoding_chattui_does_not_decode_is_refused_by_name() -> None:
    text, err = await run("openai", Reply([HELLO], headers={"Content-Encoding": "br"}))
    assert type(err) is StreamError and "'br'" in str(err) and "gzip, deflate" in str(err)


async def test_requests_ask_only_for_the_encodings_chattui_decodes() -> None:
    with loopback() as server:
        server.script(PATHS["openai"], Reply([HELLO]))
        provider = create_provider(settings_for("openai", base_url=server.base_url + "/v1"))
        with pytest.raises(ProviderError):
            async for _ in provider.stream(REQUEST):
                pass
        await provider.aclose()
        assert server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


# -- lines, events, totals, time ------------------------------------------------------------


async def test_an_endless_sse_line_is_refused_at_max_event_bytes() -> None:
    body = repeated(HELLO + b"data: ", b"x" * MiB, MAX_EVENT + 8 * MiB)
    text, err = await run("openai", Reply(body))
    assert isinstance(err, LimitExceeded) and "a line passed 32 MiB" in str(err)
    assert text == "Hello"


async def test_an_endless_event_of_short_lines_is_refused() -> None:
    limits = StreamLimits(max_event_bytes=MiB)
    body = repeated(HELLO, b"data: x\n" * 8192, 4 * MiB)
    text, err = await run("openai", Reply(body), limits)
    assert isinstance(err, LimitExceeded) and "an event passed 1 MiB" in str(err)
    assert text == "Hello"


async def test_an_endless_ndjson_line_is_refused() -> None:
    first = b'{"message":{"role":"assistant","content":"Hello"},"done":false}\n'
    limits = StreamLimits(max_event_bytes=2 * MiB)
    text, err = await run(
        "ollama", Reply(repeated(first + b'{"a":"', b"y" * 65536, 8 * MiB)), limits
    )
    assert isinstance(err, LimitExceeded) and "a line passed 2 MiB" in str(err)
    assert text == "Hello"


async def test_a_body_past_max_response_bytes_is_cut_off() -> None:
    limits = StreamLimits(max_response_bytes=MiB)
    text, err = await run(
        "openai", Reply(repeated(HELLO, b": " + b"k" * 4096 + b"\n\n", 4 * MiB)), limits
    )
    assert isinstance(err, LimitExceeded) and "over 1 MiB" in str(err) and text == "Hello"


class Clock:
    """A monotonic clock that advances ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


async def test_a_response_past_max_seconds_is_cut_off() -> None:
    limits = StreamLimits(max_seconds=100.0)
    reply = Reply([HELLO] * 200, pace=0.001)  # a trickle that never ends in time
    text, err = await run("openai", reply, limits, clock=Clock(10.0))
    assert isinstance(err, LimitExceeded) and "over 100 s" in str(err)
    assert text.startswith("Hello") and len(text) < 200 * 5


async def test_an_error_response_is_read_only_as_far_as_its_message() -> None:
    message = json.dumps({"error": {"message": "overloaded " + "z" * 100}}).encode()
    reply = Reply(repeated(message, b" " * MiB, 512 * MiB), status=500)
    text, err = await run("openai", reply)
    assert isinstance(err, ServerError) and "overloaded zzz" in str(err)


# -- the framing itself (sans-IO) -------------------------------------------------------------


def test_many_events_split_mid_event_never_add_up_to_the_event_limit() -> None:
    decoder = SSEDecoder()
    decoder.max_event = 4096
    body = b"".join(b'data: {"n": %d}\n\n' % i for i in range(100_000))
    seen = 0
    for start in range(0, len(body), 1000):  # every read ends inside an event
        seen += len(decoder.feed(body[start : start + 1000]))
    assert seen + len(decoder.flush()) == 100_000


def test_line_splitter_refuses_a_long_line_and_passes_short_ones() -> None:
    splitter = LineSplitter()
    splitter.max_line = 1000
    assert splitter.feed(b"a\n" * 600) == ["a"] * 600
    with pytest.raises(LimitExceeded):
        for _ in range(100):
            splitter.feed(b"b" * 100)


def test_gemini_framing_keeps_a_bounded_head_of_a_huge_junk_line() -> None:
    framing = Framing()
    framing.feed(b"\r\n" * 1000 + b"   ")  # leading whitespace: nothing is held
    for _ in range(2000):  # 16 MB of a line that is no SSE field
        assert framing.feed(b"j" * 8192) == []
        assert len(framing._line) <= MAX_LEFTOVER
    assert framing.flush() == []
    assert len(framing.leftover) <= MAX_LEFTOVER + 1 and framing.leftover.startswith("   jjj")


def test_gemini_framing_passes_a_long_data_line_without_keeping_it() -> None:
    framing = Framing()
    value = "v" * (4 * MiB)
    payload = b"data: " + json.dumps({"x": value}).encode() + b"\r\n\r\n"
    texts = [t for i in range(0, len(payload), 4096) for t in framing.feed(payload[i : i + 4096])]
    assert [json.loads(t)["x"] == value for t in texts] == [True]
    assert framing.leftover == "" and len(framing._line) == 0
