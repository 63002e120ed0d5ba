"""API keys never reach a log, a crash screen, a transcript or the terminal (T31, T32, T34).

The key is made at run time (``tests.faults.harness.KEY``), so no source line
quoted by a rendered traceback contains it, and it is never bound to a local
variable of these tests (Rich prints the locals of every frame).
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from rich.pretty import pretty_repr
from rich.traceback import Traceback

from providers import create_provider
from providers.conversation import ChatRequest, UserMessage
from providers.errors import ProviderError
from providers.settings import ProviderSettings, Secret
from tests.faults.harness import KEY, KEY_ENV, Home, collect
from tests.support.loopback import LoopbackServer, Reply
from tui.core.config import load_config
from tui.core.keys import resolve_settings

# Every adapter that sends a key, with the path its loopback request goes to.
KEYED = {
    "openai": "/v1/chat/completions",
    "openai-responses": "/v1/responses",
    "anthropic": "/v1/messages",
    "gemini": "/v1/models/m:streamGenerateContent",
}
TAIL = KEY[-12:]  # a recognisable piece: catches a key shown cut short, too
REQUEST = ChatRequest((UserMessage("hi"),))


def settings(kind: str, base_url: str, key: str | None = None) -> ProviderSettings:
    return ProviderSettings(
        kind=kind,
        base_url=base_url + ("" if kind == "anthropic" else "/v1"),
        model="m",
        api_key=Secret(key or KEY),
        key_source=f"${KEY_ENV}",
        max_retries=0,
    )


async def drain(provider: Any) -> None:
    """Consume one request; ``ProviderError`` is the normal way to fail."""
    try:
        async for _ in provider.stream(REQUEST):
            pass
    except ProviderError:
        pass
    finally:
        await provider.aclose()


def rendered(exc: BaseException) -> str:
    """The traceback as Textual's crash screen renders it: with every frame's locals."""
    console = Console(file=io.StringIO(), width=240, color_system=None)
    console.print(
        Traceback.from_exception(type(exc), exc, exc.__traceback__, show_locals=True, width=240)
    )
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Everything logged at DEBUG, httpx and httpcore included, goes to a file."""
    path = tmp_path / "debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    names = ("httpx", "httpcore", "asyncio")
    saved = root.level, {n: logging.getLogger(n).level for n in names}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


# -- T31: logs ------------------------------------------------------------------------------------


async def test_debug_logs_of_every_outcome_hold_no_key(
    server: LoopbackServer, debug_log: Path
) -> None:
    echo = json.dumps({"error": {"message": f"invalid key {KEY}"}}).encode()
    outcomes = {
        "ok": Reply(
            [
                b'data: {"choices":[{"index":0,"delta":{"content":"hi"},'
                b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
            ]
        ),
        "401 echoing the key": Reply(
            [echo], status=401, headers={"Content-Type": "application/json"}
        ),
        "dropped": Reply(
            [b'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n', b"never"], drop_after=1
        ),
    }
    for reply in outcomes.values():
        server.script("/v1/chat/completions", reply)
        await drain(create_provider(settings("openai", server.base_url)))
    for kind, path in KEYED.items():  # every adapter's auth header, logged at DEBUG
        server.script(path, Reply([echo], status=401))
        await drain(create_provider(settings(kind, server.base_url)))
    assert len(server.requests) == 3 + len(KEYED)
    assert all(KEY in json.dumps(r.headers) for r in server.requests)  # it was sent
    log = debug_log.read_text(encoding="utf-8")
    assert "send_request_headers" in log and "HTTP Request: POST" in log  # logging was on
    assert KEY not in log and TAIL not in log


# -- T31: crash screen locals ---------------------------------------------------------------------


class Boom(Exception):
    """An unexpected error inside the transport: not mapped, so it reaches the crash screen."""


def exploding(request: httpx.Request) -> httpx.Response:
    assert KEY in str(request.headers.raw)  # the key really is on the request
    raise Boom("the transport broke")


@pytest.mark.parametrize("kind", KEYED)
async def test_crash_screen_locals_never_show_the_key(kind: str) -> None:
    provider = create_provider(
        settings(kind, "http://127.0.0.1:9"), transport=httpx.MockTransport(exploding)
    )
    with pytest.raises(Boom) as caught:
        async for _ in provider.stream(REQUEST):
            pass
    await provider.aclose()
    text = rendered(caught.value)
    assert "the transport broke" in text and "request = <Request('POST'" in text  # locals shown
    assert KEY not in text and TAIL not in text


async def test_crash_inside_a_session_request_never_shows_the_key(tmp_path: Path) -> None:
    home = Home(tmp_path, "anthropic", "http://127.0.0.1:9")
    runtime = home.start(transport=httpx.MockTransport(exploding))
    with pytest.raises(Boom) as caught:
        await collect(runtime.session.send("hello"))
    await runtime.provider.aclose()
    runtime.transcript.close()
    text = rendered(caught.value)
    assert "session" in text and "the transport broke" in text
    assert KEY not in text and TAIL not in text
    assert home.files_hold(KEY) == []


