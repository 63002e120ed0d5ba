"""The shared transport (``providers.base.HTTPProvider``) under network faults.

A minimal adapter defined here (kind "fake") stands in for the real ones, so
these tests pin the core alone. Behaviour that depends on a real socket
(drops, stalls, cancellation, refused connections) runs against the loopback
server; counting and header games use ``httpx.MockTransport``. Retry sleeps go
to a recorder, so only the timeout tests spend real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import os
import re
import socket
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from providers import base
from providers.base import HTTPProvider
from providers.conversation import ChatRequest, UserMessage
from providers.errors import (
    AuthError,
    BadRequestError,
    ConnectionFailed,
    IncompleteResponse,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamError,
    Timeout,
)
from providers.events import Finish, Retrying, StreamEvent, TextDelta, Usage
from providers.parser import StreamParser
from providers.payloads import describe_error, error_detail, loads_event, parse_retry_after
from providers.settings import ProviderSettings, Secret
from providers.sse import SSEDecoder
from tests.support.imports import loaded_after
from tests.support.loopback import LoopbackServer, Reply, loopback
from tests.support.normalize import merged

KEY = "sk-test-0123456789abcdef-SECRET"
PATH = "/v1/chat"
REQUEST = ChatRequest((UserMessage("hi"),))
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class FakeParser(StreamParser):
    """Data is JSON: {"t": text}, {"done": true}, {"err": msg, "retryable": bool}, {"usage": n}."""

    def __init__(self, provider: HTTPProvider) -> None:
        super().__init__()
        self.provider = provider
        self.fed = 0
        self.ended = False
        self._sse = SSEDecoder(self._event)

    def feed(self, chunk: bytes) -> None:
        self.fed += 1
        self._sse.feed(chunk)

    def limit_events(self, size: int) -> None:
        self._sse.max_event = size

    def end(self) -> None:
        self.ended = True
        self._sse.flush()
        if not self.done:
            raise IncompleteResponse("the stream ended before its done marker")

    def _event(self, event: str, text: str) -> bool:
        data = loads_event(text, self.provider.stream_error)
        if "t" in data:
            self.out.text(data["t"])
        elif "usage" in data:
            self.out.add(Usage(output_tokens=data["usage"]))
        elif "err" in data:
            raise self.provider.stream_error(data["err"], retryable=data.get("retryable", False))
        elif data.get("done"):
            self.out.add(Finish("stop"))
            self.done = True
        return self.done


class FakeProvider(HTTPProvider):
    """The minimal adapter: one ``FakeParser`` per response."""

    kind = "fake"

    def url(self) -> str:
        return f"{self.settings.base_url}{PATH}"

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        return {"model": self.model, "messages": [m.text for m in request.messages]}

    def parser(self) -> FakeParser:
        return FakeParser(self)


def sse(*items: dict[str, Any]) -> list[bytes]:
    """One SSE event (one HTTP chunk) per item."""
    return [f"data: {json.dumps(item)}\n\n".encode() for item in items]


OK = sse({"t": "hello"}, {"t": " world"}, {"done": True})
OK_EVENTS = [TextDelta("hello world"), Finish("stop")]  # as ``run`` gives them: merged


class Sleeps(list[float]):
    """A ``sleep`` that records its delays instead of waiting."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


def error_reply(status: int, body: bytes = b"", **headers: str) -> Reply:
    return Reply(
        chunks=[body],
        status=status,
        headers={
            "Content-Type": "application/json",
            **{k.replace("_", "-"): v for k, v in headers.items()},
        },
    )


Make = Callable[..., FakeProvider]


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[LoopbackServer]:
    with loopback() as srv:
        yield srv


