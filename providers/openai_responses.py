"""OpenAI Responses API: ``POST {base_url}/responses``.

Every event is ``event: <type>`` plus a JSON ``data`` whose ``type`` repeats
it; there is no ``[DONE]``: ``response.completed``, ``response.incomplete`` or
``response.failed`` ends the stream. Items (reasoning, message, function call)
are addressed by ``item_id`` and ``output_index``; early-2025 streams carry no
``sequence_number`` (fixture ``function-call-legacy-no-sequence-number``), so
nothing here depends on it.

Request choices:

* ``store: false``: chattui keeps the conversation itself and sends it whole,
  so nothing needs to live on OpenAI's side. Reasoning then survives between
  turns only as ``encrypted_content``, hence ``include:
  ["reasoning.encrypted_content"]``; each reasoning item is kept verbatim
  (``ReasoningSignature({"item": item})``) and echoed back in place, but only
  to this API (``AssistantMessage.provider``).
* Function tools are sent with ``strict: false``: the API defaults to strict,
  which rejects any schema with optional properties.
* Failed tool results are prefixed with ``Error: `` (no error flag here either).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from providers.base import HTTPProvider
from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    ReasoningPart,
    TextPart,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)
from providers.errors import StreamError
from providers.events import Finish, FinishReason, ReasoningSignature, StreamEvent, Usage
from providers.openai import TRANSIENT_CODES
from providers.openai_request import call_arguments, openai_effort, tool_result_text
from providers.parser import SSEParser
from providers.payloads import describe_error, loads_event
from providers.toolcalls import ToolCalls

_INCOMPLETE: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")

ErrorFactory = Callable[..., StreamError]


# -- request ------------------------------------------------------------------------------


def responses_tool(spec: ToolSpec) -> dict[str, Any]:
    """A function tool in Responses form (flat, not nested under ``function``)."""
    return {
        "type": "function",
        "name": spec.name,
        "description": spec.description,
        "parameters": dict(spec.parameters),
        "strict": False,
    }


def input_items(request: ChatRequest, kind: str) -> list[dict[str, Any]]:
    """The ``input`` array; reasoning items are echoed only if ``kind`` made them."""
    items: list[dict[str, Any]] = []
    for message in request.messages:
        if isinstance(message, UserMessage):
            content = [{"type": "input_text", "text": message.text}]
            content += [
                {"type": "input_image", "image_url": image.data_url()} for image in message.images
            ]
            items.append({"role": "user", "content": content})
        elif isinstance(message, ToolResult):
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.call_id,
                    "output": tool_result_text(message),
                }
            )
        else:
            items.extend(_assistant_items(message, echo=message.provider == kind))
    return items


def _assistant_items(message: AssistantMessage, *, echo: bool) -> Iterator[dict[str, Any]]:
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text:
                yield {"role": "assistant", "content": [{"type": "output_text", "text": part.text}]}
        elif isinstance(part, ToolCall):
            yield {
                "type": "function_call",
                "call_id": part.id,
                "name": part.name,
                "arguments": call_arguments(part),
            }
        elif isinstance(part, ReasoningPart) and echo:
            item = part.echo.get("item")
            if isinstance(item, Mapping) and item.get("type") == "reasoning":
                yield dict(item)


# -- response pieces ----------------------------------------------------------------------


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def responses_usage(response: Mapping[str, Any]) -> Usage | None:
    """Token counts from a terminal event's ``response.usage``."""
    raw = response.get("usage")
    if not isinstance(raw, dict):
        return None
    return Usage(
        _int(raw.get("input_tokens")),
        _int(raw.get("output_tokens")),
        _int(_dict(raw.get("output_tokens_details")).get("reasoning_tokens")),
        _int(_dict(raw.get("input_tokens_details")).get("cached_tokens")),
    )


def error_text(payload: Mapping[str, Any]) -> tuple[str, bool]:
    """``(message, transient)`` of an error, nested ``{"error": {...}}`` or flat.

    The recorded shape nests it (fixture ``error-event-then-response-failed``);
    the API reference documents a flat ``{type: "error", code, message}``.
    """
    nested = payload.get("error")
    error: Mapping[str, Any] = nested if isinstance(nested, dict) else payload
    transient = any(str(error.get(k)) in TRANSIENT_CODES for k in ("code", "type"))
    return describe_error(payload) or "the server reported an error", transient


# -- the stream ---------------------------------------------------------------------------


