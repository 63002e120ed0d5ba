"""Anthropic Messages API (``POST /v1/messages`` with ``stream: true``).

Request side: content blocks, with thinking and redacted-thinking blocks
echoed verbatim (only to Anthropic, which signed them), tool results grouped
into the user turn that follows the calls, and ``eager_input_streaming`` on
every tool so argument fragments stream as they are generated (the fragments
may then form invalid JSON; the accumulator marks such calls, it never guesses).
Prompt caching (``ProviderSettings.prompt_cache``) marks cache breakpoints
(``mark_cache_breakpoints``); reasoning maps to a thinking budget
(``thinking_config``).

Response side, per docs.claude.com/en/api/messages-streaming and the recorded
streams in ``tests/fixtures/anthropic/``:

* events are told apart by the ``type`` inside ``data`` (the JSON is
  right-padded with spaces, ``ping`` is spelled ``{"type": "ping"}``), never
  by string comparison; unknown types are ignored;
* block ``index`` counts every block (text, thinking, server tools and their
  results), so calls are keyed by it and mapped to ordinals by ``ToolCalls``;
* server tools (``server_tool_use`` and ``*_tool_result`` blocks) run on
  Anthropic's side: they are not client calls and are skipped, while the text
  around them is kept. They are therefore not echoed in the next request,
  which matters only for ``pause_turn`` continuations of server-tool loops;
* usage is cumulative: ``message_start`` usage merged with each
  ``message_delta`` usage, last value wins, never summed;
* the finish reason arrives in ``message_delta`` but the response is only
  complete at ``message_stop``; a body without it is an ``IncompleteResponse``;
* ``event: error`` after HTTP 200 (``overloaded_error`` …) raises; a second
  ``message_start`` means a proxy spliced a retried generation into the body
  (vercel/ai#18331) and raises too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from providers.base import HTTPProvider
from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    Message,
    Reasoning,
    ReasoningPart,
    TextPart,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)
from providers.errors import StreamError
from providers.events import Finish, FinishReason, ReasoningSignature, Usage
from providers.fastpath import INDEX, HotEvents, Sink, ignore, template
from providers.parser import SSEParser
from providers.payloads import describe_error, loads_event
from providers.toolcalls import ToolCalls

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 8192  # the API refuses requests without max_tokens
THINKING_BUDGETS: dict[Reasoning, int] = {"low": 2048, "medium": 8192, "high": 24576}
"""Thinking tokens per reasoning level (``budget_tokens``; the API's minimum is 1024)."""
MIN_THINKING_BUDGET = 1024
EPHEMERAL = {"type": "ephemeral"}  # the only cache_control type (five-minute lifetime)

STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
    "pause_turn": "pause",
}
RETRYABLE_ERRORS = {"overloaded_error", "api_error", "rate_limit_error"}

ErrorFactory = Callable[..., StreamError]

# The hot shape (providers.fastpath): a text or argument fragment of one block.
HOT_HEAD = template(
    r'(?:event: content_block_delta\n)?data: ~\{~"type"~:~"content_block_delta"~,~"index"~:~'
    + INDEX
    + r'~,~"delta"~:~\{~"type"~:~"(?:(text)_delta"~,~"text|input_json_delta"~,~"partial_json)"~:~"'
)
HOT_TAIL = template(r'"~\}~\}~\n\n')


