"""The models a provider's server offers: one GET per wire format.

============================  ====================================================
kind                          request, and where the names are in the answer
============================  ====================================================
openai, openai-responses      ``GET {base_url}/models``: ``data[].id``
anthropic                     ``GET {base_url}/v1/models?limit=1000``: ``data[].id``,
                              paged by ``has_more`` / ``last_id`` (``after_id=``)
gemini                        ``GET {base_url}/models?pageSize=1000``: ``models[].name``
                              without ``models/``, only those that can
                              ``generateContent``; paged by ``nextPageToken``
ollama                        ``GET {base_url}/api/tags``: ``models[].name``
demo                          no request: the demo's one model
============================  ====================================================

Each request goes through ``HTTPProvider.get_json``: the provider's own key,
headers and base URL, a timeout, a size cap, and errors that never show the
key. A server without the endpoint (HTTP 404 or 405: many OpenAI-compatible
servers, proxies) is a ``ModelsUnavailable`` naming the URL. What the server
sends is bounded: at most ``MAX_PAGES`` pages and ``MAX_MODELS`` names, each
name at most ``MAX_NAME`` characters and printable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from providers.base import HTTPProvider
from providers.errors import APIStatusError, ProviderError

MAX_PAGES = 20
MAX_MODELS = 5000
MAX_NAME = 200
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")


class ModelsUnavailable(ProviderError):
    """The server has no model-list endpoint (404/405): the model must be typed."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model the server offers.

    Attributes:
        id: the name requests are sent with.
        label: a human name when the server gives one ("Claude Sonnet 4.5"), else "".
    """

    id: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class _Page:
    models: list[ModelInfo]
    next_url: str | None = None


async def list_models(provider: HTTPProvider) -> list[ModelInfo]:
    """The models ``provider``'s server offers, sorted by id, without duplicates.

    Raises:
        ModelsUnavailable: the server has no model list (HTTP 404/405).
        ProviderError: any other failure (key, connection, timeout, garbage).
    """
    if provider.kind == "demo":
        return [ModelInfo(provider.model, "offline demo")]
    first, read = _FORMATS.get(provider.kind, (_openai_url, _openai_page))
    url: str | None = first(provider.settings.base_url.rstrip("/"))
    found: dict[str, ModelInfo] = {}
    for _ in range(MAX_PAGES):
        if url is None or len(found) >= MAX_MODELS:
            break
        try:
            data = await provider.get_json(url)
        except APIStatusError as exc:
            if exc.status in (404, 405):
                raise ModelsUnavailable(
                    f"{provider.scrub(url)} has no model list (HTTP {exc.status});"
                    " type the model's name instead"
                ) from None
            raise
        page = read(data, url)
        for model in page.models[: MAX_MODELS - len(found)]:
            found.setdefault(model.id, model)
        url = page.next_url
    return sorted(found.values(), key=lambda m: m.id)


def _entries(data: Any, key: str) -> list[Any]:
    items = data.get(key) if isinstance(data, dict) else None
    return items if isinstance(items, list) else []


def _clean(value: Any) -> str:
    """A name or label fit for a terminal line, or "" when it is not one."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME:
        return ""
    return value if _PRINTABLE.fullmatch(value) else ""


def _info(name: Any, label: Any = "") -> list[ModelInfo]:
    clean = _clean(name)
    return [ModelInfo(clean, _clean(label))] if clean else []


# --- one pair per wire format: the first URL, and what a page holds --------------------------


def _openai_url(base: str) -> str:
    return f"{base}/models"


def _openai_page(data: Any, url: str) -> _Page:
    models = [m for e in _entries(data, "data") if isinstance(e, dict) for m in _info(e.get("id"))]
    return _Page(models)


def _anthropic_url(base: str) -> str:
    return f"{base.removesuffix('/v1')}/v1/models?limit=1000"


def _anthropic_page(data: Any, url: str) -> _Page:
    models = [
        m
        for e in _entries(data, "data")
        if isinstance(e, dict)
        for m in _info(e.get("id"), e.get("display_name"))
    ]
    last = _clean(data.get("last_id") if isinstance(data, dict) else None)
    more = isinstance(data, dict) and data.get("has_more") is True and last
    base = url.split("&after_id=")[0]
    return _Page(models, f"{base}&after_id={quote(last, safe='')}" if more else None)


def _gemini_url(base: str) -> str:
    return f"{base}/models?pageSize=1000"


def _gemini_page(data: Any, url: str) -> _Page:
    models: list[ModelInfo] = []
    for entry in _entries(data, "models"):
        if not isinstance(entry, dict):
            continue
        methods = entry.get("supportedGenerationMethods")
        if isinstance(methods, list) and "generateContent" not in methods:
            continue  # embedding and other non-chat models
        name = entry.get("name")
        if isinstance(name, str):
            models += _info(name.removeprefix("models/"), entry.get("displayName"))
    token = _clean(data.get("nextPageToken") if isinstance(data, dict) else None)
    base = url.split("&pageToken=")[0]
    next_url = f"{base}&pageToken={quote(token, safe='')}" if token else None
    return _Page(models, next_url)


def _ollama_url(base: str) -> str:
    return f"{base.removesuffix('/api')}/api/tags"


def _ollama_page(data: Any, url: str) -> _Page:
    models = [
        m
        for e in _entries(data, "models")
        if isinstance(e, dict)
        for m in _info(e.get("name") or e.get("model"))
    ]
    return _Page(models)


_FORMATS: dict[str, tuple[Callable[[str], str], Callable[[Any, str], _Page]]] = {
    "openai": (_openai_url, _openai_page),
    "openai-responses": (_openai_url, _openai_page),
    "anthropic": (_anthropic_url, _anthropic_page),
    "gemini": (_gemini_url, _gemini_page),
    "ollama": (_ollama_url, _ollama_page),
}
