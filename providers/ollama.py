"""Ollama's native chat API (``POST /api/chat``, newline-delimited JSON).

``base_url`` is the server root, e.g. ``http://127.0.0.1:11434`` (a trailing
``/api`` is tolerated). A base URL ending in ``/v1`` names Ollama's
OpenAI-compatible endpoint, which speaks another wire format: configure it
with kind ``openai`` instead; this adapter refuses it rather than POSTing to
``/v1/api/chat`` and reporting a puzzling 404.

``think`` is not sent: the server's per-model default applies, and any
``message.thinking`` it streams is reported as reasoning.

Response lines, per ollama/ollama ``server/routes.go`` and the recordings in
``tests/fixtures/ollama/``: ``message.content`` / ``message.thinking``
fragments on ``done:false`` lines; tool calls arrive whole (arguments as an
object, possibly absent), with or without ``id``, and ``function.index`` may
be 0 for every call, so calls are never merged by index; the final
``done:true`` line carries ``done_reason``, the token counts and possibly
trailing content. A ``{"error": …}`` line after output has started is a
stream failure; a body without ``done:true`` is an ``IncompleteResponse``.
"""

from __future__ import annotations

from collections.abc import Callable
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
from providers.errors import IncompleteResponse, StreamError
from providers.events import Finish, FinishReason, Usage
from providers.parser import StreamParser
from providers.payloads import describe_error, loads_event
from providers.settings import ProviderSettings, base_url_problem
from providers.sse import LineSplitter
from providers.toolcalls import ToolCalls

DONE_REASONS: dict[str, FinishReason] = {"stop": "stop", "length": "length"}


class Ollama(HTTPProvider):
    """Adapter for Ollama's native ``/api/chat`` endpoint."""

    kind = "ollama"

    def __init__(self, settings: ProviderSettings, **kwargs: Any) -> None:
        problem = base_url_problem(self.kind, settings.base_url)
        if problem is not None:  # the config loader refuses it first; this guards other callers
            raise ValueError(f"base_url {settings.base_url!r}: {problem}")
        super().__init__(settings, **kwargs)

    def url(self) -> str:
        """``{base_url}/api/chat``."""
        base = self.settings.base_url.rstrip("/").removesuffix("/api")
        return f"{base}/api/chat"

    def headers(self) -> dict[str, str]:
        """The base headers, but asking for NDJSON rather than SSE."""
        return {**super().headers(), "Accept": "application/x-ndjson"}

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The ``/api/chat`` body for ``request``."""
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend(message_json(m) for m in request.messages)
        body: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
        if request.tools:
            body["tools"] = [tool_definition(tool) for tool in request.tools]
        max_tokens = request.max_tokens or self.settings.max_tokens
        if max_tokens:
            body["options"] = {"num_predict": max_tokens}
        if request.reasoning is not None:
            body["think"] = think_value(request.reasoning, self.model)
        return body

    def parser(self) -> OllamaStream:
        """A parser for one NDJSON body; see the module docstring for the rules."""
        return OllamaStream(self.stream_error)


def think_value(reasoning: Reasoning, model: str) -> bool | str:
    """Ollama's ``think`` for a reasoning level.

    Most thinking models take only on/off; gpt-oss takes the level itself
    (and cannot be turned off: Ollama then answers with its own error).
    """
    if reasoning == "off":
        return False
    return reasoning if "gpt-oss" in model else True


class OllamaStream(StreamParser):
    """The parser of one ``/api/chat`` body, line by line; ``done:true`` ends it.

    Args:
        error: builds the ``StreamError`` for an error reported in the stream.
    """

    def __init__(self, error: Callable[..., StreamError]) -> None:
        super().__init__()
        self._error = error
        self._lines = LineSplitter()
        self.calls = ToolCalls()

    def feed(self, chunk: bytes) -> None:
        """Parse a body chunk; the ``done:true`` line sets ``done``."""
        for line in self._lines.feed(chunk):
            self._line(line)
            if self.done:
                return

    def limit_events(self, size: int) -> None:
        """Refuse an NDJSON line over ``size`` bytes."""
        self._lines.max_line = size

    def end(self) -> None:
        """The body ended before ``done:true``: the response is incomplete."""
        for line in self._lines.flush():
            self._line(line)
        if not self.done:
            raise IncompleteResponse("response incomplete: the stream ended before done:true")

    def _line(self, line: str) -> None:
        data = loads_event(line, self._error)
        if not isinstance(data, dict):
            raise self._error(f"unexpected line: {line[:60]!r}")
        if "error" in data:
            raise self._error(f"Ollama error: {describe_error(data) or 'unknown'}")
        message = data.get("message") or {}
        if message.get("thinking"):
            self.out.reasoning(message["thinking"])
        if message.get("content"):
            self.out.text(message["content"])
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            # whole() gives every call a fresh key: servers may send index 0 for all of them.
            self.out.extend(
                self.calls.whole(
                    call.get("id"), str(function.get("name", "")), function.get("arguments")
                )
            )
        if data.get("done"):
            self.out.add(usage_event(data))
            reason = data.get("done_reason")
            self.out.add(Finish(DONE_REASONS.get(reason or "stop", "other"), reason))
            self.done = True


def usage_event(data: dict[str, Any]) -> Usage:
    """Token counts from the ``done:true`` line."""
    return Usage(input_tokens=data.get("prompt_eval_count"), output_tokens=data.get("eval_count"))


# -- request body ------------------------------------------------------------------------


def tool_definition(tool: ToolSpec) -> dict[str, Any]:
    """One tool in Ollama's OpenAI-like function format."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": dict(tool.parameters),
        },
    }


def message_json(message: Message) -> dict[str, Any]:
    """One conversation message as an Ollama chat message."""
    if isinstance(message, UserMessage):
        out: dict[str, Any] = {"role": "user", "content": message.text}
        if message.images:
            out["images"] = [image.base64() for image in message.images]
        return out
    if isinstance(message, ToolResult):
        # Ollama matches results to calls by tool name; it has no error flag.
        return {"role": "tool", "content": message.content, "tool_name": message.name}
    return assistant_json(message)


def assistant_json(message: AssistantMessage) -> dict[str, Any]:
    """An assistant turn: content, own thinking (never another model's), tool calls."""
    out: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(p.text for p in message.parts if isinstance(p, TextPart)),
    }
    if message.provider == Ollama.kind:
        thinking = "".join(p.text for p in message.parts if isinstance(p, ReasoningPart))
        if thinking:
            out["thinking"] = thinking
    calls = [p for p in message.parts if isinstance(p, ToolCall)]
    if calls:
        out["tool_calls"] = [
            {"function": {"name": c.name, "arguments": dict(c.arguments)}} for c in calls
        ]
    return out
