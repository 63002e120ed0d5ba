"""Prices: the bundled table for a known model, a configured price, and no guess otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.conversation import AssistantMessage, TextPart, UserMessage
from providers.events import Finish, TextDelta, Usage
from tests.support.scripted import ScriptedProvider
from tui.core import pricing
from tui.core.pricing import (
    Price,
    Pricer,
    format_tokens,
    format_usd,
    total_cost,
    usage_summary,
)
from tui.core.session import PriceUnknown, Session
from tui.core.tools.registry import ToolRegistry
from tui.core.transcript import TranscriptWriter, load, to_json, to_markdown

SONNET = Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
# 12,300 prompt tokens of which 9,800 read from and 2,000 written to the cache; 640 out.
CACHED = Usage(
    input_tokens=12_300, output_tokens=640, cached_tokens=9_800, cache_write_tokens=2_000
)


def test_a_configured_price_charges_each_kind_of_token_its_rate() -> None:
    expected = (500 * 3.0 + 9_800 * 0.3 + 2_000 * 3.75 + 640 * 15.0) / 1e6
    assert SONNET.cost(CACHED) == pytest.approx(expected)
    assert Pricer("my-local-model", "http://127.0.0.1:8080/v1", SONNET).cost(CACHED) == (
        SONNET.cost(CACHED)
    )


def test_cache_prices_default_to_the_input_price() -> None:
    flat = Price(input=1.0, output=2.0)
    assert flat.cost(CACHED) == pytest.approx((12_300 * 1.0 + 640 * 2.0) / 1e6)


def test_a_request_without_counts_has_no_price() -> None:
    assert SONNET.cost(Usage(output_tokens=5)) is None


def test_the_table_prices_a_known_model_at_its_vendor() -> None:
    pricer = Pricer("claude-sonnet-4-5", "https://api.anthropic.com")
    cost = pricer.cost(CACHED)
    # The table's Sonnet 4.5 rates are the configured ones above (below its 200k tier).
    assert cost == pytest.approx(SONNET.cost(CACHED))
    assert pricer.take_notice() is None


@pytest.mark.parametrize(
    ("model", "base_url"),
    [
        ("qwen2.5-coder", "http://127.0.0.1:8080/v1"),  # a local server: never guessed
        ("claude-sonnet-4-5", "http://127.0.0.1:9"),  # a known name at an unknown server
        ("no-such-model-x", "https://api.openai.com/v1"),
    ],
)
def test_an_unknown_model_has_no_price_and_says_so_once(model: str, base_url: str) -> None:
    pricer = Pricer(model, base_url)
    assert pricer.cost(CACHED) is None
    notice = pricer.take_notice()
    assert notice is not None and "no price is known" in notice and "price =" in notice
    assert pricer.cost(CACHED) is None
    assert pricer.take_notice() is None


def test_formats() -> None:
    assert [format_tokens(n) for n in (None, 640, 12_345, 999_949, 1_234_567)] == [
        "–",
        "640",
        "12.3k",
        "999.9k",
        "1.2M",
    ]
    assert [format_usd(x) for x in (0, 0.00001, 0.0042, 0.0125, 0.41, 12.3, 1234.5)] == [
        "$0.00",
        "<$0.0001",
        "$0.0042",
        "$0.0125",
        "$0.41",
        "$12.30",
        "$1,234.50",
    ]
    assert usage_summary(CACHED) == "in 12.3k (9.8k cached) · out 640"
    assert usage_summary(Usage(10, 5, cached_tokens=0)) == "in 10 · out 5"


def test_total_cost_sums_priced_answers_only() -> None:
    messages = [
        UserMessage("hi"),
        AssistantMessage(usage=Usage(1, 1, cost_usd=0.25)),
        AssistantMessage(usage=Usage(1, 1)),
        AssistantMessage(usage=Usage(1, 1, cost_usd=0.5)),
    ]
    assert total_cost(messages) == 0.75
    assert total_cost([AssistantMessage(usage=Usage(1, 1))]) is None


def _session(tmp_path: Path, provider: ScriptedProvider, pricer: Pricer | None) -> Session:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    transcript = TranscriptWriter.create(
        tmp_path / "data", provider="p", model="m", workspace=str(workspace)
    )
    return Session(provider, ToolRegistry(workspace), transcript, pricer=pricer)


REPORTED = [
    TextDelta("Hi."),
    Usage(input_tokens=12_300, output_tokens=1, cached_tokens=9_800, cache_write_tokens=2_000),
    Usage(output_tokens=640),
    Finish("stop"),
]


async def test_the_session_passes_one_priced_usage_per_request_and_saves_it(
    tmp_path: Path,
) -> None:
    session = _session(tmp_path, ScriptedProvider(REPORTED), Pricer("m", "", SONNET))
    events = [e async for e in session.send("hello")]
    usages = [e for e in events if isinstance(e, Usage)]
    assert usages == [Usage(12_300, 640, None, 9_800, 2_000, SONNET.cost(CACHED))]
    assert events.index(usages[0]) > events.index(REPORTED[-1])  # after the stream ended
    assert isinstance(session.transcript, TranscriptWriter)
    saved = load(session.transcript.path).messages[-1]
    assert isinstance(saved, AssistantMessage) and saved.usage == usages[0]


async def test_an_unknown_price_is_said_once_per_session(tmp_path: Path) -> None:
    session = _session(
        tmp_path, ScriptedProvider(REPORTED), Pricer("local-model", "http://127.0.0.1:9/v1")
    )
    first = [e async for e in session.send("one")]
    second = [e async for e in session.send("two")]
    assert [type(e) for e in first if isinstance(e, Usage | PriceUnknown)] == [Usage, PriceUnknown]
    assert [e.cost_usd for e in first + second if isinstance(e, Usage)] == [None, None]
    assert not [e for e in second if isinstance(e, PriceUnknown)]


def test_exports_show_each_answers_usage_and_the_conversation_cost(tmp_path: Path) -> None:
    writer = TranscriptWriter.create(tmp_path, provider="claude", model="m", workspace="ws")
    writer.append_user(UserMessage("hello"))
    priced = Usage(12_300, 640, cached_tokens=9_800, cost_usd=0.0125)
    writer.finish_partial("s1", AssistantMessage((TextPart("Hi."),), "anthropic", "stop", priced))
    writer.finish_partial("s2", AssistantMessage((TextPart("Again."),), "x", "stop", Usage(5, 6)))
    writer.close()
    transcript = load(writer.path)
    md = to_markdown(transcript)
    assert "- Cost: $0.0125" in md
    assert "Hi.\n\n*in 12.3k (9.8k cached) · out 640 · $0.0125*" in md
    assert "Again.\n\n*in 5 · out 6*" in md
    doc = json.loads(to_json(transcript))
    assert doc["messages"][1]["message"]["usage"]["cost_usd"] == 0.0125


def test_the_price_table_starts_loading_once_as_a_request_starts(monkeypatch) -> None:
    import tui.core.pricing as pricing

    started: list[str] = []

    class Recorder:
        def __init__(self, *, target, name, daemon) -> None:  # type: ignore[no-untyped-def]
            self.name = name

        def start(self) -> None:
            started.append(self.name)

    monkeypatch.setattr(pricing.threading, "Thread", Recorder)
    table = Pricer("claude-x", "https://api.anthropic.com")
    table.warm()
    table.warm()
    assert started == ["price-table"]  # once: later requests find it loaded
    Pricer("m", "https://x", price=Price(input=1.0, output=2.0)).warm()
    Pricer("m", "").warm()
    assert started == ["price-table"]  # a configured price, or no URL: no table needed


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/v1",
        "http://localhost:11434",
        "http://[::1]:8000/v1",
        "http://192.168.1.20:1234/v1",
        "http://ollama:11434",
        "http://gpu-box.local:8000/v1",
    ],
)
def test_a_local_server_never_loads_the_table(base_url: str, monkeypatch) -> None:
    consulted: list[str] = []
    monkeypatch.setattr(pricing, "_load_table", lambda: consulted.append("load"))
    monkeypatch.setattr(pricing, "_table_cost", lambda *a: consulted.append("cost"))
    pricer = Pricer("claude-sonnet-4-5", base_url)
    pricer.warm()
    assert pricer.cost(CACHED) is None and consulted == []
    notice = pricer.take_notice()
    assert notice is not None and "local server" in notice and "price =" in notice


@pytest.mark.parametrize(
    "base_url", ["https://api.anthropic.com", "https://openrouter.ai/api/v1", "http://8.8.8.8/v1"]
)
def test_a_public_server_is_looked_up(base_url: str, monkeypatch) -> None:
    monkeypatch.setattr(pricing, "_table_cost", lambda *a: 0.25)
    assert Pricer("claude-sonnet-4-5", base_url).cost(CACHED) == 0.25


@pytest.mark.parametrize(
    ("pricer", "hops"),
    [
        (Pricer("m", "https://x", price=SONNET), 0),  # a configured price
        (Pricer("local-model", "http://127.0.0.1:9/v1"), 0),  # a local server: no price
        (Pricer("claude-sonnet-4-5", "https://api.anthropic.com"), 1),  # the table
    ],
)
async def test_the_session_prices_off_the_loop_only_when_the_table_is_consulted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pricer: Pricer, hops: int
) -> None:
    # A thread hop as the answer ends lets the UI draw a frame of a turn still running.
    import asyncio

    import tui.core.session as session_module

    threaded: list[object] = []
    to_thread = asyncio.to_thread

    async def recording(func, /, *args):  # type: ignore[no-untyped-def]
        threaded.append(func)
        return await to_thread(func, *args)

    monkeypatch.setattr(session_module.asyncio, "to_thread", recording)
    monkeypatch.setattr(pricing, "_table_cost", lambda *a: 0.25)
    session = _session(tmp_path, ScriptedProvider(REPORTED), pricer)
    events = [e async for e in session.send("hello")]
    assert len(threaded) == hops
    assert [e.cost_usd for e in events if isinstance(e, Usage)] == [
        SONNET.cost(CACHED) if pricer.price else (0.25 if hops else None)
    ]
