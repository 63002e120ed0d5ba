"""Model lists over a real loopback socket: each API's endpoint, paging, 404, limits, keys."""

from __future__ import annotations

import json

import pytest

from providers import create_provider
from providers.errors import AuthError, StreamError
from providers.models import MAX_NAME, ModelsUnavailable, list_models
from providers.settings import ProviderSettings, Secret
from tests.support.loopback import Reply, loopback

KEY = "sk-test-models-0123456789"
JSON = {"Content-Type": "application/json"}


def reply(data: object, status: int = 200) -> Reply:
    return Reply([json.dumps(data).encode()], status=status, headers=JSON)


def provider(kind: str, base_url: str):
    settings = ProviderSettings(kind, base_url, "current", api_key=Secret(KEY), key_source="$K")
    return create_provider(settings)


async def listed(kind: str, base_url: str) -> list[tuple[str, str]]:
    adapter = provider(kind, base_url)
    try:
        return [(m.id, m.label) for m in await list_models(adapter)]
    finally:
        await adapter.aclose()


@pytest.mark.parametrize("kind", ["openai", "openai-responses"])
async def test_openai_compatible_lists_data_ids_with_a_bearer_key(kind):
    with loopback() as server:
        server.script("/v1/models", reply({"object": "list", "data": [{"id": "b"}, {"id": "a"}]}))
        assert await listed(kind, server.base_url + "/v1") == [("a", ""), ("b", "")]
        request = server.requests[0]
        assert (request.method, request.path) == ("GET", "/v1/models")
        assert request.headers["Authorization"] == f"Bearer {KEY}"


async def test_anthropic_pages_through_has_more_with_its_own_headers():
    first = {
        "data": [{"id": "claude-a", "display_name": "Claude A"}],
        "has_more": True,
        "last_id": "claude-a",
    }
    second = {"data": [{"id": "claude-b", "display_name": "Claude B"}], "has_more": False}
    with loopback() as server:
        server.script("/v1/models", reply(first), reply(second))
        found = await listed("anthropic", server.base_url)
        assert found == [("claude-a", "Claude A"), ("claude-b", "Claude B")]
        paths = [r.path for r in server.requests]
        assert paths == ["/v1/models?limit=1000", "/v1/models?limit=1000&after_id=claude-a"]
        assert server.requests[0].headers["x-api-key"] == KEY
        assert "anthropic-version" in server.requests[0].headers


async def test_gemini_keeps_chat_models_drops_the_prefix_and_follows_the_page_token():
    first = {
        "models": [
            {
                "name": "models/gemini-2.5-flash",
                "displayName": "Gemini 2.5 Flash",
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            },
            {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]},
        ],
        "nextPageToken": "tok/1",
    }
    second = {"models": [{"name": "models/gemini-2.5-pro"}]}
    with loopback() as server:
        server.script("/v1beta/models", reply(first), reply(second))
        found = await listed("gemini", server.base_url + "/v1beta")
        assert found == [("gemini-2.5-flash", "Gemini 2.5 Flash"), ("gemini-2.5-pro", "")]
        assert server.requests[1].path == "/v1beta/models?pageSize=1000&pageToken=tok%2F1"
        assert server.requests[0].headers["x-goog-api-key"] == KEY


async def test_ollama_lists_its_tags():
    tags = {"models": [{"name": "qwen3:8b", "model": "qwen3:8b"}, {"model": "llama3.2:latest"}]}
    with loopback() as server:
        server.script("/api/tags", reply(tags))
        found = await listed("ollama", server.base_url)
        assert found == [("llama3.2:latest", ""), ("qwen3:8b", "")]


async def test_the_demo_lists_its_one_model_without_a_request():
    adapter = create_provider(ProviderSettings("demo", "", "demo"))
    try:
        assert [m.id for m in await list_models(adapter)] == ["demo"]
    finally:
        await adapter.aclose()


@pytest.mark.parametrize("status", [404, 405])
async def test_a_server_without_the_endpoint_is_a_clear_error(status):
    with loopback() as server:
        server.script("/v1/models", reply({"error": "not found"}, status=status))
        with pytest.raises(ModelsUnavailable) as caught:
            await listed("openai", server.base_url + "/v1")
    message = str(caught.value)
    assert f"HTTP {status}" in message and "/v1/models" in message
    assert "type the model" in message


async def test_a_refused_key_names_its_source_never_its_value():
    with loopback() as server:
        server.script("/v1/models", reply({"error": {"message": f"bad key {KEY}"}}, status=401))
        with pytest.raises(AuthError) as caught:
            await listed("openai", server.base_url + "/v1")
    assert "$K" in str(caught.value) and KEY not in str(caught.value)


async def test_hostile_or_malformed_entries_are_dropped():
    data = {
        "data": [
            {"id": "ok-model"},
            {"id": "evil\x1b]52;c;AAAA\x07"},
            {"id": "x" * (MAX_NAME + 1)},
            {"id": 7},
            "not an object",
            {"id": "ok-model"},  # duplicates are listed once
        ]
    }
    with loopback() as server:
        server.script("/v1/models", reply(data))
        assert await listed("openai", server.base_url + "/v1") == [("ok-model", "")]


async def test_a_body_over_the_cap_or_not_json_is_an_error(monkeypatch):
    from providers import base

    monkeypatch.setattr(base, "GET_MAX_BYTES", 1000)
    with loopback() as server:
        server.script("/v1/models", Reply([b"[" + b"0," * 600 + b"0]"], headers=JSON))
        adapter = provider("openai", server.base_url + "/v1")
        try:
            with pytest.raises(StreamError, match="over 1,000 bytes"):
                await adapter.get_json(server.base_url + "/v1/models", max_bytes=1000)
        finally:
            await adapter.aclose()
        server.script("/v1/models", Reply([b"<html>"], headers=JSON))
        with pytest.raises(StreamError, match="not JSON"):
            await listed("openai", server.base_url + "/v1")


async def test_a_silent_server_times_out():
    with loopback() as server:
        server.script("/v1/models", Reply([b"{", b"}"], stall_after=1, stall_seconds=3))
        adapter = provider("openai", server.base_url + "/v1")
        try:
            with pytest.raises(Exception, match="no answer from 127.0.0.1 within 0.2 s"):
                await adapter.get_json(server.base_url + "/v1/models", timeout=0.2)
        finally:
            await adapter.aclose()
