"""Every wire format leaves its connection reusable after an in-band end.

Each adapter stops parsing at its end marker ([DONE], message_stop, response.completed,
a finish reason, done:true); the transport still reads what follows within bounds, so the
tool loop's next request goes over the same connection (on a real API: no new TLS
handshake per step). Real adapters, real socket.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import httpcore._async.http11 as http11
import pytest

from providers import create_provider
from providers.client import KEEPALIVE_SECONDS
from providers.conversation import ChatRequest, UserMessage
from providers.events import Finish, TextDelta
from tests.support.loopback import Reply, loopback
from tests.support.replay import settings_for
from tests.support.wire import KINDS, ROUTES, text_body


@pytest.mark.parametrize("kind", KINDS)
async def test_three_requests_go_over_one_connection(kind: str) -> None:
    prefix, path = ROUTES[kind]
    body = text_body(kind, "hello there", 3)
    with loopback() as server:
        # One HTTP chunk per 40 bytes, so the end marker is not in the body's last read.
        server.script(path, Reply([body[i : i + 40] for i in range(0, len(body), 40)]))
        provider = create_provider(settings_for(kind, server.base_url + prefix))
        try:
            for _ in range(3):
                events = [e async for e in provider.stream(ChatRequest((UserMessage("hi"),)))]
                text = "".join(e.text for e in events if isinstance(e, TextDelta))
                assert text == "hello there" and isinstance(events[-1], Finish)
        finally:
            await provider.aclose()
        ports = [recorded.port for recorded in server.requests]
    assert len(ports) == 3 and len(set(ports)) == 1, ports


@pytest.mark.parametrize(("idle", "connections"), [(30.0, 1), (KEEPALIVE_SECONDS + 1, 2)])
async def test_a_connection_waits_for_the_next_prompt(
    idle: float, connections: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next prompt comes after the answer was read, tens of seconds later: its request
    reuses the connection (httpx's default keeps one 5 s), up to ``KEEPALIVE_SECONDS``."""
    skipped = 0.0  # httpcore's own clock (only it: the event loop keeps real time)
    fake_time = SimpleNamespace(monotonic=lambda: time.monotonic() + skipped)
    monkeypatch.setattr(http11, "time", fake_time)
    prefix, path = ROUTES["openai"]
    with loopback() as server:
        server.script(path, Reply([text_body("openai", "hello there", 3)]))
        provider = create_provider(settings_for("openai", server.base_url + prefix))
        try:
            for _ in range(2):
                events = [e async for e in provider.stream(ChatRequest((UserMessage("hi"),)))]
                assert isinstance(events[-1], Finish)
                skipped += idle
        finally:
            await provider.aclose()
        ports = [recorded.port for recorded in server.requests]
    assert len(ports) == 2 and len(set(ports)) == connections, ports
