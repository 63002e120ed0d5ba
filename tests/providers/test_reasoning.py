"""Reasoning effort in each wire format's own field, as the loopback server receives it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from providers import create_provider
from providers.anthropic import DEFAULT_MAX_TOKENS, thinking_config
from providers.conversation import REASONING_LEVELS, ChatRequest, Reasoning, UserMessage
from providers.errors import BadRequestError
from tests.support.loopback import LoopbackServer, Reply
from tests.support.replay import settings_for
from tests.support.wire import KINDS, ROUTES, text_body

# What each format must carry for each level (None: the field is absent).
EXPECTED: dict[str, dict[Reasoning, Any]] = {
    "openai": {"off": "none", "low": "low", "medium": "medium", "high": "high"},
    "openai-responses": {
        level: {"effort": "none" if level == "off" else level} for level in REASONING_LEVELS
    },
    "anthropic": {
        "off": {"type": "disabled"},
        "low": {"type": "enabled", "budget_tokens": 2048},
        "medium": {"type": "enabled", "budget_tokens": 8192},
        "high": {"type": "enabled", "budget_tokens": 24576},
    },
    "gemini": {
        level: {"includeThoughts": True, "thinkingBudget": budget}
        for level, budget in zip(REASONING_LEVELS, (0, 1024, 8192, 24576), strict=True)
    },
    "ollama": {"off": False, "low": True, "medium": True, "high": True},
}


def _field(kind: str, body: dict[str, Any]) -> Any:
    """The reasoning field of a request body, where ``kind`` puts it."""
    match kind:
        case "openai":
            return body.get("reasoning_effort")
        case "openai-responses":
            return body.get("reasoning")
        case "anthropic":
            return body.get("thinking")
        case "gemini":
            return body["generationConfig"]["thinkingConfig"]
        case _:
            return body.get("think")


async def _send(server: LoopbackServer, kind: str, request: ChatRequest, **kw: Any) -> Any:
    content_type = "application/x-ndjson" if kind == "ollama" else "text/event-stream"
    reply = Reply([text_body(kind, "ok")], headers={"Content-Type": content_type})
    server.script(ROUTES[kind][1], reply)
    base = server.base_url + ROUTES[kind][0]
    provider = create_provider(settings_for(kind, base_url=base, max_retries=0, **kw))
    try:
        async for _ in provider.stream(request):
            pass
    finally:
        await provider.aclose()
    return server.requests[-1].json()


@pytest.mark.parametrize("kind", KINDS)
async def test_each_level_reaches_the_wire_in_the_formats_own_shape(
    kind: str, server: LoopbackServer
) -> None:
    for level in REASONING_LEVELS:
        request = ChatRequest((UserMessage("think"),), reasoning=level)
        body = await _send(server, kind, request)
        assert _field(kind, body) == EXPECTED[kind][level], level


@pytest.mark.parametrize("kind", KINDS)
async def test_no_setting_sends_no_field(kind: str, server: LoopbackServer) -> None:
    body = await _send(server, kind, ChatRequest((UserMessage("hi"),)))
    default = {"includeThoughts": True} if kind == "gemini" else None
    assert _field(kind, body) == default


async def test_ollama_gives_gpt_oss_the_level_itself(server: LoopbackServer) -> None:
    server.script(ROUTES["ollama"][1], Reply([text_body("ollama", "ok")]))
    settings = replace(settings_for("ollama", base_url=server.base_url), model="gpt-oss:20b")
    provider = create_provider(settings)
    try:
        async for _ in provider.stream(ChatRequest((UserMessage("hi"),), reasoning="high")):
            pass
    finally:
        await provider.aclose()
    assert server.requests[-1].json()["think"] == "high"


def test_anthropic_keeps_the_budget_below_max_tokens() -> None:
    # No configured cap: the default cap grows by the budget.
    assert thinking_config("high", None) == (
        {"type": "enabled", "budget_tokens": 24576},
        DEFAULT_MAX_TOKENS + 24576,
    )
    # A configured cap is kept; a budget it cannot hold is cut to half the cap.
    assert thinking_config("high", 16000) == ({"type": "enabled", "budget_tokens": 8000}, 16000)
    assert thinking_config("low", 16000) == ({"type": "enabled", "budget_tokens": 2048}, 16000)
    assert thinking_config(None, None) == (None, DEFAULT_MAX_TOKENS)


async def test_a_refused_request_names_the_reasoning_setting(server: LoopbackServer) -> None:
    error = b'{"error": {"message": "Unrecognized request argument: reasoning_effort"}}'
    server.script(
        ROUTES["openai"][1],
        Reply([error], status=400, headers={"Content-Type": "application/json"}),
    )
    provider = create_provider(settings_for("openai", base_url=server.base_url + "/v1"))
    with pytest.raises(BadRequestError) as caught:
        async for _ in provider.stream(ChatRequest((UserMessage("hi"),), reasoning="high")):
            pass
    await provider.aclose()
    message = str(caught.value)
    assert "Unrecognized request argument" in message and 'reasoning = "high"' in message