@pytest.fixture
def server(_shared_server: LoopbackServer) -> LoopbackServer:
    """The loopback server, reset; shared by the module because stopping one takes 0.5 s."""
    _shared_server.routes.clear()
    _shared_server.requests.clear()
    _shared_server.closed_early = 0
    return _shared_server


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    """Build providers (closed at teardown): ``make(base_url, transport=..., **settings)``."""
    made: list[FakeProvider] = []

    def build(
        base_url: str = "http://api.test",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        **overrides: Any,
    ) -> FakeProvider:
        fields: dict[str, Any] = {
            "kind": "fake",
            "base_url": base_url,
            "model": "m",
            "api_key": Secret(KEY),
            "key_source": "$TEST_KEY",
            "timeout": 5.0,
            "connect_timeout": 2.0,
            "max_retries": 2,
        }
        fields.update(overrides)
        provider = FakeProvider(
            ProviderSettings(**fields),
            transport=transport,
            sleep=Sleeps() if sleep is None else sleep,  # an empty Sleeps is falsy
        )
        made.append(provider)
        return provider

    yield build
    for provider in made:
        await provider.aclose()


async def run(provider: HTTPProvider) -> tuple[list[StreamEvent], ProviderError | None]:
    """All events of one request (adjacent deltas merged: which HTTP chunks arrive in one
    network read, and so come as one event, is the network's choice), and the error that
    ended it (if any)."""
    events: list[StreamEvent] = []
    try:
        async with contextlib.aclosing(provider.stream(REQUEST)) as stream:
            async for event in stream:
                events.append(event)
    except ProviderError as err:
        return merged(events), err
    return merged(events), None


def counting(
    *responses: Callable[[], httpx.Response],
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A mock transport serving ``responses`` in order (the last repeats)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]()

    return httpx.MockTransport(handler), seen


def status(code: int, body: bytes = b"", **headers: str) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(
        code, content=body, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def ok() -> httpx.Response:
    return httpx.Response(200, content=b"".join(OK), headers={"Content-Type": "text/event-stream"})


async def wait_for(condition: Callable[[], bool], limit: float) -> float:
    """Poll ``condition`` (set from the server thread) for up to ``limit`` seconds."""
    start = time.monotonic()
    while not condition() and time.monotonic() - start < limit:
        await asyncio.sleep(0.02)
    return time.monotonic() - start


# -- success and the request itself --------------------------------------------------------


async def test_success_over_loopback_sends_key_and_body(server: LoopbackServer, make: Make) -> None:
    server.script(PATH, Reply(chunks=OK))
    events, err = await run(make(server.base_url))
    assert err is None
    assert events == OK_EVENTS
    [request] = server.requests
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.json() == {"model": "m", "messages": ["hi"]}


# -- retries driven by status and headers -------------------------------------------------


async def test_429_with_retry_after_twice_then_success(server: LoopbackServer, make: Make) -> None:
    limited = error_reply(429, b'{"error": {"message": "slow down"}}', retry_after="1")
    server.script(PATH, limited, limited, Reply(chunks=OK))
    sleeps = Sleeps()
    events, err = await run(make(server.base_url, sleep=sleeps))
    assert err is None
    assert len(server.requests) == 3
    assert sleeps == [1.0, 1.0]
    assert [type(e) for e in events[:2]] == [Retrying, Retrying]
    assert [(e.attempt, e.delay) for e in events[:2]] == [(1, 1.0), (2, 1.0)]
    assert "429" in events[0].reason and "slow down" in events[0].reason
    assert events[2:] == OK_EVENTS


async def test_retry_after_ms_wins_over_retry_after(make: Make) -> None:
    transport, seen = counting(status(429, retry_after_ms="250", retry_after="7"), ok)
    sleeps = Sleeps()
    events, err = await run(make(transport=transport, sleep=sleeps))
    assert err is None and len(seen) == 2
    assert sleeps == [0.25]


async def test_http_date_retry_after(make: Make) -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    transport, seen = counting(status(503, retry_after=when), ok)
    sleeps = Sleeps()
    _, err = await run(make(transport=transport, sleep=sleeps))
    assert err is None and len(seen) == 2
    [delay] = sleeps
    assert 3.0 < delay <= 5.0  # the date has whole-second precision


async def test_retry_after_above_the_cap_is_not_waited_for(make: Make) -> None:
    transport, seen = counting(status(429, b'{"error": "quota"}', retry_after="120"), ok)
    sleeps = Sleeps()
    events, err = await run(make(transport=transport, sleep=sleeps))
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 120.0
    assert len(seen) == 1 and sleeps == [] and events == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "200", "retry-after": "9"}, 0.2),
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
        ({"retry-after": "not a date"}, None),
        ({"retry-after": ""}, None),
        ({}, None),
        ({"llm_provider-retry-after": "7"}, 7.0),  # LiteLLM proxy relays it so
        ({"llm_provider-retry-after-ms": "250"}, 0.25),
        ({"llm_provider-retry-after": "7", "retry-after": "2"}, 2.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers)) == expected


