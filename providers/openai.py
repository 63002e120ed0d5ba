"""OpenAI Chat Completions and its clones: ``POST {base_url}/chat/completions``.

One adapter serves api.openai.com and the OpenAI-compatible servers (DeepSeek,
Groq, Mistral, OpenRouter, xAI, vLLM, llama.cpp, Ollama's ``/v1``), so the
parser accepts the union of their quirks; each is named where it is handled,
with the recording under ``tests/fixtures/openai-*`` that shows it.

Request choices:

* ``stream_options.include_usage`` so token counts arrive (OpenAI sends none
  otherwise); the usage chunk has ``choices: []``.
* The output cap goes out as ``max_completion_tokens`` to api.openai.com (its
  current name, required by reasoning models) and as ``max_tokens`` to every
  other server, because many compatible servers only know the old name.
* Reasoning is never sent back: no compatible server needs it, and DeepSeek's
  reasoner documentation says a ``reasoning_content`` field in input messages
  is rejected with HTTP 400.
* Tool results have no error flag in this API, so a failed tool's text is
  prefixed with ``Error: `` (``providers.openai_request.tool_result_text``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from providers.base import HTTPProvider
from providers.conversation import (
    ChatRequest,
)
from providers.errors import IncompleteResponse, StreamError
from providers.events import Finish, FinishReason, StreamEvent, Usage
from providers.fastpath import INDEX, SCALAR, HotEvents, Sink, first_of, ignore, template
from providers.openai_request import chat_messages, chat_tool, openai_effort
from providers.parser import EventBuffer, SSEParser
from providers.payloads import describe_error, loads_event
from providers.toolcalls import ToolCalls, canonical_arguments

OPENAI_HOST = "api.openai.com"

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",  # the deprecated functions API
    "content_filter": "content_filter",
}
# Error codes after which the same request may well succeed; retried only
# when nothing was shown yet (the base never retries after output).
TRANSIENT_CODES = frozenset(
    {
        "rate_limit_exceeded",
        "server_error",
        "overloaded",
        "overloaded_error",
        "429",
        "500",
        "502",
        "503",
        "504",
        "529",
    }
)

ErrorFactory = Callable[..., StreamError]

# The hot shapes (providers.fastpath): a chunk whose only payload is one string
# of choice 0's delta (content or reasoning), or one call's argument fragment.
# Keys that only describe the response (and null values) may surround it.
_INERT = (
    r'"(?:id|object|created|model|system_fingerprint|service_tier|obfuscation|usage)"~:~' + SCALAR
)
_HOT_CHOICE = (
    r"data: ~\{~(?:" + _INERT + r'~,~)*"choices"~:~\[~\{~"index"~:~0~,~"delta"~:~\{~'
    r'(?:"role"~:~' + SCALAR + r"~,~)?"
)
_HOT_END = (
    r'(?:,~"logprobs"~:~null~)?(?:,~"finish_reason"~:~null~)?\}~\]~(?:,~' + _INERT + r"~)*\}~\n\n"
)
HOT_TEXT_HEAD = template(
    _HOT_CHOICE + r'(?:"content"~:~null~,~)?"(content|reasoning_content|reasoning)"~:~"'
)
HOT_TEXT_TAIL = template(r'"~(?:,~"(?:refusal|tool_calls)"~:~null~)*\}~' + _HOT_END)
HOT_CALL_HEAD = template(
    _HOT_CHOICE + r'"tool_calls"~:~\[~\{~"index"~:~' + INDEX + r'~,~"function"~:~\{~"arguments"~:~"'
)
HOT_CALL_TAIL = template(r'"~\}~\}~\]~\}~' + _HOT_END)


# -- response pieces ----------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def chat_usage(chunk: Mapping[str, Any]) -> Usage | None:
    """Token counts in a chunk, wherever the server put them.

    Top-level ``usage`` (OpenAI's ``choices: []`` chunk, or the finish chunk for
    DeepSeek and Mistral), else Groq's ``x_groq.usage``. DeepSeek also reports
    cache hits as ``prompt_cache_hit_tokens``. xAI leaves reasoning out of
    ``completion_tokens`` (its ``total_tokens`` is prompt + completion +
    reasoning); it is added back so ``output_tokens`` always includes reasoning.
    """
    raw = chunk.get("usage")
    if not isinstance(raw, dict):
        raw = _dict(chunk.get("x_groq")).get("usage")
    if not isinstance(raw, dict):
        return None
    prompt, output = _int(raw.get("prompt_tokens")), _int(raw.get("completion_tokens"))
    reasoning = _int(_dict(raw.get("completion_tokens_details")).get("reasoning_tokens"))
    cached = _int(_dict(raw.get("prompt_tokens_details")).get("cached_tokens"))
    if cached is None:
        cached = _int(raw.get("prompt_cache_hit_tokens"))
    total = _int(raw.get("total_tokens"))
    if (
        reasoning
        and prompt is not None
        and output is not None
        and total == prompt + output + reasoning
    ):
        output += reasoning
    return Usage(prompt, output, reasoning, cached)


def content_parts(content: Any, out: EventBuffer) -> None:
    """``delta.content`` when it is not a string: Mistral's list of typed parts.

    Mistral (magistral) sends ``[{"type": "thinking", "thinking": [{"type":
    "text", "text": ...}]}]`` and ``[{"type": "text", "text": ...}]``
    (fixture ``mistral-thinking-content-array``).
    """
    for part in content if isinstance(content, list) else ():
        part = _dict(part)
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            out.text(part["text"])
        elif part.get("type") == "thinking":
            for inner in part.get("thinking") or ():
                text = _dict(inner).get("text")
                if isinstance(text, str):
                    out.reasoning(text)


def is_transient(error: Any) -> bool:
    """Whether an error payload describes a condition a retry could outlive."""
    error = _dict(error)
    return any(str(error.get(k)) in TRANSIENT_CODES for k in ("code", "type", "status_code"))


# -- the stream ---------------------------------------------------------------------------


class ChatStream(SSEParser):
    """The parser of one Chat Completions body: what the response has said so far.

    Args:
        error: builds the ``StreamError`` for an error reported in the stream.
    """

    def __init__(self, error: ErrorFactory) -> None:
        super().__init__(
            first_of(
                HotEvents(HOT_TEXT_HEAD, HOT_TEXT_TAIL, self._hot_text),
                HotEvents(HOT_CALL_HEAD, HOT_CALL_TAIL, self._hot_arguments),
            )
        )
        self._error = error
        self.calls = ToolCalls()
        self._by_index: dict[int, Hashable] = {}
        self._by_id: dict[str, Hashable] = {}
        self._ids: dict[Hashable, str] = {}
        self._last: Hashable | None = None
        self.finished = False
        self._refused = False

    def ended_early(self) -> None:
        """End of body without ``[DONE]``: complete only if a finish_reason came."""
        self._close(False)

    def _hot_text(self, match: re.Match[str]) -> Sink:
        return self.out.text if match.group(1) == "content" else self.out.reasoning

    def _hot_arguments(self, match: re.Match[str]) -> Sink | None:
        """What ``_tool_fragment`` does with a fragment of a known call's arguments."""
        key = self._by_index.get(int(match.group(1)))
        if key is None:
            return None  # a new call: the full parse starts it
        ordinal = self.calls.open_index(key)
        if ordinal is None:
            return ignore
        return partial(self.out.arguments, ordinal)

    def _sse_event(self, event: str, data: str) -> bool:
        # openai-python also stops on anything starting with [DONE].
        if data.startswith("[DONE]"):
            self._close(True)
            self.done = True
            return True
        if data and not data.isspace():  # an empty data line is a keep-alive, not a chunk
            self.chunk(event, loads_event(data, self._error))
        return False

    def chunk(self, event: str, data: Any) -> None:
        """One ``data:`` payload (``event`` is the SSE event name)."""
        if not isinstance(data, dict):
            raise self._error(f"unexpected chunk from the server: {json.dumps(data)[:60]}")
        # OpenAI/vLLM send {"error": ...} with no choices, OpenRouter puts it
        # beside choices, Groq uses `event: error`; all end the stream.
        if event == "error" or data.get("error"):
            self._error_chunk(data)
        for choice in data.get("choices") or ():
            # We never ask for n > 1; other choices would interleave answers.
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                delta = choice.get("delta")
                if delta and isinstance(delta, dict):
                    self._delta(delta)
                reason = choice.get("finish_reason")
                # OpenRouter repeats finish_reason; only the first one counts.
                if reason and isinstance(reason, str) and not self.finished:
                    self._finish(reason)
        if "usage" in data or "x_groq" in data:
            usage = chat_usage(data)
            if usage is not None:
                self.out.add(usage)

    def _error_chunk(self, data: dict[str, Any]) -> None:
        usage = chat_usage(data)
        if usage is not None:
            self.out.add(usage)  # OpenRouter bills the failed attempt; keep the count
        detail = describe_error(data) or "the server reported an error"
        raise self._error(detail, retryable=is_transient(data.get("error", data)))

    def _close(self, done: bool) -> None:
        """End of the stream: close open calls, or fail when it was cut short."""
        if self.finished:
            self.out.extend(self.calls.end_all())
        elif done:
            # OpenRouter/Novita can end with [DONE] and no finish_reason at all
            # (fixture openrouter-repeated-id-and-name).
            self._finish(None)
        else:
            raise IncompleteResponse(
                "response incomplete: the stream ended without [DONE] or a finish reason"
            )

    def _delta(self, delta: dict[str, Any]) -> None:
        # The delta comes before the finish reason: vLLM puts the last argument
        # text in the finish chunk. The hot case first: nothing but content.
        content = delta.get("content")
        if len(delta) == 1 and content.__class__ is str:
            self.out.text(content)
            return
        # DeepSeek, xAI, llama.cpp: reasoning_content; Groq, OpenRouter, vLLM,
        # Ollama /v1: reasoning.
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str):
            self.out.reasoning(reasoning)
        if isinstance(content, str):
            self.out.text(content)
        elif content:
            content_parts(content, self.out)
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            self._refused = True
            self.out.text(refusal)
        for fragment in delta.get("tool_calls") or ():
            if isinstance(fragment, dict):
                self._tool_fragment(fragment)

    def _tool_fragment(self, fragment: Mapping[str, Any]) -> None:
        function = _dict(fragment.get("function"))
        name, call_id = _str(function.get("name")), _str(fragment.get("id"))
        index = _int(fragment.get("index"))
        key = self._locate(index, call_id, name)
        if key is None:
            key = ("call", self.calls.count)
            if index is not None:
                self._by_index[index] = key
            self.out.add(self._start(key, call_id, name))
        arguments = function.get("arguments")  # "", null or missing are all nothing
        if isinstance(arguments, dict):
            arguments = canonical_arguments(arguments)
        if isinstance(arguments, str):
            ordinal = self.calls.open_index(key)
            if ordinal is not None:
                self.out.arguments(ordinal, arguments)

    def _locate(self, index: int | None, call_id: str, name: str) -> Hashable | None:
        """The call a fragment continues, or None when it starts a new one.

        id, name and type are taken once and never concatenated: OpenRouter
        repeats them, Mistral sends ``name: ""`` in continuations.
        """
        if index is not None:
            # Anthropic's compat layer starts at index 1; ToolCalls renumbers.
            # A new id under a known index is a new call (Ollama /v1 may send
            # index 0 for every call).
            key = self._by_index.get(index)
            if key is not None and (not call_id or self._ids.get(key) in ("", call_id)):
                return key
            return None
        # Mistral sends no index: match by id, else continue the latest call.
        if call_id:
            return self._by_id.get(call_id)
        return self._last if not name else None

    def _start(self, key: Hashable, call_id: str, name: str) -> StreamEvent:
        self._ids[key] = call_id
        if call_id:
            self._by_id[call_id] = key
        self._last = key
        return self.calls.start(key, call_id or None, name)

    def _finish(self, raw: str | None) -> None:
        self.finished = True
        self.out.extend(self.calls.end_all())
        reason: FinishReason = _FINISH.get(raw, "other") if raw else "stop"
        if reason == "stop" and self._refused:
            reason = "refusal"
        elif reason == "stop" and self.calls.count:
            reason = "tool_calls"  # Ollama /v1 and OpenRouter may say stop (or nothing)
        self.out.add(Finish(reason, raw))


class OpenAIChat(HTTPProvider):
    """OpenAI Chat Completions, and every server that speaks it."""

    kind = "openai"

    def url(self) -> str:
        """``{base_url}/chat/completions``."""
        return f"{self.settings.base_url.rstrip('/')}/chat/completions"

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The streaming request body (field choices in the module docstring)."""
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": chat_messages(request),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            body["tools"] = [chat_tool(spec) for spec in request.tools]
        limit = request.max_tokens or self.settings.max_tokens
        if limit:
            body[self.max_tokens_field()] = limit
        if request.reasoning is not None:
            body["reasoning_effort"] = openai_effort(request.reasoning)
        return body

    def max_tokens_field(self) -> str:
        """``max_completion_tokens`` for OpenAI itself, ``max_tokens`` elsewhere."""
        try:
            host = urlsplit(self.settings.base_url).hostname or ""
        except ValueError:
            host = ""
        return "max_completion_tokens" if host == OPENAI_HOST else "max_tokens"

    def parser(self) -> ChatStream:
        """Chat Completions SSE to events; ``[DONE]`` or a finish_reason ends it."""
        return ChatStream(self.stream_error)
