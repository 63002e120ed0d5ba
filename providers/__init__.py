"""The model layer: one normalized stream of events from every major streaming API.

``create_provider(settings)`` returns the adapter for ``settings.kind``; its
``stream(ChatRequest)`` is an async generator of ``providers.events`` events.
Adapters are imported lazily so that importing ``providers`` stays cheap.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

# httpx's package imports its command-line tool (httpx._main), which loads click, rich and
# pygments whenever they are installed (they are, for the TUI): 100-200 ms of every start-up,
# for a tool chattui never runs. A None entry makes that one import fail, and httpx then
# defines a stub `httpx.main` instead (its own fallback for when they are missing). chattui
# imports httpx only through this package's modules, or after them (the MCP client).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

if TYPE_CHECKING:
    from providers.base import HTTPProvider
    from providers.settings import ProviderSettings

ADAPTERS = {
    "openai": ("providers.openai", "OpenAIChat"),
    "openai-responses": ("providers.openai_responses", "OpenAIResponses"),
    "anthropic": ("providers.anthropic", "Anthropic"),
    "gemini": ("providers.gemini", "Gemini"),
    "ollama": ("providers.ollama", "Ollama"),
    "demo": ("providers.demo", "Demo"),
}
KINDS = tuple(ADAPTERS)


def create_provider(settings: ProviderSettings, **kwargs: Any) -> HTTPProvider:
    """The adapter for ``settings.kind`` (extra kwargs go to its constructor)."""
    try:
        module_name, class_name = ADAPTERS[settings.kind]
    except KeyError:
        raise ValueError(f"unknown provider kind {settings.kind!r}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    provider: HTTPProvider = cls(settings, **kwargs)
    return provider