def test_parse_retry_after_future_date() -> None:
    delay = parse_retry_after(
        {"retry-after": email.utils.formatdate(time.time() + 30, usegmt=True)}
    )
    assert delay is not None and 28.0 < delay <= 30.0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_parse_retry_after_ignores_non_finite_numbers(value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None
    assert parse_retry_after({"retry-after-ms": value}) is None


@pytest.mark.parametrize("code", [500, 502, 503, 529])
async def test_5xx_storm_gives_up_after_max_retries(code: int, make: Make) -> None:
    transport, seen = counting(status(code, b'{"error": {"message": "try later"}}'))
    sleeps = Sleeps()
    events, err = await run(make(transport=transport, sleep=sleeps, max_retries=2))
    assert len(seen) == 3
    assert isinstance(err, ServerError) and err.status == code
    what = "overloaded" if code == 529 else "server error"
    assert str(err) == f"{what} (HTTP {code}): try later"
    assert [type(e) for e in events] == [Retrying, Retrying]
    assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0


async def test_backoff_doubles_then_caps_at_8_seconds(make: Make) -> None:
    transport, seen = counting(status(500))
    sleeps = Sleeps()
    _, err = await run(make(transport=transport, sleep=sleeps, max_retries=7))
    assert isinstance(err, ServerError) and len(seen) == 8
    for delay, nominal in zip(sleeps, [0.5, 1, 2, 4, 8, 8, 8], strict=True):
        assert 0.75 * nominal <= delay <= nominal


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 1.0), (0.999999, 0.75)])
async def test_jitter_removes_up_to_a_quarter(
    draw: float, factor: float, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base.random, "random", lambda: draw)
    transport, _ = counting(status(502))
    sleeps = Sleeps()
    await run(make(transport=transport, sleep=sleeps, max_retries=3))
    assert sleeps == pytest.approx([0.5 * factor, 1.0 * factor, 2.0 * factor], abs=1e-5)


async def test_x_should_retry_false_on_500_is_not_retried(make: Make) -> None:
    transport, seen = counting(status(500, x_should_retry="false"), ok)
    events, err = await run(make(transport=transport))
    assert isinstance(err, ServerError) and not err.retryable
    assert len(seen) == 1 and events == []


async def test_x_should_retry_true_on_400_is_retried(make: Make) -> None:
    transport, seen = counting(status(400, x_should_retry="true"), ok)
    events, err = await run(make(transport=transport))
    # One read carried the whole body: its two text fragments arrive as one event.
    assert err is None and len(seen) == 2 and events[1:] == OK_EVENTS


@pytest.mark.parametrize("code", [408, 409])
async def test_408_and_409_are_retried(code: int, make: Make) -> None:
    transport, seen = counting(status(code), ok)
    events, err = await run(make(transport=transport))
    assert err is None and len(seen) == 2


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (400, BadRequestError),
        (401, AuthError),
        (403, AuthError),
        (404, BadRequestError),
        (422, BadRequestError),
    ],
)
async def test_client_errors_are_sent_once(
    code: int, kind: type[ProviderError], server: LoopbackServer, make: Make
) -> None:
    server.script(PATH, error_reply(code, b'{"error": {"message": "nope"}}'), Reply(chunks=OK))
    sleeps = Sleeps()
    events, err = await run(make(server.base_url, sleep=sleeps))
    assert type(err) is kind
    assert f"HTTP {code}" in str(err) and "nope" in str(err)
    assert len(server.requests) == 1 and sleeps == [] and events == []