class ResponsesStream(SSEParser):
    """The parser of one Responses body: what the stream has said so far.

    Args:
        error: builds the ``StreamError`` for an error reported in the stream.
    """

    def __init__(self, error: ErrorFactory) -> None:
        super().__init__()
        self._error = error
        self.calls = ToolCalls()
        self._by_output: dict[int, Hashable] = {}
        self._streamed: set[Hashable] = set()  # calls whose arguments came as deltas
        self._refused = False

    INCOMPLETE = "response incomplete: the stream ended before response.completed"

    def _sse_event(self, event: str, data: str) -> bool:
        if not data or data.isspace() or data.startswith("[DONE]"):
            return False  # not sent by OpenAI; tolerated from look-alike servers
        self.event(loads_event(data, self._error))
        return self.done

    def event(self, data: Any) -> None:
        """One payload; sets ``done`` at the terminal event."""
        kind = data.get("type") if isinstance(data, dict) else None
        if not isinstance(kind, str):
            raise self._error(f"unexpected event from the server: {str(data)[:60]}")
        delta = data.get("delta")
        if kind == "response.output_text.delta":  # nearly every event
            if isinstance(delta, str):
                self.out.text(delta)
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            # summary text for OpenAI; raw text for DeepSeek's and OpenRouter's /responses
            if isinstance(delta, str):
                self.out.reasoning(delta)
        elif kind == "response.function_call_arguments.delta":
            key = self._key(data)
            ordinal = self.calls.open_index(key) if key is not None else None
            if ordinal is not None and isinstance(delta, str) and delta:
                self._streamed.add(key)
                self.out.arguments(ordinal, delta)
        elif kind == "response.refusal.delta":
            if isinstance(delta, str) and delta:
                self._refused = True
                self.out.text(delta)
        elif kind == "response.reasoning_summary_part.added" and data.get("summary_index"):
            self.out.reasoning("\n\n")  # keep separate summary parts apart
        elif kind.startswith(("response.output_item.", "response.function_call_arguments.")):
            self._item_event(kind, data)
        elif kind == "error":
            message, transient = error_text(data)
            raise self._error(message, retryable=transient)
        elif kind in _TERMINAL:
            self._terminal(kind, _dict(data.get("response")))

    def _item_event(self, kind: str, data: Mapping[str, Any]) -> None:
        item = _dict(data.get("item"))
        if kind == "response.output_item.added" and item.get("type") == "function_call":
            self.out.add(self._start(item, data.get("output_index"))[1])
        elif kind == "response.function_call_arguments.done":
            self._end_call(self._key(data), data.get("arguments"))
        elif kind == "response.output_item.done" and item.get("type") == "function_call":
            key = self._key({"item_id": item.get("id"), "output_index": data.get("output_index")})
            if key is None:  # no output_item.added was seen: the call arrives whole
                key, start = self._start(item, data.get("output_index"))
                self.out.add(start)
            self._end_call(key, item.get("arguments"))
        elif kind == "response.output_item.done" and item.get("type") == "reasoning":
            # The item as it is now (the encrypted_content of .added is stale).
            self.out.add(ReasoningSignature({"item": dict(item)}))

    def _start(self, item: Mapping[str, Any], output_index: Any) -> tuple[Hashable, StreamEvent]:
        key: Hashable = item.get("id") or ("output", output_index)
        if _int(output_index) is not None:
            self._by_output[output_index] = key
        call_id = item.get("call_id") or item.get("id")  # results must quote call_id
        name = item.get("name")
        return key, self.calls.start(
            key,
            call_id if isinstance(call_id, str) else None,
            name if isinstance(name, str) else "",
        )

    def _key(self, data: Mapping[str, Any]) -> Hashable | None:
        """The call an event is about: by ``item_id``, else by ``output_index``."""
        item_id = data.get("item_id")
        if isinstance(item_id, str) and item_id in self.calls:
            return item_id
        output_index = _int(data.get("output_index"))
        return self._by_output.get(output_index) if output_index is not None else None

    def _end_call(self, key: Hashable | None, arguments: Any) -> None:
        if key is None:
            return
        # Arguments delivered only whole, in .done: send them once.
        if key not in self._streamed and isinstance(arguments, str) and arguments:
            ordinal = self.calls.open_index(key)
            if ordinal is not None:
                self._streamed.add(key)
                self.out.arguments(ordinal, arguments)
        end = self.calls.end(key)
        if end is not None:
            self.out.add(end)

    def _terminal(self, kind: str, response: Mapping[str, Any]) -> None:
        self.done = True
        usage = responses_usage(response)
        if usage is not None:
            self.out.add(usage)
        if kind == "response.failed":
            message, transient = error_text(_dict(response.get("error")))
            raise self._error(message, retryable=transient)
        if kind == "response.incomplete":
            # Calls still open were cut off: left open, the accumulator marks them.
            raw = _dict(response.get("incomplete_details")).get("reason")
            reason = raw if isinstance(raw, str) else None
            self.out.add(Finish(_INCOMPLETE.get(reason or "", "other"), reason))
            return
        self.out.extend(self.calls.end_all())
        status: FinishReason = "stop"
        if self._refused:
            status = "refusal"
        elif self.calls.count:
            status = "tool_calls"
        self.out.add(Finish(status, "completed"))


class OpenAIResponses(HTTPProvider):
    """The OpenAI Responses API, stateless (``store: false``)."""

    kind = "openai-responses"

    def url(self) -> str:
        """``{base_url}/responses``."""
        return f"{self.settings.base_url.rstrip('/')}/responses"

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The streaming request body (field choices in the module docstring)."""
        body: dict[str, Any] = {
            "model": self.settings.model,
            "input": input_items(request, self.kind),
            "stream": True,
            "store": False,
            "include": ["reasoning.encrypted_content"],
        }
        if request.system:
            body["instructions"] = request.system
        if request.tools:
            body["tools"] = [responses_tool(spec) for spec in request.tools]
        limit = request.max_tokens or self.settings.max_tokens
        if limit:
            body["max_output_tokens"] = limit
        if request.reasoning is not None:
            body["reasoning"] = {"effort": openai_effort(request.reasoning)}
        return body

    def parser(self) -> ResponsesStream:
        """Responses SSE to events; a terminal event ends it, EOF before one fails."""
        return ResponsesStream(self.stream_error)
