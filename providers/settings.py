"""How to reach one model: endpoint, model, key, timeouts, retries and stream limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
"""What an HTTP/1.1 header value may hold here: tab and printable ASCII (no CR, LF, NUL)."""
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP header name (an RFC 9110 token)."""


def base_url_problem(kind: str, base_url: str) -> str | None:
    """Why ``base_url`` cannot serve ``kind`` (a rule of the wire format), or None.

    The config loader asks this while loading and the adapter when it is built, so a
    config the doctor accepts is one every adapter accepts.
    """
    if kind == "ollama" and base_url.rstrip("/").endswith("/v1"):
        return (
            'this is Ollama\'s OpenAI-compatible endpoint: use kind "openai" for it,'
            ' or drop the /v1 to use kind "ollama"'
        )
    return None


def usable_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a host that a request line can carry."""
    if not HEADER_VALUE.fullmatch(url) or any(c.isspace() for c in url):
        return False  # spaces, controls, non-ASCII: the request line cannot carry them
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:  # "http://[::1" and other unparsable hosts
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def model_problem(model: str) -> str | None:
    """Why ``model`` cannot be sent as a model name (it holds a control character), or None.

    A model name goes into the request body, and for Gemini into the URL, where a control
    character makes the request impossible to send; no real model name holds one.
    """
    if _CONTROL.search(model):
        return "holds a control character"
    return None


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


MiB = 1024 * 1024


def mib(size: int) -> str:
    """``size`` bytes for a message: ``32 MiB``, ``1.5 MiB``, ``512 KiB``."""
    if size < MiB:
        return f"{size / 1024:g} KiB"
    return f"{size / MiB:g} MiB"


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """What one response may cost; passing a limit ends the response with an error.

    The server controls every byte of a response, so each of these bounds
    what it can make chattui hold or wait for. The defaults leave room for a
    10 MiB ``save_file`` sent whole in one event.

    Attributes:
        max_event_bytes: one SSE line or event, one NDJSON line: the most a
            parser buffers before it can interpret anything.
        max_response_bytes: the whole body, counted after decompression.
        max_seconds: wall time from sending the request to the end of the body.
        max_ratio: decompressed bytes per compressed byte (a "zip bomb"
            guard), checked once ``ratio_floor`` bytes were decompressed.
        ratio_floor: decompressed bytes before the ratio guard applies.
    """

    max_event_bytes: int = 32 * MiB
    max_response_bytes: int = 256 * MiB
    max_seconds: float = 3600.0
    max_ratio: int = 500
    ratio_floor: int = 8 * MiB


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
        limits: what one response may cost (``StreamLimits``).
        prompt_cache: mark cache breakpoints in requests, where the API needs them
            (Anthropic; the others cache on their own).
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
    limits: StreamLimits = field(default_factory=StreamLimits)
    prompt_cache: bool = True