async def test_401_names_the_key_source_and_never_shows_the_key(
    server: LoopbackServer, make: Make
) -> None:
    echo = json.dumps(
        {
            "error": {
                "message": f"Incorrect API key provided: {KEY}.",
                "type": "invalid_request_error",
            }
        }
    )
    server.script(PATH, error_reply(401, echo.encode()))
    _, err = await run(make(server.base_url))
    assert isinstance(err, AuthError)
    text = str(err)
    assert "check the API key" in text and "$TEST_KEY" in text
    assert "Incorrect API key provided" in text  # the server's words survive, the key does not
    assert KEY not in text and KEY not in repr(err)
    assert KEY not in "".join(traceback.format_exception(err))


def key_pieces(text: str, size: int = 8) -> list[str]:
    """Every ``size``-character piece of KEY that occurs in ``text``."""
    return [KEY[i : i + size] for i in range(len(KEY) - size + 1) if KEY[i : i + size] in text]


@pytest.mark.parametrize("at", [250, 285, 295])
async def test_no_piece_of_the_key_survives_where_the_error_text_is_cut(
    at: int, make: Make
) -> None:
    body = ("x" * at + KEY + " tail").encode()  # plain text: shortened to 300 characters
    transport, _ = counting(status(403, body))
    _, err = await run(make(transport=transport))
    assert isinstance(err, AuthError)
    assert key_pieces(str(err)) == [], str(err)


async def test_401_without_key_source_says_so(make: Make) -> None:
    transport, _ = counting(status(401))
    _, err = await run(make(transport=transport, key_source=""))
    assert isinstance(err, AuthError) and "no key configured" in str(err)


async def test_redirect_is_reported_with_its_target_not_parsed(make: Make) -> None:
    location = f"https://api.test/v1/chat?key={KEY}"
    transport, seen = counting(status(301, b"Moved", location=location), ok)
    events, err = await run(make(transport=transport))
    assert type(err) is BadRequestError and err.status == 301
    assert str(err) == (
        "redirected (HTTP 301) to https://api.test/v1/chat?key=***; "
        "set base_url to the final address"
    )
    assert len(seen) == 1 and events == []


# -- connection faults --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retried_then_raised(make: Make) -> None:
    sleeps = Sleeps()
    events, err = await run(make(f"http://127.0.0.1:{free_port()}", sleep=sleeps))
    assert isinstance(err, ConnectionFailed)
    assert "could not connect to 127.0.0.1" in str(err)
    assert len(sleeps) == 2 and [type(e) for e in events] == [Retrying, Retrying]


async def test_dropped_connection_after_text_raises_after_it_without_retry(
    server: LoopbackServer, make: Make
) -> None:
    server.script(PATH, Reply(chunks=OK, drop_after=2))
    events, err = await run(make(server.base_url))
    assert events == [TextDelta("hello world")]
    assert isinstance(err, ConnectionFailed) and "dropped" in str(err)
    assert len(server.requests) == 1


async def test_dropped_connection_before_any_text_is_retried(
    server: LoopbackServer, make: Make
) -> None:
    server.script(PATH, Reply(chunks=OK, drop_after=0), Reply(chunks=OK))
    events, err = await run(make(server.base_url))
    assert err is None and len(server.requests) == 2
    assert [type(e) for e in events] == [Retrying, *map(type, OK_EVENTS)]


async def test_truncated_body_after_text_is_incomplete_and_not_retried(
    server: LoopbackServer, make: Make
) -> None:
    server.script(PATH, Reply(chunks=OK[:2]), Reply(chunks=OK))
    events, err = await run(make(server.base_url))
    assert isinstance(err, IncompleteResponse)
    assert events == OK_EVENTS[:1] and len(server.requests) == 1


async def test_empty_200_body_is_retried_as_incomplete(make: Make) -> None:
    transport, seen = counting(status(200))
    events, err = await run(make(transport=transport))
    assert isinstance(err, IncompleteResponse) and len(seen) == 3
    assert [type(e) for e in events] == [Retrying, Retrying]


