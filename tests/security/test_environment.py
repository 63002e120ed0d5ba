"""The process environment must not leak the key or crash chattui (providers/client.py).

Proxies and TLS settings come from the environment (``HTTP_PROXY``, ``ALL_PROXY``,
``SSL_CERT_FILE``...). A plain-http proxy would read the ``Authorization`` header, so a
key is never sent through one; an environment the client cannot be built from is a
one-line error. A server that echoes the key URL-encoded does not get it shown.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from providers import create_provider
from providers.conversation import ChatRequest, UserMessage
from providers.errors import ProviderError, SetupError
from providers.settings import Secret
from tests.faults.harness import Home
from tests.support.loopback import LoopbackServer, Reply, loopback
from tests.support.replay import settings_for

HELLO = b'data: {"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":"stop"}]}\n\n'
ROUTE = "/v1/chat/completions"
REQUEST = ChatRequest((UserMessage("hi"),))


async def answer(base_url: str, key: str = "sk-test-0123456789") -> str:
    provider = create_provider(settings_for("openai", base_url=base_url, api_key=Secret(key)))
    try:
        return "".join([getattr(e, "text", "") async for e in provider.stream(REQUEST)])
    finally:
        await provider.aclose()


async def test_a_loopback_server_is_reached_directly_not_through_the_proxy(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script(ROUTE, Reply([HELLO, b"data: [DONE]\n\n"]))
    with loopback() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        monkeypatch.setenv("ALL_PROXY", proxy.base_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        assert await answer(server.base_url + "/v1") == "Hello"
        assert proxy.requests == []  # before: the proxy got the request, key and all
    assert server.requests[0].headers["Authorization"] == "Bearer sk-test-0123456789"


def test_a_key_is_never_sent_through_a_plain_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://user:pw@proxy.invalid:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(SetupError) as info:
        create_provider(settings_for("openai", base_url="http://models.invalid/v1"))
    message = str(info.value)
    assert message.startswith("refusing to send the API key in clear text through the proxy")
    assert "http://proxy.invalid:3128" in message and "pw" not in message
    assert "NO_PROXY" in message
    monkeypatch.setenv("NO_PROXY", "models.invalid")  # the user's choice: allowed
    create_provider(settings_for("openai", base_url="http://models.invalid/v1"))
    keyless = settings_for("openai", base_url="http://models.invalid/v1", api_key=None)
    monkeypatch.delenv("NO_PROXY")
    create_provider(keyless)  # no key, nothing to leak


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ALL_PROXY", "socks5://127.0.0.1:9", "cannot use the proxy in HTTP_PROXY"),
        ("SSL_CERT_FILE", "/nonexistent/ca.pem", "cannot set up HTTPS from the environment"),
    ],
)
def test_a_broken_proxy_or_tls_environment_is_one_line_not_a_traceback(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    home = Home(tmp_path, "openai", "http://127.0.0.1:9/v1")
    done = home.run("-p", "hi", **{variable: value})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"chattui: {expected}") and done.stderr.count("\n") == 1


async def test_a_key_echoed_url_encoded_is_scrubbed(server: LoopbackServer) -> None:
    key = "sk-live/abc+def=ghi/0123456789"
    body = f'{{"error": {{"message": "bad key {quote(key, safe="")} or {key}"}}}}'.encode()
    server.script(ROUTE, Reply([body], status=401, headers={"Content-Type": "application/json"}))
    with pytest.raises(ProviderError) as info:
        await answer(server.base_url + "/v1", key)
    assert "bad key *** or ***" in str(info.value)
