"""The offline demo: scripted Anthropic-format turns through the real adapter."""

from __future__ import annotations

from providers import create_provider
from providers.accumulate import Accumulator
from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    Message,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from providers.demo import DEMO_FILE, revised
from providers.settings import ProviderSettings


async def turn(*messages: Message) -> AssistantMessage:
    provider = create_provider(ProviderSettings(kind="demo", base_url="", model="demo"), delay=0)
    acc = Accumulator(provider.kind)
    async for event in provider.stream(ChatRequest(messages=messages)):
        acc.add(event)
    await provider.aclose()
    return acc.message()


def wrote(content: str, call_id: str = "toolu_1") -> AssistantMessage:
    call = ToolCall(call_id, "save_file", {"path": "demo/life.py", "content": content})
    return AssistantMessage((TextPart("x"), call), provider="demo", finish_reason="tool_calls")


async def test_first_turn_reasons_explains_and_writes_the_file() -> None:
    message = await turn(UserMessage("hello"))
    assert "offline demo" in message.reasoning.lower() or "demo" in message.reasoning
    assert "# Welcome to chattui" in message.text and "```python" in message.text
    (call,) = message.tool_calls
    assert call.name == "save_file" and call.error is None
    assert call.arguments == {"path": "demo/life.py", "content": DEMO_FILE}
    assert len(DEMO_FILE.splitlines()) > 150
    assert message.finish_reason == "tool_calls"


async def test_after_the_result_it_answers_by_outcome() -> None:
    ok = await turn(
        UserMessage("hello"), wrote(DEMO_FILE), ToolResult("toolu_1", "save_file", "created")
    )
    assert "Done" in ok.text and not ok.tool_calls and ok.finish_reason == "stop"
    refused = await turn(
        UserMessage("hello"),
        wrote(DEMO_FILE),
        ToolResult("toolu_1", "save_file", "refused", is_error=True),
    )
    assert "nothing was written" in refused.text


async def test_a_second_write_revises_the_file_so_the_approval_shows_a_diff() -> None:
    history = (
        UserMessage("hello"),
        wrote(DEMO_FILE),
        ToolResult("toolu_1", "save_file", "created"),
        AssistantMessage((TextPart("Done"),)),
    )
    message = await turn(*history, UserMessage("write the file again"))
    (call,) = message.tool_calls
    assert call.arguments["content"] == revised(DEMO_FILE) != DEMO_FILE
    assert '"blinker"' in call.arguments["content"]


async def test_other_prompts_get_a_short_labelled_answer() -> None:
    history = (UserMessage("hello"), AssistantMessage((TextPart("hi"),)))
    message = await turn(*history, UserMessage("what is [bold]2+2[/]?"))
    assert "demo provider" in message.text and "[bold]2+2[/]" in message.text
    assert not message.tool_calls
