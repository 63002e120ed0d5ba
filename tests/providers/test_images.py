"""Images attached to a prompt reach each wire format in its own shape (over a real socket).

The loopback server records the request and answers 404; only the body sent matters here.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from providers import create_provider
from providers.conversation import ChatRequest, ImagePart, UserMessage
from providers.errors import ProviderError
from providers.settings import ProviderSettings, Secret
from tests.support.loopback import loopback

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg bytes"
B64 = base64.b64encode(PNG).decode()
QUESTION = UserMessage(
    "what is in these?", (ImagePart("image/png", PNG, "shot.png"), ImagePart("image/jpeg", JPEG))
)


async def sent_body(kind: str, message: UserMessage = QUESTION) -> Any:
    with loopback() as server:
        base = server.base_url + ("/v1" if kind.startswith("openai") else "")
        settings = ProviderSettings(kind, base, "m", api_key=Secret("k"), key_source="$K")
        adapter = create_provider(settings)
        try:
            with pytest.raises(ProviderError):
                async for _ in adapter.stream(ChatRequest((message,))):
                    pass
        finally:
            await adapter.aclose()
        (request,) = server.requests
        return request.json()


async def test_openai_chat_sends_a_content_array_with_data_urls() -> None:
    body = await sent_body("openai")
    (user,) = body["messages"]
    assert user["content"] == [
        {"type": "text", "text": "what is in these?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64}"}},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()},
        },
    ]


async def test_openai_chat_keeps_a_plain_string_without_images() -> None:
    body = await sent_body("openai", UserMessage("hi"))
    assert body["messages"] == [{"role": "user", "content": "hi"}]


async def test_responses_sends_input_image_items() -> None:
    body = await sent_body("openai-responses")
    (user,) = body["input"]
    assert user["content"][0] == {"type": "input_text", "text": "what is in these?"}
    assert user["content"][1] == {
        "type": "input_image",
        "image_url": f"data:image/png;base64,{B64}",
    }
    assert user["content"][2]["image_url"].startswith("data:image/jpeg;base64,")


async def test_anthropic_sends_base64_image_sources_before_the_text() -> None:
    body = await sent_body("anthropic")
    (user,) = body["messages"]
    assert user["content"][0] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": B64},
    }
    assert user["content"][1]["source"]["media_type"] == "image/jpeg"
    text = user["content"][2]  # it may also carry a prompt-caching mark
    assert (text["type"], text["text"]) == ("text", "what is in these?")


async def test_gemini_sends_inline_data_parts() -> None:
    body = await sent_body("gemini")
    (user,) = body["contents"]
    assert user["parts"][0] == {"text": "what is in these?"}
    assert user["parts"][1] == {"inline_data": {"mime_type": "image/png", "data": B64}}
    assert user["parts"][2]["inline_data"]["mime_type"] == "image/jpeg"


async def test_ollama_sends_an_images_list_of_base64() -> None:
    body = await sent_body("ollama")
    (user,) = body["messages"]
    assert user == {
        "role": "user",
        "content": "what is in these?",
        "images": [B64, base64.b64encode(JPEG).decode()],
    }
