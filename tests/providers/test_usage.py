"""Token usage with cache counts from every wire format, folded to one figure per request."""

from __future__ import annotations

import pytest

from providers.accumulate import fold_usage
from providers.anthropic import usage_event as anthropic_usage
from providers.events import Usage
from tests.support.replay import body_from_fixture, collect, fold, pieces_of
from tests.support.wire import KINDS, usage_body


def test_a_later_report_replaces_counts_and_keeps_those_it_leaves_out() -> None:
    start = Usage(input_tokens=1200, output_tokens=1, cached_tokens=1000, cache_write_tokens=0)
    delta = Usage(output_tokens=64)
    assert fold_usage(start, delta) == Usage(1200, 64, None, 1000, 0)
    assert fold_usage(None, delta) is delta
    # Cumulative counts are never summed: the same report twice is the same figure.
    assert fold_usage(fold_usage(None, start), start) == start


def test_anthropic_cache_reads_and_writes_are_part_of_the_prompt() -> None:
    usage = anthropic_usage(
        {
            "input_tokens": 12,
            "cache_read_input_tokens": 9800,
            "cache_creation_input_tokens": 2500,
            "output_tokens": 640,
        }
    )
    assert usage == Usage(
        input_tokens=12 + 9800 + 2500,
        output_tokens=640,
        cached_tokens=9800,
        cache_write_tokens=2500,
    )


REPORTS = {  # how many usage reports each format sends for one request
    "openai": 1,
    "openai-responses": 1,
    "anthropic": 2,  # message_start, message_delta
    "gemini": 4,  # every chunk (four here)
    "ollama": 1,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [7, 10_000])
async def test_every_format_reports_cached_tokens_once_folded(kind: str, size: int) -> None:
    body = usage_body(kind, "Cached answer.", prompt=12_300, cached=9_800, output=640)
    events = await collect(kind, pieces_of(body, size))
    reports = [e for e in events if isinstance(e, Usage)]
    assert len(reports) == REPORTS[kind]
    usage = fold(kind, events).usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens) == (12_300, 640)
    # Ollama's API has no cache count; every other format reports one.
    assert usage.cached_tokens == (None if kind == "ollama" else 9_800)


RECORDED = [  # (kind, fixture, cached tokens as recorded)
    ("anthropic", "anthropic/text.sse", 0),
    ("anthropic", "anthropic/thinking-signature-then-tool-use.sse", 0),
    ("openai", "openai-compatible/deepseek-reasoning-then-tool-call.chunks.txt", 320),
    ("openai", "openai-compatible/xai-reasoning-then-whole-tool-call.chunks.txt", 306),
    ("openai", "openai-compatible/mistral-incremental-tool-call-empty-name.chunks.txt", 128),
    ("openai", "openai-chat/text-after-tool-result-usage.sse", 0),
    ("openai-responses", "openai-responses/text.sse", 0),
]


@pytest.mark.parametrize(("kind", "fixture", "cached"), RECORDED)
async def test_recorded_bodies_carry_their_cache_counts(
    kind: str, fixture: str, cached: int
) -> None:
    events = await collect(kind, [body_from_fixture(fixture)])
    usage = fold(kind, events).usage
    assert usage is not None and usage.cached_tokens == cached
    if kind == "anthropic":
        assert usage.cache_write_tokens == 0


async def test_gemini_recorded_usage_on_every_chunk_is_one_figure() -> None:
    fixture = "gemini/sse-thought-parts-then-text.sse"
    events = await collect("gemini", [body_from_fixture(fixture)])
    reports = [e for e in events if isinstance(e, Usage)]
    usage = fold("gemini", events).usage
    assert len(reports) > 1 and usage is not None
    assert usage.output_tokens == reports[-1].output_tokens  # the last, never a sum