async def test_malformed_chunk_is_a_stream_error(server: LoopbackServer, make: Make) -> None:
    server.script(PATH, Reply(chunks=[OK[0], b'data: {"t": "unterminated\n\n', *OK[1:]]))
    events, err = await run(make(server.base_url))
    assert type(err) is StreamError and "malformed chunk" in str(err)
    assert events == [TextDelta("hello")] and len(server.requests) == 1


async def test_malformed_first_chunk_is_not_retried(make: Make) -> None:
    transport, seen = counting(status(200, b"data: {oops\n\n"), ok)
    events, err = await run(make(transport=transport))
    assert type(err) is StreamError and len(seen) == 1 and events == []


async def test_corrupt_compressed_body_is_a_stream_error_not_a_raw_httpx_error(make: Make) -> None:
    transport, seen = counting(status(200, b"not gzip at all", content_encoding="gzip"))
    events, err = await run(make(transport=transport))
    assert type(err) is StreamError and "could not decode" in str(err)
    assert events == [] and len(seen) == 1


async def test_base_url_without_http_scheme_fails_once(make: Make) -> None:
    sleeps = Sleeps()
    events, err = await run(make("ftp://api.test", sleep=sleeps))
    assert isinstance(err, ConnectionFailed) and not err.retryable
    assert "unsupported protocol" in str(err) and sleeps == [] and events == []


async def test_malformed_base_url_is_mapped_not_raised_raw(make: Make) -> None:
    sleeps = Sleeps()
    events, err = await run(make("http://api\x00.test", sleep=sleeps))
    assert isinstance(err, ConnectionFailed) and not err.retryable
    assert str(err).startswith("invalid API address: ") and not CONTROL.search(str(err))
    assert sleeps == [] and events == []


# -- errors inside a 200 stream -----------------------------------------------------------


async def test_retryable_stream_error_before_any_delta_is_retried(
    server: LoopbackServer, make: Make
) -> None:
    server.script(
        PATH, Reply(chunks=sse({"err": "Overloaded", "retryable": True})), Reply(chunks=OK)
    )
    sleeps = Sleeps()
    events, err = await run(make(server.base_url, sleep=sleeps))
    assert err is None and len(server.requests) == 2 and len(sleeps) == 1
    assert isinstance(events[0], Retrying) and "Overloaded" in events[0].reason
    assert events[1:] == OK_EVENTS


async def test_usage_alone_does_not_count_as_output(server: LoopbackServer, make: Make) -> None:
    first = Reply(chunks=sse({"usage": 3}, {"err": "Overloaded", "retryable": True}))
    server.script(PATH, first, Reply(chunks=OK))
    events, err = await run(make(server.base_url))
    assert err is None and len(server.requests) == 2
    assert events[0] == Usage(output_tokens=3) and isinstance(events[1], Retrying)


async def test_retryable_stream_error_after_a_delta_is_raised(
    server: LoopbackServer, make: Make
) -> None:
    server.script(
        PATH,
        Reply(chunks=sse({"t": "partial "}, {"err": "Overloaded", "retryable": True})),
        Reply(chunks=OK),
    )
    events, err = await run(make(server.base_url))
    assert type(err) is StreamError and err.retryable and str(err) == "Overloaded"
    assert events == [TextDelta("partial ")] and len(server.requests) == 1


async def test_non_retryable_stream_error_is_raised_at_once(make: Make) -> None:
    transport, seen = counting(status(200, b'data: {"err": "bad schema"}\n\n'), ok)
    events, err = await run(make(transport=transport))
    assert type(err) is StreamError and len(seen) == 1 and events == []


# -- the connection after an in-band end -----------------------------------------------------


async def test_the_next_request_reuses_the_connection_after_an_in_band_end(
    server: LoopbackServer, make: Make
) -> None:
    """The parser stops at its done marker; the rest of the body (the chunked terminator) is
    still read, so the tool loop's next request needs no new connection (on a real API, no
    new TLS handshake)."""
    server.script(PATH, Reply(chunks=[*OK, b"\n"]))
    provider = make(server.base_url)
    for _ in range(3):
        events, err = await run(provider)
        assert err is None and events == OK_EVENTS
    ports = {recorded.port for recorded in server.requests}
    assert len(server.requests) == 3 and len(ports) == 1, ports


