"""Provider-layer overhead: events parsed per second versus a plain read of the same bytes.

Three bodies are served from a loopback HTTP server (chunked, 16 KB writes):
a 60 KB Markdown answer in 5-character deltas (OpenAI format), a 200 KB
``save_file`` in 4-character argument fragments (Anthropic format), and the
largest recorded stream in ``tests/fixtures`` (DeepSeek reasoning, 67 KB). For
each: a plain httpx read of the bytes (the floor), the provider layer
(decoder + adapter + accumulator), and ``chattui -p --json`` end to end.

Both reads reuse a client made once per stream (after one warm-up read), so
the ~20 ms an httpx client costs to build (its TLS context) and the event
loop start-up are counted in neither: they are not reading, and counted in
both they only dilute the ratio. ``--cold`` builds a new client and event loop
per read instead, as a first request does. Times are the best of
``--repeats`` runs (plain and provider reads interleaved; the cheap plain
read at least 5 times): on a shared machine, noise only ever adds time.
Counts are of wire events (the SSE events in the body, what the server sent)
and of the events the provider layer yielded: the transport coalesces the
fragments one read carried (``providers.parser``), so with 16 KB reads of an
unpaced server about a hundred wire events become one. ``µs/wire event`` is
what the provider layer adds per wire event: (provider layer - plain read) /
wire events. ``--cpu`` times CPU seconds (this
process, whose thread runs the server, plus the ``chattui`` child) instead
of wall-clock: waiting for a busy CPU is then not counted, so runs on a
loaded machine stay comparable.
Budget: provider layer within 3x of the plain read.
Run: ``python benchmarks/pipe_throughput.py [--markdown] [--repeats N] [--cold] [--cpu]``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import httpx
from _common import ROOT, chattui_command, ms, table

from providers import create_provider
from providers.accumulate import Accumulator
from providers.base import HTTPProvider
from providers.conversation import ChatRequest, UserMessage
from providers.settings import ProviderSettings
from providers.sse import SSEDecoder
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import ROUTES, text_body, tool_call_body

MARKDOWN_UNIT = (
    "## Section\n\nSome **bold** text, a [link](https://example.com) and `code`.\n\n"
    "- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "```python\ndef f(x):\n    return x * 2\n```\n\n"
)
REQUEST = ChatRequest(messages=(UserMessage("go"),))
FLOOR_RUNS = 5  # the plain read is cheap and its noise drives the ratio: never fewer runs


def bodies() -> list[tuple[str, str, bytes]]:
    """(name, kind, body) for each benchmark stream."""
    markdown = (MARKDOWN_UNIT * (60_000 // len(MARKDOWN_UNIT) + 1))[:60_000]
    source = ("def handler(event):\n    return {'ok': True, \"v\": event}\n" * 4000)[:200_000]
    fixture = ROOT / "tests/fixtures/openai-compatible/deepseek-reasoning-content-then-text.sse"
    return [
        ("markdown 60 KB, 5-char deltas", "openai", text_body("openai", markdown, 5)),
        (
            "save_file 200 KB, 4-char fragments",
            "anthropic",
            tool_call_body("anthropic", "save_file", {"path": "a.py", "content": source}, size=4),
        ),
        ("recorded DeepSeek stream 67 KB", "openai", fixture.read_bytes()),
    ]


def wire_events(body: bytes) -> int:
    """How many SSE events ``body`` holds (``[DONE]`` included)."""
    decoder = SSEDecoder()
    return len(decoder.feed(body)) + len(decoder.flush())


def _settings(kind: str, server: LoopbackServer) -> ProviderSettings:
    return ProviderSettings(
        kind=kind, base_url=server.base_url + ROUTES[kind][0], model="test-model", max_retries=0
    )


async def plain_read(client: httpx.AsyncClient, url: str) -> int:
    """Read the body with httpx and nothing else; returns its size."""
    size = 0
    async with client.stream("POST", url, json={}) as response:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    return size


async def provider_read(provider: HTTPProvider) -> int:
    """Decode, adapt and accumulate the body; returns the number of events yielded."""
    acc = Accumulator(provider.kind)
    count = 0
    async for event in provider.stream(REQUEST):
        acc.add(event)
        count += 1
    acc.message()
    return count


Clock = Callable[[], float]


def cpu_clock() -> float:
    """CPU seconds of this process (the loopback server's thread included) and its children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


async def _timed(read: Callable[[], Awaitable[int]], clock: Clock) -> float:
    start = clock()
    await read()
    return clock() - start


async def warm_times(
    kind: str, server: LoopbackServer, repeats: int, clock: Clock
) -> tuple[float, float, int]:
    """Best plain-read and provider-layer seconds with warm clients, and the events yielded."""
    url = server.base_url + ROUTES[kind][1]
    provider = create_provider(_settings(kind, server))
    async with httpx.AsyncClient() as client:
        await plain_read(client, url)  # warm-up: connections, imports, caches
        events = await provider_read(provider)
        floor, layer = float("inf"), float("inf")
        for i in range(max(repeats, FLOOR_RUNS)):
            floor = min(floor, await _timed(lambda: plain_read(client, url), clock))
            if i < repeats:
                layer = min(layer, await _timed(lambda: provider_read(provider), clock))
    await provider.aclose()
    return floor, layer, events


async def _cold_plain(url: str) -> int:
    async with httpx.AsyncClient() as client:
        return await plain_read(client, url)


async def _cold_provider(kind: str, server: LoopbackServer) -> int:
    provider = create_provider(_settings(kind, server))
    try:
        return await provider_read(provider)
    finally:
        await provider.aclose()


def cold_times(
    kind: str, server: LoopbackServer, repeats: int, clock: Clock
) -> tuple[float, float, int]:
    """Like ``warm_times``, but each read builds its own client and event loop."""
    url = server.base_url + ROUTES[kind][1]
    events = asyncio.run(_cold_provider(kind, server))
    floor, layer = float("inf"), float("inf")
    for _ in range(repeats):
        start = clock()
        asyncio.run(_cold_plain(url))
        floor = min(floor, clock() - start)
        start = clock()
        asyncio.run(_cold_provider(kind, server))
        layer = min(layer, clock() - start)
    return floor, layer, events


def pipe_run(kind: str, server: LoopbackServer, tmp: Path, clock: Clock) -> float:
    """Seconds for ``chattui -p --json`` end to end (tools denied, so one request)."""
    config = tmp / "config.toml"
    config.write_text(
        f'[providers.p]\nkind = "{kind}"\nbase_url = "{server.base_url + ROUTES[kind][0]}"\n'
        f'model = "m"\nmax_retries = 0\n[tools]\nworkspace = "{tmp}"\napproval = "deny"\n'
        "max_steps = 1\n"
    )
    env = {"CHATTUI_CONFIG": str(config), "CHATTUI_DATA_DIR": str(tmp / "data"), "PATH": ""}
    start = clock()
    subprocess.run(
        [*chattui_command(), "-p", "go", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        check=False,
    )
    return clock() - start


def rows(repeats: int, cold: bool = False, clock: Clock = time.perf_counter) -> list[list[str]]:
    """One row per stream."""
    out = []
    server = LoopbackServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, kind, body in bodies():
                pieces = [body[i : i + 16384] for i in range(0, len(body), 16384)]
                headers = {"Content-Type": "text/event-stream"}
                server.script(ROUTES[kind][1], Reply(pieces, headers=headers))
                if cold:
                    floor, layer, events = cold_times(kind, server, repeats, clock)
                else:
                    floor, layer, events = asyncio.run(warm_times(kind, server, repeats, clock))
                runs = max(repeats // 2, 1)
                pipe = min(pipe_run(kind, server, Path(tmp), clock) for _ in range(runs))
                wire = wire_events(body)
                out.append(
                    [
                        name,
                        f"{len(body) / 1e6:.2f} MB",
                        f"{wire:,}",
                        f"{events:,}",
                        ms(floor),
                        ms(layer),
                        f"{layer / floor:.1f}x",
                        f"{(layer - floor) / wire * 1e6:.2f}",
                        f"{wire / layer:,.0f}/s",
                        ms(pipe),
                    ]
                )
    finally:
        server.stop()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Print the throughput table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="a new client and loop per read")
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of wall-clock")
    ns = parser.parse_args(argv)
    headers = [
        "stream",
        "bytes",
        "wire events",
        "events out",
        "plain read",
        "provider layer",
        "overhead",
        "µs/wire event",
        "wire events/s",
        "chattui -p --json",
    ]
    clock = cpu_clock if ns.cpu else time.perf_counter
    print(table(headers, rows(ns.repeats, ns.cold, clock), ns.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