class Anthropic(HTTPProvider):
    """Adapter for the Anthropic Messages API."""

    kind = "anthropic"

    def url(self) -> str:
        """``{base_url}/v1/messages``; a base URL already ending in ``/v1`` is accepted."""
        base = self.settings.base_url.rstrip("/").removesuffix("/v1")
        return f"{base}/v1/messages"

    def auth_headers(self) -> dict[str, str]:
        """``x-api-key`` (not Bearer) plus the pinned API version."""
        headers = {"anthropic-version": API_VERSION}
        if self.settings.api_key:
            headers["x-api-key"] = self.settings.api_key.reveal()
        return headers

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The Messages API body for ``request``."""
        thinking, max_tokens = thinking_config(
            request.reasoning, request.max_tokens or self.settings.max_tokens
        )
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "stream": True,
            "messages": build_messages(request.messages, {Anthropic.kind, self.kind}),
        }
        if thinking is not None:
            body["thinking"] = thinking
        if request.system:
            body["system"] = request.system
        if request.tools:
            body["tools"] = [tool_definition(tool) for tool in request.tools]
        if self.settings.prompt_cache:
            mark_cache_breakpoints(body)
        return body

    def parser(self) -> AnthropicStream:
        """A parser for one Messages SSE body; see the module docstring for the rules."""
        return AnthropicStream(self.stream_error)


def thinking_config(
    reasoning: Reasoning | None, max_tokens: int | None
) -> tuple[dict[str, Any] | None, int]:
    """The ``thinking`` field for a reasoning level, and the ``max_tokens`` to send with it.

    The budget counts against ``max_tokens`` and must stay below it: with no
    configured cap the default cap is raised by the budget; a configured cap
    at or below the budget halves the budget instead (never below the API's
    minimum, so a tiny cap gets the API's own error, which names both).
    """
    if reasoning is None:
        return None, max_tokens or DEFAULT_MAX_TOKENS
    if reasoning == "off":
        return {"type": "disabled"}, max_tokens or DEFAULT_MAX_TOKENS
    budget = THINKING_BUDGETS[reasoning]
    if max_tokens is None:
        max_tokens = DEFAULT_MAX_TOKENS + budget
    elif max_tokens <= budget:
        budget = max(MIN_THINKING_BUDGET, max_tokens // 2)
    return {"type": "enabled", "budget_tokens": budget}, max_tokens


def mark_cache_breakpoints(body: dict[str, Any]) -> None:
    """Mark ``body``'s stable prefix for Anthropic's prompt cache (at most four marks).

    The cache key is the prefix up to a marked block, in the order tools,
    system, messages. Marks go on the last tool, the system prompt, and the
    last block of the two newest user turns: the newest writes this request's
    whole prompt to the cache, and the one before it is where the previous
    request of the loop put its mark, so that prefix is read back (billed at
    a tenth) even when the newest turn added many blocks. Each request moves
    the two message marks forward; older marks are not kept, so the total
    never passes the API's limit of four.
    """
    tools = body.get("tools")
    if tools:
        tools[-1] = {**tools[-1], "cache_control": EPHEMERAL}
    system = body.get("system")
    if isinstance(system, str) and system:
        body["system"] = [{"type": "text", "text": system, "cache_control": EPHEMERAL}]
    user_turns = [m for m in body["messages"] if m["role"] == "user" and m["content"]]
    for message in user_turns[-2:]:
        message["content"][-1] = {**message["content"][-1], "cache_control": EPHEMERAL}


class AnthropicStream(SSEParser):
    """What one response has said so far: open blocks, calls, usage, stop reason.

    Args:
        error: builds the ``StreamError`` for an error reported in the stream.
    """

    def __init__(self, error: ErrorFactory) -> None:
        super().__init__(HotEvents(HOT_HEAD, HOT_TAIL, self._hot_target))
        self._error = error
        self.calls = ToolCalls()
        self.blocks: dict[Any, str] = {}  # open block index -> block type
        self.usage: dict[str, Any] = {}
        self.started = False
        self.stop_reason: str | None = None

    INCOMPLETE = "response incomplete: the stream ended before message_stop"

    def _sse_event(self, event: str, text: str) -> bool:
        data = loads_event(text, self._error)
        if not isinstance(data, dict):
            raise self._error(f"unexpected event data: {text[:60]!r}")
        kind = data.get("type")
        if kind == "content_block_delta" and event != "error":  # nearly every event
            delta = data.get("delta") or {}
            self._block_delta(data.get("index"), delta.get("type"), delta)
            return False
        if kind == "error" or event == "error":
            raise self._error_event(data)
        if kind == "content_block_start":
            self._block_start(data.get("index"), data.get("content_block") or {})
        elif kind == "content_block_stop":
            if self.blocks.pop(data.get("index"), None) == "tool_use":
                end = self.calls.end(data.get("index"))
                if end is not None:
                    self.out.add(end)
        elif kind == "message_start":
            if self.started:
                raise self._error("spliced stream: a second message_start arrived mid-response")
            self.started = True
            self._usage((data.get("message") or {}).get("usage"))
        elif kind == "message_delta":
            delta = data.get("delta") or {}
            self.stop_reason = delta.get("stop_reason") or self.stop_reason
            self._usage(data.get("usage"))
        elif kind == "message_stop":
            self.out.extend(self.calls.end_all())  # a block the server never closed
            reason = self.stop_reason
            self.out.add(Finish(STOP_REASONS.get(reason or "", "other"), reason))
            self.done = True
            return True
        return False  # ping and event types added after this was written

    def _hot_target(self, match: re.Match[str]) -> Sink:
        """Where a hot delta's string goes: what ``_block_delta`` does with it."""
        index = int(match.group(1))
        block = self.blocks.get(index)
        if match.group(2):  # text_delta
            return self.out.text if block == "text" else ignore
        ordinal = self.calls.open_index(index) if block == "tool_use" else None
        if ordinal is None:
            return ignore
        return partial(self.out.arguments, ordinal)

    def _error_event(self, data: dict[str, Any]) -> Exception:
        error = data.get("error")
        kind = error.get("type", "") if isinstance(error, dict) else ""
        detail = describe_error(data) or "unknown error"
        return self._error(f"Anthropic stream error: {detail}", retryable=kind in RETRYABLE_ERRORS)

    def _block_start(self, index: Any, block: dict[str, Any]) -> None:
        kind = str(block.get("type", ""))
        self.blocks[index] = kind
        if kind == "text" and block.get("text"):
            self.out.text(block["text"])
        elif kind == "thinking" and block.get("thinking"):
            self.out.reasoning(block["thinking"])
        elif kind == "redacted_thinking":
            # Arrives whole, no deltas: an encrypted block to echo verbatim.
            self.out.add(ReasoningSignature({"redacted_thinking": block.get("data", "")}))
        elif kind == "tool_use":
            self.out.add(self.calls.start(index, block.get("id"), str(block.get("name", ""))))
        # server_tool_use, *_tool_result: handled by Anthropic, not by us

    def _block_delta(self, index: Any, kind: Any, delta: dict[str, Any]) -> None:
        block = self.blocks.get(index)
        if kind == "input_json_delta" and block == "tool_use":
            ordinal = self.calls.open_index(index)
            if ordinal is not None:
                self.out.arguments(ordinal, str(delta.get("partial_json", "")))
        elif kind == "text_delta" and block == "text":
            text = delta.get("text")
            if isinstance(text, str):
                self.out.text(text)
        elif kind == "thinking_delta" and block == "thinking":
            text = delta.get("thinking")
            if isinstance(text, str):
                self.out.reasoning(text)
        elif kind == "signature_delta" and block == "thinking":
            self.out.add(ReasoningSignature({"signature": delta.get("signature", "")}))

    def _usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self.usage.update({k: v for k, v in usage.items() if v is not None})
            self.out.add(usage_event(self.usage))


def usage_event(usage: dict[str, Any]) -> Usage:
    """Anthropic usage as a ``Usage``.

    Anthropic's ``input_tokens`` excludes cache reads and writes; chattui's
    ``input_tokens`` is the whole prompt (as OpenAI and Gemini report it), so
    the cache counts are added, cache reads are also given as ``cached`` and
    cache writes as ``cache_write``.
    """
    cached = usage.get("cache_read_input_tokens")
    written = usage.get("cache_creation_input_tokens") or 0
    fresh = usage.get("input_tokens")
    details = usage.get("output_tokens_details") or {}
    return Usage(
        input_tokens=None if fresh is None else fresh + (cached or 0) + written,
        output_tokens=usage.get("output_tokens"),
        reasoning_tokens=details.get("thinking_tokens"),
        cached_tokens=cached,
        cache_write_tokens=usage.get("cache_creation_input_tokens"),
    )


# -- request body ------------------------------------------------------------------------


def tool_definition(tool: ToolSpec) -> dict[str, Any]:
    """One tool; ``eager_input_streaming`` makes its arguments stream as generated."""
    return {
        "name": tool.name,
        "description": tool.description,
        "input_schema": dict(tool.parameters),
        "eager_input_streaming": True,
    }


def build_messages(
    messages: tuple[Message, ...], own: set[str] | None = None
) -> list[dict[str, Any]]:
    """Messages as Anthropic content blocks.

    ``own`` names the providers whose thinking is echoed (default: anthropic;
    a subclass such as the offline demo adds its own kind).

    Consecutive user-side blocks (tool results, then the next user text) are
    merged into one user message, so roles strictly alternate and every
    ``tool_result`` sits in the user turn right after its ``tool_use``.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, UserMessage):
            # Images first: Anthropic's guidance is that a question after its image works best.
            blocks = [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": i.media_type, "data": i.base64()},
                }
                for i in message.images
            ]
            if message.text:
                blocks.append({"type": "text", "text": message.text})
            _append(out, "user", blocks)
        elif isinstance(message, ToolResult):
            _append(out, "user", [tool_result_block(message)])
        else:
            _append(out, "assistant", assistant_blocks(message, own or {Anthropic.kind}))
    return out


def _append(out: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    if not blocks:
        return  # the API rejects empty content
    if out and out[-1]["role"] == role:
        out[-1]["content"].extend(blocks)
    else:
        out.append({"role": role, "content": blocks})


def tool_result_block(result: ToolResult) -> dict[str, Any]:
    """A ``tool_result`` block answering the call ``result.call_id``."""
    return {
        "type": "tool_result",
        "tool_use_id": result.call_id,
        "content": result.content,
        "is_error": result.is_error,
    }


def assistant_blocks(message: AssistantMessage, own: set[str]) -> list[dict[str, Any]]:
    """An assistant turn's blocks in part order.

    Thinking is sent back only when Anthropic produced it: the API verifies
    the signature, and unsigned or foreign reasoning cannot be replayed.
    """
    signed_here = message.provider in own
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ReasoningPart):
            block = thinking_block(part) if signed_here else None
            if block:
                blocks.append(block)
        elif isinstance(part, TextPart):
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCall):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": part.id,
                    "name": part.name,
                    "input": dict(part.arguments),
                }
            )
    return blocks


def thinking_block(part: ReasoningPart) -> dict[str, Any] | None:
    """The thinking or redacted-thinking block recorded in ``part.echo``, if any."""
    if "redacted_thinking" in part.echo:
        return {"type": "redacted_thinking", "data": part.echo["redacted_thinking"]}
    if "signature" in part.echo:
        return {"type": "thinking", "thinking": part.text, "signature": part.echo["signature"]}
    return None
