"""Response bodies in each wire format, and where each API puts a tool result.

Used by the end-to-end tests: a loopback server answers the first request
with a streamed tool call and the second with text, in the format of the
adapter under test, and the test then finds the tool result in the second
request body the way that API expects it.
"""

from __future__ import annotations

import json
from typing import Any

ROUTES = {
    "openai": ("/v1", "/v1/chat/completions"),
    "openai-responses": ("/v1", "/v1/responses"),
    "anthropic": ("", "/v1/messages"),
    "gemini": ("/v1beta", "/v1beta/models/test-model:streamGenerateContent"),
    "ollama": ("", "/api/chat"),
}
KINDS = tuple(ROUTES)


def sse(*events: dict[str, Any], named: bool = False, eol: str = "\n") -> bytes:
    """An SSE body: a ``data:`` line per event, after ``event: <its type>`` when ``named``
    (Anthropic, OpenAI Responses); ``eol`` is ``"\\r\\n"`` for Gemini's framing."""
    out = []
    for event in events:
        head = f"event: {event['type']}{eol}" if named else ""
        out.append(f"{head}data: {json.dumps(event)}{eol}{eol}")
    return "".join(out).encode()


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def tool_call_body(
    kind: str, name: str, arguments: dict[str, Any], call_id: str = "call_1", size: int = 7
) -> bytes:
    """A response that calls ``name`` once, arguments streamed in ``size``-char fragments."""
    raw = json.dumps(arguments)
    return _BUILDERS[kind](name, arguments, raw, call_id, size)


def _openai_call(name: str, args: Any, raw: str, call_id: str, size: int) -> bytes:
    first = {
        "index": 0,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": ""},
    }
    chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [first]}}]}]
    for piece in _pieces(raw, size):
        delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
        chunks.append({"choices": [{"index": 0, "delta": delta}]})
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return sse(*chunks) + b"data: [DONE]\n\n"


def _responses_call(name: str, args: Any, raw: str, call_id: str, size: int) -> bytes:
    item = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": call_id,
        "name": name,
        "arguments": "",
        "status": "in_progress",
    }
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
    ]
    for piece in _pieces(raw, size):
        events.append(
            {
                "type": "response.function_call_arguments.delta",
                "item_id": "fc_1",
                "output_index": 0,
                "delta": piece,
            }
        )
    done = {**item, "arguments": raw, "status": "completed"}
    events += [
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "output_index": 0,
            "arguments": raw,
        },
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        {
            "type": "response.completed",
            "response": {
                "id": "resp_1",
                "status": "completed",
                "output": [done],
                "usage": {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30},
            },
        },
    ]
    return sse(*events, named=True)


def _anthropic_start() -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "test-model",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        },
    }


def _anthropic_call(name: str, args: Any, raw: str, call_id: str, size: int) -> bytes:
    block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
    events = [
        _anthropic_start(),
        {"type": "content_block_start", "index": 0, "content_block": block},
    ]
    for piece in _pieces(raw, size):
        events.append(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
        )
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 20},
        },
        {"type": "message_stop"},
    ]
    return sse(*events, named=True)


def _gemini_call(name: str, args: Any, raw: str, call_id: str, size: int) -> bytes:
    chunk = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"functionCall": {"name": name, "args": args}}],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20},
    }
    return sse(chunk, eol="\r\n")


def _ollama_call(name: str, args: Any, raw: str, call_id: str, size: int) -> bytes:
    lines = [
        {
            "model": "test-model",
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": name, "arguments": args}}],
            },
            "done": False,
        },
        {
            "model": "test-model",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 10,
            "eval_count": 20,
        },
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


_BUILDERS = {
    "openai": _openai_call,
    "openai-responses": _responses_call,
    "anthropic": _anthropic_call,
    "gemini": _gemini_call,
    "ollama": _ollama_call,
}


