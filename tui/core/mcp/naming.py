"""The tool names the model sees for MCP tools: ``mcp__<server>__<tool>``.

APIs accept tool names of ``[A-Za-z0-9_-]`` up to 64 characters (OpenAI and
Anthropic say so; Gemini is stricter on the first character, which ``m``
satisfies). A server's tool name may hold anything, so each other character
becomes ``_``; a name that had to change or is over 64 characters is cut and
gets ``_`` plus 6 hex digits of the SHA-256 of the exact server and tool
names, so two tools that reduce to the same text still get different names.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "mcp__"
SEPARATOR = "__"
MAX_NAME = 64
_HASH_DIGITS = 6
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """The model-facing name of ``tool`` on ``server`` (deterministic, 64 chars at most)."""
    plain = f"{PREFIX}{server}{SEPARATOR}{tool}"
    safe = _UNSAFE.sub("_", plain)
    if safe == plain and len(safe) <= MAX_NAME:
        return safe
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:_HASH_DIGITS]
    return f"{safe[: MAX_NAME - _HASH_DIGITS - 1]}_{digest}"


def is_mcp_name(name: str) -> bool:
    """Whether a tool name is in the MCP namespace (a built-in never starts with ``mcp__``)."""
    return name.startswith(PREFIX)


def split_name(name: str) -> tuple[str, str] | None:
    """``(server, tool)`` read back from a name made by ``tool_name``, when it was not cut.

    Used only to label calls of a server that is no longer configured (a resumed
    transcript); live calls are looked up in the manager's table instead.
    """
    if not is_mcp_name(name):
        return None
    server, sep, tool = name[len(PREFIX) :].partition(SEPARATOR)
    return (server, tool) if sep and server and tool else None
