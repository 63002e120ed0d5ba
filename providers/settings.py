"""How to reach one model: endpoint, model, key, timeouts and retries."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
"""What an HTTP/1.1 header value may hold here: tab and printable ASCII (no CR, LF, NUL)."""
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP header name (an RFC 9110 token)."""


class Secret:
    """An API key whose repr and str never show the value.

    Crash screens print local variables and tracebacks print reprs, so the
    key only leaves this object through ``reveal()``, at the moment a request
    header is built.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself; call only to build a request header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """Everything an adapter needs to talk to one model endpoint.

    Attributes:
        kind: wire format: openai | openai-responses | anthropic | gemini | ollama | demo.
        base_url: API root, e.g. ``https://api.openai.com/v1``.
        model: model name sent in the request.
        api_key: the key, wrapped so it never shows in a repr; None for keyless servers.
        key_source: where the key came from, for messages ("$OPENAI_API_KEY").
        timeout: read timeout in seconds: the longest silence between bytes.
        connect_timeout: seconds to establish the connection.
        max_retries: retries before the first delta (so 1 + max_retries attempts).
        headers: extra request headers.
        max_tokens: output token cap, where the API needs or accepts one.
    """

    kind: str
    base_url: str
    model: str
    api_key: Secret | None = None
    key_source: str = ""
    timeout: float = 300.0
    connect_timeout: float = 10.0
    max_retries: int = 2
    headers: Mapping[str, str] = field(default_factory=dict)
    max_tokens: int | None = None