def text_body(kind: str, text: str, size: int = 5) -> bytes:
    """A response that answers ``text`` and stops."""
    pieces = _pieces(text, size)
    if kind == "openai":
        chunks = [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        return sse(*chunks) + b"data: [DONE]\n\n"
    if kind == "openai-responses":
        item = {"type": "message", "id": "msg_1", "role": "assistant", "content": []}
        events: list[dict[str, Any]] = [
            {"type": "response.output_item.added", "output_index": 0, "item": item}
        ]
        events += [
            {
                "type": "response.output_text.delta",
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "delta": p,
            }
            for p in pieces
        ]
        events.append({"type": "response.completed", "response": {"status": "completed"}})
        return sse(*events, named=True)
    if kind == "anthropic":
        events = [
            _anthropic_start(),
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ]
        events += [
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
            for p in pieces
        ]
        events += [
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 5},
            },
            {"type": "message_stop"},
        ]
        return sse(*events, named=True)
    if kind == "gemini":
        chunks = [
            {"candidates": [{"content": {"role": "model", "parts": [{"text": p}]}}]} for p in pieces
        ]
        chunks[-1]["candidates"][0]["finishReason"] = "STOP"
        return sse(*chunks, eol="\r\n")
    lines = [{"message": {"role": "assistant", "content": p}, "done": False} for p in pieces]
    lines.append(
        {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
    )
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def tool_result_in(kind: str, body: dict[str, Any]) -> tuple[str | None, str]:
    """(call id or tool name, result text) of the last tool result in a request body."""
    if kind in ("openai", "ollama"):
        message = body["messages"][-1]
        assert message["role"] == "tool", message
        return message.get("tool_call_id") or message.get("tool_name"), str(message["content"])
    if kind == "openai-responses":
        item = body["input"][-1]
        assert item["type"] == "function_call_output", item
        return item["call_id"], str(item["output"])
    if kind == "anthropic":
        message = body["messages"][-1]
        block = message["content"][-1]
        assert message["role"] == "user" and block["type"] == "tool_result", message
        content = block["content"]
        text = content if isinstance(content, str) else "".join(c.get("text", "") for c in content)
        return block["tool_use_id"], text
    content = body["contents"][-1]
    part = content["parts"][-1]["functionResponse"]
    return part["name"], json.dumps(part["response"])


def usage_body(
    kind: str, text: str, prompt: int, cached: int, output: int, written: int = 0
) -> bytes:
    """``text_body`` with the format's own usage report: ``prompt`` tokens in all,
    ``cached`` of them read from the cache, ``written`` of them written to it
    (Anthropic only: no other API reports writes), ``output`` out.

    Reported the way each API does, more than once where it does: Anthropic in
    ``message_start`` (input) and ``message_delta`` (output), Gemini on every
    chunk (the counts growing), OpenAI Chat on a ``choices: []`` chunk,
    Responses on ``response.completed``, Ollama on its ``done`` line (which
    has no cache count).
    """
    body = text_body(kind, text, size=max(1, len(text) // 3))
    events = _decode(kind, body)
    if kind == "openai":
        details = {"cached_tokens": cached}
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": output,
            "total_tokens": prompt + output,
        }
        events.insert(-1, {"choices": [], "usage": {**usage, "prompt_tokens_details": details}})
    elif kind == "openai-responses":
        events[-1]["response"]["usage"] = {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": 0},
        }
    elif kind == "anthropic":
        # Anthropic's input_tokens leaves out cache reads and writes.
        events[0]["message"]["usage"] = {
            "input_tokens": prompt - cached - written,
            "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": written,
            "output_tokens": 1,
        }
        events[-2]["usage"] = {"output_tokens": output}
    elif kind == "gemini":
        for n, chunk in enumerate(events, 1):
            chunk["usageMetadata"] = {
                "promptTokenCount": prompt,
                "cachedContentTokenCount": cached,
                "candidatesTokenCount": output * n // len(events),
            }
    else:
        events[-1].update(prompt_eval_count=prompt, eval_count=output)
    return _encode(kind, events)


def _decode(kind: str, body: bytes) -> list[dict[str, Any]]:
    if kind == "ollama":
        return [json.loads(line) for line in body.decode().splitlines()]
    datas = [line[6:] for line in body.decode().splitlines() if line.startswith("data: ")]
    return [json.loads(data) for data in datas if data.strip() != "[DONE]"]


def _encode(kind: str, events: list[dict[str, Any]]) -> bytes:
    if kind == "ollama":
        return "".join(json.dumps(line) + "\n" for line in events).encode()
    if kind == "openai":
        return sse(*events) + b"data: [DONE]\n\n"
    return sse(*events, named=kind != "gemini", eol="\r\n" if kind == "gemini" else "\n")