@pytest.mark.parametrize("bad", ["\u2019", "\n", "\x00"])
async def test_key_that_cannot_go_in_a_header_is_a_clean_error(
    bad: str, server: LoopbackServer
) -> None:
    """A pasted key with a curly quote or a line break: an error naming its source.

    Before the fix, httpx raised UnicodeEncodeError with the key in its locals,
    and h11 raised "Illegal header value b'sk-...'" with the key in the message.
    """
    # built inline, never bound to a local: the rendered locals below would show it
    provider = create_provider(
        settings("anthropic", server.base_url, key=KEY[:10] + bad + KEY[10:])
    )
    with pytest.raises(ProviderError) as caught:
        async for _ in provider.stream(REQUEST):
            pass
    await provider.aclose()
    assert str(caught.value) == (
        f"the API key (${KEY_ENV}) cannot be sent: it contains a control or non-ASCII character"
    )
    text = rendered(caught.value)
    assert "cannot be sent" in text and KEY[10:] not in text
    assert server.requests == []  # refused before anything was sent


# -- reprs ---------------------------------------------------------------------------------------


async def test_reprs_of_everything_holding_a_key_hide_it(tmp_path: Path) -> None:
    home = Home(tmp_path, "openai", "http://127.0.0.1:9/v1")
    home.config.write_text(
        home.config.read_text() + '\n[providers.lit]\nkind = "anthropic"\n'
        f'api_key = "{KEY}"\nheaders = {{ Authorization = "Bearer {KEY}" }}\n'
    )
    home.config.chmod(0o600)
    config = load_config(home.config, env=home.env())
    runtime = home.start()
    try:
        objects: list[Any] = [
            config,
            config.provider("lit"),
            resolve_settings(config.provider("p"), env=home.env()),
            resolve_settings(config.provider("lit"), env=home.env()),
            runtime.provider,
            runtime.session,
            runtime,
        ]
        for obj in objects:
            # repr and str, and Rich's pretty form (what crash-screen locals show)
            for shown in (repr(obj), str(obj), pretty_repr(obj)):
                assert KEY not in shown and TAIL not in shown, type(obj)
        assert runtime.provider.settings.api_key == Secret(KEY)  # the key is really in there
    finally:
        await runtime.provider.aclose()
        runtime.transcript.close()


# -- T32, T34: transcripts, exports and key sources, through the real command ---------------------


def test_no_key_in_output_transcript_or_export_after_a_401(
    server: LoopbackServer, tmp_path: Path
) -> None:
    echo = json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}}).encode()
    server.script("/v1/chat/completions", Reply([echo], status=401))
    home = Home(tmp_path, "openai", server.base_url + "/v1")
    done = home.run("-p", "hello")
    assert done.returncode == 1 and "Incorrect API key provided: ***" in done.stderr
    assert "check the API key ($TEST_API_KEY)" in done.stderr
    exports = [home.run("export", "latest", "--format", fmt) for fmt in ("md", "json")]
    assert all(e.returncode == 0 and "hello" in e.stdout for e in exports)
    assert KEY in json.dumps(server.requests[0].headers)  # it was sent, and only there
    outputs = [done.stdout, done.stderr, *(e.stdout + e.stderr for e in exports)]
    assert not any(KEY in out or TAIL in out for out in outputs)
    assert home.files_hold(KEY) == [] and home.files_hold(TAIL) == []


def test_failing_key_command_shows_neither_its_stderr_nor_its_output(tmp_path: Path) -> None:
    home = Home(tmp_path, "openai", "http://127.0.0.1:9/v1")
    script = f"import sys; print({KEY!r}); sys.stderr.write('bad key {KEY}\\n'); sys.exit(3)"
    text = home.config.read_text().replace(
        'api_key_env = "TEST_API_KEY"',
        f"api_key_cmd = [{json.dumps(sys.executable)}, '-c', {json.dumps(script)}]",
    )
    home.config.write_text(text)
    done = home.run("-p", "hi")
    assert done.returncode == 2
    assert "api_key_cmd" in done.stderr and "exited with status 3" in done.stderr
    assert KEY not in done.stdout + done.stderr
    assert home.config.read_text() == text  # the file that names the command is untouched


def test_unset_key_variable_is_named_not_guessed(tmp_path: Path) -> None:
    home = Home(tmp_path, "anthropic", "http://127.0.0.1:9")
    done = home.run("-p", "hi", TEST_API_KEY="")
    assert done.returncode == 2
    assert "environment variable TEST_API_KEY is not set" in done.stderr
    assert "Traceback" not in done.stderr
