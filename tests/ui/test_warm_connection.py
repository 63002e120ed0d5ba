"""Typing a prompt opens the API connection, so its request skips the handshakes."""

from __future__ import annotations

from textual import events

from providers import create_provider
from tests.support.loopback import LoopbackServer, Reply
from tests.support.replay import settings_for
from tests.support.wire import text_body
from tests.ui.scripted import idle, make_app, wait_for
from tests.ui.test_models_palette import runtime_for, type_text
from tui.ui.app import WARM_AGAIN

SIZE = (100, 30)
ROUTE = "/v1/chat/completions"


async def test_the_first_key_opens_the_connection_the_request_then_uses(
    server: LoopbackServer, tmp_path, monkeypatch
):
    server.script(ROUTE, Reply([text_body("openai", "hello", 3)]))
    now = [100.0]
    app = make_app(
        runtime_for(tmp_path, monkeypatch, server.base_url + "/v1"), clock=lambda: now[0]
    )
    # Counted when asked for (a HEAD reaches the server only later: a pause proves nothing).
    opened: list[float] = []
    warm = app.runtime.provider.warm_connection

    async def counted() -> bool:
        opened.append(now[0])
        return await warm()

    monkeypatch.setattr(app.runtime.provider, "warm_connection", counted)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt.load_text("text the app puts there (a draft): no sign of a request")
        await pilot.pause()
        assert opened == [] and server.heads == []
        app.prompt.clear()
        await type_text(pilot, "h")
        await wait_for(pilot, lambda: server.heads, what="the connection to be opened")
        await type_text(pilot, "i there")
        await pilot.press("enter")
        await idle(pilot)
        assert opened == [100.0]  # once: the rest of the typing found it open
        (head,) = server.heads
        assert head.path == "/" and "authorization" not in {k.lower() for k in head.headers}
        assert [request.port for request in server.requests] == [head.port]
        # Typed again within the time a kept connection lives: nothing more.
        now[0] += WARM_AGAIN - 1
        await type_text(pilot, "x")
        assert len(opened) == 1
        # Long after the answer: the pool has closed it, so typing opens one again.
        now[0] += 2
        await type_text(pilot, "y")
        assert opened == [100.0, 100.0 + WARM_AGAIN + 1]
        await wait_for(pilot, lambda: len(server.heads) == 2, what="a second opening")


async def test_a_paste_opens_the_connection(server: LoopbackServer, tmp_path, monkeypatch):
    app = make_app(runtime_for(tmp_path, monkeypatch, server.base_url + "/v1"))
    async with app.run_test(size=SIZE) as pilot:
        app.post_message(events.Paste("a pasted question"))  # as the terminal driver does
        await wait_for(pilot, lambda: server.heads, what="the connection to be opened")
        assert app.prompt.text == "a pasted question"


async def test_a_host_that_does_not_answer_is_no_error():
    # Port 9 (discard) on loopback: connection refused.
    provider = create_provider(settings_for("openai", "http://127.0.0.1:9/v1"))
    try:
        assert await provider.warm_connection() is False
    finally:
        await provider.aclose()


async def test_a_given_transport_opens_nothing(server: LoopbackServer):
    # The demo and tests give their own transport: there is no host to open a connection to.
    import httpx

    transport = httpx.AsyncHTTPTransport()
    provider = create_provider(settings_for("openai", server.base_url + "/v1"), transport=transport)
    try:
        assert await provider.warm_connection() is False
        assert server.heads == []
    finally:
        await provider.aclose()


async def test_enter_sends_without_opening_a_connection_of_its_own(
    server: LoopbackServer, tmp_path, monkeypatch
):
    """Enter is a key, but it sends: a connection opened then raced the request (the
    request opened a second one). The request's own connection is the only one."""
    server.script(ROUTE, Reply([text_body("openai", "hello", 3)]))
    app = make_app(runtime_for(tmp_path, monkeypatch, server.base_url + "/v1"))
    opened: list[bool] = []
    warm = app.runtime.provider.warm_connection

    async def counted() -> bool:
        opened.append(True)
        return await warm()

    monkeypatch.setattr(app.runtime.provider, "warm_connection", counted)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt.load_text("a prompt set, not typed")
        await pilot.press("enter")
        await wait_for(pilot, lambda: server.requests, what="the request")
        await idle(pilot)
        assert opened == [] and server.heads == []