async def test_a_server_that_stalls_after_the_end_marker_is_not_waited_for(
    server: LoopbackServer, make: Make
) -> None:
    """Reading past the end is bounded: a stall there costs at most ``DRAIN_SECONDS`` (the
    read timeout is 60 s and the stall 120 s), and the next request opens a new connection."""
    after = [b"data: ignored\n\n", b"data: never sent\n\n"]  # the stall comes between them
    server.script(
        PATH,
        Reply(chunks=[*OK, *after], stall_after=len(OK) + 1, stall_seconds=120.0),
        Reply(chunks=OK),
    )
    provider = make(server.base_url, timeout=60.0)
    start = time.monotonic()
    events, err = await run(provider)
    assert err is None and events == OK_EVENTS
    assert time.monotonic() - start < 30.0  # neither the stall nor the read timeout
    events, err = await run(provider)
    assert err is None and events == OK_EVENTS
    assert len({recorded.port for recorded in server.requests}) == 2


async def test_a_server_that_keeps_sending_after_the_end_marker_is_cut_off(
    server: LoopbackServer, make: Make
) -> None:
    """More than ``DRAIN_BYTES`` after the end: the connection is closed, not read to the end."""
    flood = [b": " + b"x" * 16_382 + b"\n"] * 64  # 1 MB of SSE comments
    server.script(PATH, Reply(chunks=[*OK, *flood], pace=0.001), Reply(chunks=OK))
    provider = make(server.base_url)
    events, err = await run(provider)
    assert err is None and events == OK_EVENTS
    await wait_for(lambda: server.closed_early == 1, limit=60.0)
    assert server.closed_early == 1, "the client read the whole flood"


# -- timeouts (real time: the server stalls) -----------------------------------------------


async def test_stall_mid_stream_times_out(server: LoopbackServer, make: Make) -> None:
    server.script(PATH, Reply(chunks=OK, stall_after=1, stall_seconds=120.0))
    start = time.monotonic()
    events, err = await run(make(server.base_url, timeout=0.5))
    elapsed = time.monotonic() - start
    assert isinstance(err, Timeout) and "0.5 s" in str(err)
    assert events == [TextDelta("hello")] and len(server.requests) == 1
    assert 0.5 <= elapsed < 60  # the read timeout ended it, long before the 120 s stall


async def test_slow_first_token_within_the_read_timeout_is_fine(
    server: LoopbackServer, make: Make
) -> None:
    # An empty item sends nothing but still waits ``pace``: 0.4 s of silence first. The
    # whole body takes 1.6 s, so a total deadline posing as the read timeout would fail.
    server.script(PATH, Reply(chunks=[b"", *OK], pace=0.4))
    events, err = await run(make(server.base_url, timeout=1.0))
    assert err is None and events == OK_EVENTS and len(server.requests) == 1


