"""Google Gemini ``streamGenerateContent`` (AI Studio; Vertex AI's extensions too).

Request side: ``providers.gemini_request`` (contents, parts, declarations).
The key travels in the ``x-goog-api-key`` header, never in the URL, where it
would end up in proxy and server logs.

Response side, per ``tests/fixtures/gemini/`` and ai.google.dev:

* ``?alt=sse`` bodies are SSE with CRLF framing and no end sentinel; the
  response is complete once a chunk carries ``finishReason`` (Finish is
  yielded at the end of the body, so usage sent after it still counts);
* the request always asks for ``alt=sse``, so a JSON-array body (what the
  API sends without it) is not parsed: it ends up as text outside the event
  stream and is reported as such (or as the error it carries);
* an error after HTTP 200 may be a ``{"error": …}`` chunk or raw, possibly
  pretty-printed JSON outside the SSE framing at the end of the body; the
  SSE decoder ignores such lines as unknown fields, so they are collected
  on the side and raised at the end;
* calls arrive whole (``args`` an object, or absent) with no id, so ids are
  synthesized and two calls of one tool in a turn stay distinct; Vertex's
  ``streamFunctionCallArguments`` sends ``partialArgs`` path/value pieces
  instead, which are assembled into one object and emitted as one canonical
  JSON fragment when the call closes (simple, and always valid JSON);
* ``usageMetadata`` is on every chunk and changes between chunks: the last wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from providers.base import HTTPProvider
from providers.conversation import (
    ChatRequest,
    Reasoning,
)
from providers.errors import IncompleteResponse, StreamError
from providers.events import Finish, FinishReason, ReasoningSignature, Usage
from providers.gemini_framing import Framing
from providers.gemini_request import KIND, build_contents, declaration
from providers.parser import EventBuffer, StreamParser
from providers.payloads import describe_error, loads_event
from providers.toolcalls import ToolCalls, canonical_arguments

FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
RETRYABLE_STATUSES = {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "INTERNAL", 429, 500, 503}

ErrorFactory = Callable[..., StreamError]


def finish_reason(raw: str) -> FinishReason:
    """Gemini's ``finishReason`` in chattui's vocabulary (tool calls also say STOP)."""
    if raw == "STOP":
        return "stop"
    if raw == "MAX_TOKENS":
        return "length"
    return "content_filter" if raw in FILTERED else "other"


THINKING_BUDGETS: dict[Reasoning, int] = {"off": 0, "low": 1024, "medium": 8192, "high": 24576}
"""``thinkingBudget`` per reasoning level (24576 is Flash's most; Pro refuses 0)."""


class Gemini(HTTPProvider):
    """Adapter for the Gemini API's streaming endpoint."""

    kind = KIND

    def url(self) -> str:
        """``{base_url}/models/{model}:streamGenerateContent?alt=sse``."""
        # Quoted: the name is a path segment, and "?", "#" or "%" in it would change the URL.
        model = quote(self.model.removeprefix("models/"), safe="/")
        return f"{self.settings.base_url.rstrip('/')}/models/{model}:streamGenerateContent?alt=sse"

    def auth_headers(self) -> dict[str, str]:
        """The key as ``x-goog-api-key``."""
        key = self.settings.api_key
        return {"x-goog-api-key": key.reveal()} if key else {}

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The ``generateContent`` body for ``request``."""
        thinking: dict[str, Any] = {"includeThoughts": True}
        if request.reasoning is not None:
            thinking["thinkingBudget"] = THINKING_BUDGETS[request.reasoning]
        config: dict[str, Any] = {"thinkingConfig": thinking}
        max_tokens = request.max_tokens or self.settings.max_tokens
        if max_tokens:
            config["maxOutputTokens"] = max_tokens
        body: dict[str, Any] = {"contents": build_contents(request.messages)}
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        if request.tools:
            body["tools"] = [{"functionDeclarations": [declaration(t) for t in request.tools]}]
        body["generationConfig"] = config
        return body

    def parser(self) -> GeminiStream:
        """A parser for one ``alt=sse`` body."""
        return GeminiStream(self.stream_error)


class GeminiStream(StreamParser):
    """The parser of one Gemini body: framing, then one ``GenerateContentResponse`` at a time.

    There is no in-band end: the response is complete when the body ends after
    a chunk carried ``finishReason`` (usage may follow it), so ``done`` is never set.

    Args:
        error: builds the ``StreamError`` for an error reported in the stream.
    """

    def __init__(self, error: ErrorFactory) -> None:
        super().__init__()
        self.stream_error = error
        self._framing = Framing()
        self._state = _StreamState(self.out)

    def feed(self, chunk: bytes) -> None:
        """Parse a body chunk."""
        for text in self._framing.feed(chunk):
            self._payload(text)

    def limit_events(self, size: int) -> None:
        """Refuse an SSE line or event over ``size`` bytes."""
        self._framing.limit_events(size)

    def end(self) -> None:
        """End of body: the pending event, text outside the framing, then finish (or fail)."""
        for text in self._framing.flush():
            self._payload(text)
        if self._framing.leftover.strip():
            raise self._leftover_error(self._framing.leftover)
        self._state.close()

    def _payload(self, text: str) -> None:
        data = loads_event(text, self.stream_error)
        if isinstance(data, dict) and "error" in data:
            raise self._error(data)
        if not isinstance(data, dict):
            raise self.stream_error(f"unexpected chunk: {text[:60]!r}")
        self._state.chunk(data)

    def _error(self, data: Any) -> StreamError:
        error = data.get("error") if isinstance(data, dict) else None
        status = (error.get("status") or error.get("code")) if isinstance(error, dict) else None
        detail = describe_error(data) or "unknown error"
        return self.stream_error(f"Gemini error: {detail}", retryable=status in RETRYABLE_STATUSES)

    def _leftover_error(self, text: str) -> StreamError:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, list) and data:
            data = data[0]  # non-SSE errors sometimes come as a one-element array
        if isinstance(data, dict) and "error" in data:
            return self._error(data)
        snippet = " ".join(text.split())[:60]
        return self.stream_error(f"unexpected text outside the event stream: {snippet!r}")


# -- response state ----------------------------------------------------------------------

_PATH_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class _PartialCall:
    """A Vertex call whose arguments arrive as ``partialArgs`` path/value pieces.

    Continued strings are kept as lists of pieces and joined once, at close,
    so a long streamed argument costs linear, not quadratic, time.
    """

    def __init__(self, key: tuple[str, int], whole: Any) -> None:
        self.key = key
        self._whole = dict(whole) if isinstance(whole, dict) else {}
        self._values: dict[str, list[Any]] = {}  # path -> value, or string pieces
        self._continuing: set[str] = set()  # paths whose string goes on in the next piece

    def add(self, pieces: Any) -> None:
        """Apply ``partialArgs`` pieces; a string with ``willContinue`` is continued."""
        for piece in pieces if isinstance(pieces, list) else ():
            path = str(piece.get("jsonPath", ""))
            value = _piece_value(piece)
            if path in self._continuing and isinstance(value, str):
                self._values[path].append(value)
            else:
                self._values[path] = [value]
            if piece.get("willContinue") and isinstance(value, str):
                self._continuing.add(path)
            else:
                self._continuing.discard(path)

    def arguments(self) -> dict[str, Any]:
        """The arguments object assembled from everything received."""
        out = dict(self._whole)
        for path, values in self._values.items():
            _assign(out, path, "".join(values) if len(values) > 1 else values[0])
        return out


def _piece_value(piece: Mapping[str, Any]) -> Any:
    for field in ("stringValue", "numberValue", "boolValue"):
        if field in piece:
            return piece[field]
    return None  # nullValue ("NULL_VALUE") or nothing


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for match in _PATH_STEP.finditer(path.removeprefix("$")):
        name, index, quoted, dquoted = match.groups()
        steps.append(int(index) if index is not None else name or quoted or dquoted or "")
    return steps


def _assign(root: dict[str, Any], path: str, value: Any) -> None:
    steps = _steps(path)
    node: Any = root
    for step, following in zip(steps, steps[1:], strict=False):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(node, list):
            node.extend([None] * (int(step) + 1 - len(node)))
            node[int(step)] = node[int(step)] if node[int(step)] is not None else empty
            node = node[int(step)]
        else:
            node = node.setdefault(step, empty)
    if not steps:
        return
    if isinstance(node, list):
        node.extend([None] * (int(steps[-1]) + 1 - len(node)))
        node[int(steps[-1])] = value
    elif isinstance(node, dict):
        node[steps[-1]] = value


class _StreamState:
    """What one response has said so far: calls, the open Vertex call, finish."""

    def __init__(self, out: EventBuffer) -> None:
        self.out = out
        self.calls = ToolCalls()
        self.open: _PartialCall | None = None
        self.finish: str | None = None
        self.blocked: str | None = None

    def chunk(self, data: dict[str, Any]) -> None:
        """One ``GenerateContentResponse``."""
        candidates = data.get("candidates") or []
        if candidates:
            candidate = candidates[0]  # one candidate is requested
            for part in (candidate.get("content") or {}).get("parts") or ():
                self._part(part)
            self.finish = candidate.get("finishReason") or self.finish
        else:
            # A blocked prompt has no candidates at all, only promptFeedback.
            self.blocked = (data.get("promptFeedback") or {}).get("blockReason") or self.blocked
        usage = usage_event(data.get("usageMetadata"))
        if usage is not None:
            self.out.add(usage)

    def close(self) -> None:
        """End of body: close a call Vertex never closed, then finish (or fail)."""
        raw = self.finish or self.blocked
        if raw is None:
            raise IncompleteResponse("response incomplete: no chunk carried a finishReason")
        reason = finish_reason(self.finish) if self.finish else "content_filter"
        self._close_open()
        self.out.add(Finish(reason, raw))

    def _part(self, part: dict[str, Any]) -> None:
        signature = part.get("thoughtSignature")
        echo = {"thoughtSignature": signature} if signature else {}
        if "functionCall" in part:
            self._function_call(part.get("functionCall") or {}, echo)
            return
        self._close_open()  # other content means a streamed call is over
        text = part.get("text")
        if text:
            if part.get("thought"):
                self.out.reasoning(text)
            else:
                self.out.text(text)
        if signature:
            self.out.add(ReasoningSignature(echo))  # after its text: it closes that part

    def _function_call(self, call: dict[str, Any], echo: dict[str, Any]) -> None:
        name = call.get("name")
        if name:
            self._close_open()
            if not call.get("willContinue"):
                self.out.extend(self.calls.whole(None, str(name), call.get("args"), echo))
                return
            key = ("streamed", self.calls.count)
            self.out.add(self.calls.start(key, None, str(name), echo))
            self.open = _PartialCall(key, call.get("args"))
            self.open.add(call.get("partialArgs"))
            return
        if self.open is None:
            return  # a stray piece for no open call
        self.open.add(call.get("partialArgs"))
        if not call.get("willContinue"):
            self._close_open()

    def _close_open(self) -> None:
        call, self.open = self.open, None
        if call is None:
            return
        index = self.calls.index_of(call.key)
        end = self.calls.end(call.key)
        assert index is not None and end is not None
        self.out.arguments(index, canonical_arguments(call.arguments()))
        self.out.add(end)


def usage_event(meta: Any) -> Usage | None:
    """``usageMetadata`` as ``Usage``, or None when it holds no counts.

    Vertex sends ``{"trafficType": …}`` alone on intermediate chunks. Output
    counts the thoughts too, as OpenAI and Anthropic do; Gemini reports
    ``candidatesTokenCount`` and ``thoughtsTokenCount`` apart.
    """
    if not isinstance(meta, dict):
        return None
    prompt = meta.get("promptTokenCount")
    answer = meta.get("candidatesTokenCount")
    thoughts = meta.get("thoughtsTokenCount")
    cached = meta.get("cachedContentTokenCount")
    if prompt is None and answer is None and thoughts is None and cached is None:
        return None
    output = None if answer is None and thoughts is None else (answer or 0) + (thoughts or 0)
    return Usage(
        input_tokens=prompt, output_tokens=output, reasoning_tokens=thoughts, cached_tokens=cached
    )
