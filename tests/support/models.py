"""What each API's model-list endpoint answers, for loopback servers."""

from __future__ import annotations

import json
from collections.abc import Sequence

MODEL_ROUTES = {
    "openai": "/v1/models",
    "openai-responses": "/v1/models",
    "anthropic": "/v1/models",
    "gemini": "/v1beta/models",
    "ollama": "/api/tags",
}
"""The path each kind asks (the base URLs of ``tests.support.wire.ROUTES``)."""


def models_body(kind: str, names: Sequence[str]) -> bytes:
    """One page listing ``names`` in ``kind``'s own shape."""
    if kind == "anthropic":
        data: object = {"data": [{"id": n, "display_name": n.upper()} for n in names]}
    elif kind == "gemini":
        data = {"models": [{"name": f"models/{n}", "displayName": n.upper()} for n in names]}
    elif kind == "ollama":
        data = {"models": [{"name": n, "model": n} for n in names]}
    else:
        data = {"object": "list", "data": [{"id": n, "object": "model"} for n in names]}
    return json.dumps(data).encode()