async def test_silence_longer_than_the_read_timeout_before_any_text_is_retried(
    server: LoopbackServer, make: Make
) -> None:
    server.script(PATH, Reply(chunks=OK, stall_after=0, stall_seconds=120.0), Reply(chunks=OK))
    events, err = await run(make(server.base_url, timeout=0.4))
    assert err is None and len(server.requests) == 2
    assert isinstance(events[0], Retrying) and "read timeout" in events[0].reason


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (httpx.ConnectTimeout("x"), "could not connect to api.test within 2 s"),
        (httpx.ReadTimeout("x"), "no data from api.test for 5 s (read timeout)"),
        (httpx.WriteTimeout("x"), "timed out sending the request to api.test (WriteTimeout)"),
        (httpx.PoolTimeout("x"), "timed out waiting to api.test (PoolTimeout)"),
    ],
)
async def test_timeout_messages_say_which_timeout(
    exc: httpx.TimeoutException, message: str, make: Make
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    sleeps = Sleeps()
    events, err = await run(make(transport=httpx.MockTransport(handler), sleep=sleeps))
    assert isinstance(err, Timeout) and str(err) == message
    assert len(sleeps) == 2  # timeouts are retried before any output


# -- the consumer stops early --------------------------------------------------------------

SLOW = sse(*({"t": f"{i} "} for i in range(40)), {"done": True})  # 40 chunks, 0.2 s apart


async def test_cancelling_the_consumer_closes_the_connection(
    server: LoopbackServer, make: Make
) -> None:
    server.script(PATH, Reply(chunks=SLOW, pace=0.2))
    provider = make(server.base_url)
    first = asyncio.Event()
    seen: list[StreamEvent] = []

    async def consume() -> None:
        async with contextlib.aclosing(provider.stream(REQUEST)) as stream:
            async for event in stream:
                seen.append(event)
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for(lambda: server.closed_early == 1, limit=60.0)  # 40 x 0.2 s if not cut
    assert server.closed_early == 1, "the server kept writing to a client that had gone"
    assert len(seen) < 10


async def test_aclose_of_the_generator_closes_the_connection(
    server: LoopbackServer, make: Make
) -> None:
    server.script(PATH, Reply(chunks=SLOW, pace=0.2))
    stream = make(server.base_url).stream(REQUEST)
    assert await anext(stream) == TextDelta("0 ")
    await stream.aclose()
    await wait_for(lambda: server.closed_early == 1, limit=60.0)
    assert server.closed_early == 1


class _TrackedBody(httpx.AsyncByteStream):
    """A streamed body that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in SLOW:
            await asyncio.sleep(0)  # one network read each
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


async def test_aclose_closes_the_response_before_it_returns(make: Make) -> None:
    body = _TrackedBody()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=body))
    stream = make(transport=transport).stream(REQUEST)
    assert await anext(stream) == TextDelta("0 ")
    await stream.aclose()
    assert body.closed  # at once, not whenever the garbage collector gets to it


async def test_aclose_stops_the_parser_and_closes_the_body_at_once(make: Make) -> None:
    parsers: list[FakeParser] = []

    class Tracking(FakeProvider):
        def parser(self) -> FakeParser:
            parsers.append(super().parser())
            return parsers[-1]

    body = _TrackedBody()
    provider = Tracking(
        make().settings, transport=httpx.MockTransport(lambda r: httpx.Response(200, stream=body))
    )
    stream = provider.stream(REQUEST)
    assert await anext(stream) == TextDelta("0 ")
    await stream.aclose()
    # Before aclose() returned: the body is closed, the parser is fed nothing more, and
    # an abandoned body is not reported as an incomplete one.
    assert body.closed
    [parser] = parsers
    assert parser.fed == 1 and not parser.ended
    await provider.aclose()


# -- what error text may contain ----------------------------------------------------------

HOSTILE = (
    "A\x1b]52;c;cHduZWQ=\x07B\x1b]0;T\x1b\\C\x1b[2J\x9b31m [@click=app.quit]x[/] [/b] \x00\x85"
)


async def test_status_error_bodies_are_scrubbed(make: Make) -> None:
    transport, _ = counting(status(400, json.dumps({"error": {"message": HOSTILE}}).encode()))
    _, err = await run(make(transport=transport))
    assert isinstance(err, BadRequestError)
    assert not CONTROL.search(str(err)), repr(str(err))
    assert "[@click=app.quit]x[/] [/b]" in str(err)  # markup stays literal data for the UI


async def test_plain_text_error_bodies_are_scrubbed(make: Make) -> None:
    transport, _ = counting(status(502, HOSTILE.encode() + b"\n<html>" + b"x" * 2000))
    _, err = await run(make(transport=transport, max_retries=0))
    assert isinstance(err, ServerError) and not CONTROL.search(str(err))
    assert len(str(err)) <= 340


async def test_stream_error_text_is_scrubbed(make: Make) -> None:
    transport, _ = counting(status(200, f"data: {json.dumps({'err': HOSTILE + KEY})}\n\n".encode()))
    _, err = await run(make(transport=transport))
    assert isinstance(err, StreamError)
    assert not CONTROL.search(str(err)) and KEY not in str(err)


# -- describe_error: every API's error body ----------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (  # OpenAI
            {
                "error": {
                    "message": "Incorrect API key",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            "Incorrect API key (invalid_request_error)",
        ),
        (  # Anthropic
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            "Overloaded (overloaded_error)",
        ),
        (  # Gemini
            {
                "error": {
                    "code": 429,
                    "message": "Resource exhausted",
                    "status": "RESOURCE_EXHAUSTED",
                }
            },
            "Resource exhausted (RESOURCE_EXHAUSTED)",
        ),
        (  # Gemini, list-wrapped
            [
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid",
                        "status": "INVALID_ARGUMENT",
                    }
                }
            ],
            "API key not valid (INVALID_ARGUMENT)",
        ),
        ({"error": "model 'x' not found"}, "model 'x' not found"),  # Ollama
        (  # Responses API, the flat shape of its reference: "error" is the event type
            {"type": "error", "code": "server_error", "message": "Try again"},
            "Try again (server_error)",
        ),
        (
            {"error": {"message": "rate_limit_exceeded happened", "type": "rate_limit_exceeded"}},
            "rate_limit_exceeded happened",
        ),
        ({"error": {"code": "quota"}}, "quota"),
        ({"message": "top-level message"}, "top-level message"),
        ([], ""),
        (None, ""),
    ],
)
def test_describe_error(body: Any, expected: str) -> None:
    assert describe_error(body) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"error": "model not found"}', "model not found"),
        (b"Bad Gateway", "Bad Gateway"),
        (b"  upstream timed out\n", "upstream timed out"),
        (b"", ""),
        (b'{"detail": "Not Found"}', '{"detail": "Not Found"}'),  # unknown shape: the raw text
        (b"\xff\xfe oops", "\ufffd\ufffd oops"),
    ],
)
def test_error_detail(raw: bytes, expected: str) -> None:
    assert error_detail(raw) == expected


@pytest.mark.parametrize(
    ("body", "text"),
    [(b"", "server error (HTTP 500)"), (b"Bad Gateway", "server error (HTTP 502): Bad Gateway")],
)
async def test_status_message_with_plain_or_empty_body(body: bytes, text: str, make: Make) -> None:
    code = 500 if not body else 502
    transport, _ = counting(status(code, body))
    _, err = await run(make(transport=transport, max_retries=0))
    assert str(err) == text


def test_parse_retry_after_minus_0000_date_is_utc_whatever_the_local_zone() -> None:
    future = time.gmtime(time.time() + 30)
    value = time.strftime("%a, %d %b %Y %H:%M:%S -0000", future)
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"  # UTC+5:30: a naive reading would be hours off
    time.tzset()
    try:
        delay = parse_retry_after({"retry-after": value})
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()
    assert delay is not None and 28.0 < delay <= 30.0


# -- the connection pool, made on first use -------------------------------------------------


def test_making_a_provider_imports_no_httpx() -> None:
    # The first screen builds the provider; httpx and the CA bundle wait for the first request
    # (or the TUI's warm-up thread after the first screen).
    code = (
        "from providers import KINDS, create_provider\n"
        "from providers.settings import ProviderSettings, Secret\n"
        "for kind in KINDS:\n"
        "    create_provider(ProviderSettings(kind=kind, base_url='https://api.example.com',"
        " model='m', api_key=Secret('sk-x')))\n"
    )
    assert loaded_after(code, ["httpx"]) == []


async def test_prepare_from_another_thread_makes_the_one_pool_requests_use(
    server: LoopbackServer, make: Make
) -> None:
    server.script(PATH, Reply(chunks=OK))
    provider = make(server.base_url)
    assert provider._made is None
    await asyncio.gather(*(asyncio.to_thread(provider.prepare) for _ in range(4)))
    pool = provider._made
    assert pool is not None
    events, err = await run(provider)
    assert err is None and events == OK_EVENTS and provider._made is pool
