"""A server's ``CallToolResult`` -> the ``ToolResult`` sent back to the model.

Every content block becomes text the model can read: text as is, structured
content as JSON (when no text block already carries it), a resource link as
its URI and name, an embedded text resource with its URI and text, and binary
content (images, audio, blob resources) as a one-line note with its type and
size. Result text is untrusted: terminal controls are stripped here, and the
whole is capped at ``MAX_RESULT_CHARS`` with a note saying so.

Works on the SDK's pydantic models through attribute access only, so this
module needs no SDK import and is tested with the real server's results.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from providers.conversation import ToolResult
from tui.core.sanitize import sanitize
from tui.core.units import human_size

MAX_RESULT_CHARS = 100_000


def binary_note(kind: str, mime: str, data: str) -> str:
    """``[image image/png, 1.2 KB]``: what stands for binary content (UI and model)."""
    try:
        size = len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        size = len(data) * 3 // 4
    return f"[{kind} {sanitize(mime or 'unknown type')}, {human_size(size)}]"


def block_text(block: Any) -> str:
    """The text standing for one content block."""
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return binary_note(kind, getattr(block, "mime_type", ""), str(block.data))
    if kind == "resource_link":
        name = getattr(block, "name", "") or ""
        return f"[resource link {block.uri} {name}]".replace(" ]", "]")
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        if text is not None:
            return f"[resource {resource.uri}]\n{text}"
        blob = str(getattr(resource, "blob", ""))
        return f"[resource {resource.uri}] " + binary_note(
            "blob", getattr(resource, "mime_type", "") or "", blob
        )
    return f"[{sanitize(str(kind)) or 'unknown'} content not shown]"


def to_tool_result(call_id: str, name: str, result: Any) -> ToolResult:
    """Fold a ``CallToolResult`` into one sanitized, capped ``ToolResult``."""
    blocks = list(getattr(result, "content", None) or [])
    parts = [block_text(block) for block in blocks]
    structured = getattr(result, "structured_content", None)
    if structured is not None and not any(getattr(b, "type", "") == "text" for b in blocks):
        parts.append(json.dumps(structured, ensure_ascii=False, indent=2))
    text = sanitize("\n".join(parts)) or "(no content)"
    if len(text) > MAX_RESULT_CHARS:
        cut = len(text) - MAX_RESULT_CHARS
        text = f"{text[:MAX_RESULT_CHARS]}\n[result cut: {cut} more characters not shown]"
    return ToolResult(call_id, name, text, is_error=bool(getattr(result, "is_error", False)))
