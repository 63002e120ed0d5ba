"""``[providers.NAME]`` tables: the kinds, their presets and every provider key's rule."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.conversation import REASONING_LEVELS, Reasoning
from providers.settings import (
    HEADER_NAME,
    HEADER_VALUE,
    MiB,
    Secret,
    StreamLimits,
    base_url_problem,
    model_problem,
    usable_url,
)
from tui.core.config.values import (
    ConfigError,
    check_keys,
    key_path,
    read_boolean,
    read_integer,
    read_number,
    read_string,
    shown,
)
from tui.core.pricing import Price

KINDS = ("openai", "openai-responses", "anthropic", "gemini", "ollama", "demo")
MAX_TIMEOUT = 86400.0
"""Longest ``timeout`` accepted, in seconds (a day)."""
MAX_RETRIES = 100
"""Most ``max_retries`` accepted (backoff doubles per attempt)."""
MAX_MB = 65536.0
"""Largest ``max_event_mb`` / ``max_response_mb`` accepted (64 GiB: more is a typo)."""
MAX_PRICE = 100_000.0
"""Largest price accepted, in US dollars per million tokens (more is a typo)."""

_OPENAI = ("https://api.openai.com/v1", "gpt-5-mini", "OPENAI_API_KEY")
# kind -> (default base_url, default model, default key variable); "" means none.
KIND_DEFAULTS: dict[str, tuple[str, str, str]] = {
    "openai": _OPENAI,
    "openai-responses": _OPENAI,
    "anthropic": ("https://api.anthropic.com", "claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
    "gemini": (
        "https://generativelanguage.googleapis.com/v1beta",
        "gemini-2.5-flash",
        "GEMINI_API_KEY",
    ),
    "ollama": ("http://127.0.0.1:11434", "", ""),
    "demo": ("", "demo", ""),
}
_KEY_OPTIONS = ("api_key", "api_key_env", "api_key_cmd")
_LIMIT_KEYS = ("max_event_mb", "max_response_mb", "max_response_seconds")
PROVIDER_KEYS = (
    "kind",
    "base_url",
    "model",
    *_KEY_OPTIONS,
    "timeout",
    "max_retries",
    "headers",
    "system_prompt",
    "max_tokens",
    *_LIMIT_KEYS,
    "cache",
    "reasoning",
    "price",
)
_PRICE_KEYS = ("input", "output", "cache_read", "cache_write")
# "variable X is not set" messages and the doctor report would echo it.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)


class Headers(Mapping[str, str]):
    """Extra request headers; the repr hides values of credential-carrying headers."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, name: str) -> str:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def holds_secret(self) -> bool:
        """Whether a header such as Authorization carries a credential."""
        return any(name.lower() in _SENSITIVE_HEADERS for name in self._items)

    def __repr__(self) -> str:
        masked = {
            k: "***" if k.lower() in _SENSITIVE_HEADERS else v for k, v in self._items.items()
        }
        return f"Headers({masked!r})"


@dataclass(frozen=True)
class ProviderConfig:
    """One ``[providers.NAME]`` table, with the kind's defaults filled in."""

    name: str
    """The table name, used to select the provider (``--provider NAME``)."""
    kind: str
    """Wire format: one of ``KINDS``."""
    base_url: str
    """API root without a trailing slash; "" for the in-process demo."""
    model: str
    """Model name sent with each request."""
    api_key: Secret | None = None
    """A literal key from the file, or None."""
    api_key_env: str | None = None
    """Name of the environment variable holding the key (explicit or the kind's default)."""
    api_key_cmd: tuple[str, ...] = ()
    """Command (argv, no shell) printing the key; empty when unused."""
    timeout: float = 300.0
    """Read timeout in seconds: the longest silence allowed between bytes."""
    max_retries: int = 2
    """Retries before the first streamed delta."""
    headers: Headers = field(default_factory=Headers)
    """Extra request headers."""
    system_prompt: str | None = None
    """System prompt sent at the start of each conversation, or None."""
    max_tokens: int | None = None
    """Output token cap, or None for the adapter's default."""
    limits: StreamLimits = field(default_factory=StreamLimits)
    """What one response may cost (the ``max_*`` keys of the provider table)."""
    prompt_cache: bool = True
    """Whether requests mark prompt-cache breakpoints (the ``cache`` key; Anthropic)."""
    reasoning: Reasoning | None = None
    """Reasoning effort sent with each request, or None to send none."""
    price: Price | None = None
    """The configured price, which wins over the bundled price table."""

    @property
    def keyless(self) -> bool:
        """True when no key source is configured (demo, ollama, a local server)."""
        return self.api_key is None and not self.api_key_env and not self.api_key_cmd


def default_key_env(kind: str) -> str:
    """The environment variable a kind's key comes from by default ("" if keyless)."""
    return KIND_DEFAULTS[kind][2]


def environment_providers(env: Mapping[str, str]) -> dict[str, ProviderConfig]:
    # Every vendor whose key is set, in priority order, and the demo last as a fallback.
    providers = {}
    for kind in ("openai", "anthropic"):
        if env.get(KIND_DEFAULTS[kind][2]):
            providers[kind] = parse_provider(kind, {})
    providers["demo"] = parse_provider("demo", {})
    return providers


def parse_provider(name: str, table: Any) -> ProviderConfig:
    where = key_path("providers", name)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    check_keys(table, PROVIDER_KEYS, where)
    kind = _kind(table, where, name)
    default_url, default_model, _ = KIND_DEFAULTS[kind]
    base_url = _url(table, where) or default_url
    if (problem := base_url_problem(kind, base_url)) is not None:
        raise ConfigError(f"{where}.base_url: {problem}")
    model = read_string(table, "model", where) or default_model
    if not model:
        raise ConfigError(f"{where}.model: required for kind {kind}")
    if (problem := model_problem(model)) is not None:
        raise ConfigError(f"{where}.model: {problem}")
    return ProviderConfig(
        name=name,
        kind=kind,
        base_url=base_url,
        model=model,
        **_key_source(table, where, kind, base_url),
        timeout=read_number(table, "timeout", where, 300.0, maximum=MAX_TIMEOUT),
        max_retries=_retries(table, where),
        headers=_headers(table, where),
        system_prompt=read_string(table, "system_prompt", where, allow_empty=True),
        max_tokens=read_integer(table, "max_tokens", where, None, minimum=1),
        limits=_limits(table, where),
        prompt_cache=read_boolean(table, "cache", where, default=True),
        reasoning=_reasoning(table, where),
        price=_price(table, where),
    )


def _kind(table: Mapping[str, Any], where: str, name: str) -> str:
    kind = read_string(table, "kind", where) or name
    if kind not in KINDS:
        what = f"unknown kind {shown(kind)}" if "kind" in table else "missing kind"
        raise ConfigError(f"{where}.kind: {what} (expected one of: {', '.join(KINDS)})")
    return kind


def _reasoning(table: Mapping[str, Any], where: str) -> Reasoning | None:
    value = table.get("reasoning")
    for level in REASONING_LEVELS:
        if value == level:
            return level
    if value is not None:
        raise ConfigError(f"{where}.reasoning: must be one of {', '.join(REASONING_LEVELS)}")
    return None


def _price(table: Mapping[str, Any], where: str) -> Price | None:
    price = table.get("price")
    if price is None:
        return None
    where = f"{where}.price"
    if not isinstance(price, dict):
        raise ConfigError(f"{where}: must be a table such as {{ input = 3.0, output = 15.0 }}")
    check_keys(price, _PRICE_KEYS, where)
    for key in ("input", "output"):
        if key not in price:
            raise ConfigError(f"{where}.{key}: required (US dollars per million tokens)")
    rates = {key: _rate(price, key, where) for key in price}
    return Price(**rates)


def _rate(table: Mapping[str, Any], key: str, where: str) -> float:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}.{key}: must be a number (US dollars per million tokens)")
    if not (math.isfinite(value) and 0 <= value <= MAX_PRICE):
        raise ConfigError(f"{where}.{key}: must be between 0 and {MAX_PRICE:g}")
    return float(value)


def _limits(table: Mapping[str, Any], where: str) -> StreamLimits:
    default = StreamLimits()
    event = read_number(table, "max_event_mb", where, default.max_event_bytes / MiB, maximum=MAX_MB)
    total = read_number(
        table, "max_response_mb", where, default.max_response_bytes / MiB, maximum=MAX_MB
    )
    seconds = read_number(
        table, "max_response_seconds", where, default.max_seconds, maximum=MAX_TIMEOUT
    )
    return StreamLimits(
        max_event_bytes=round(event * MiB),
        max_response_bytes=round(total * MiB),
        max_seconds=seconds,
    )


def _retries(table: dict[str, Any], where: str) -> int:
    return read_integer(table, "max_retries", where, 2, minimum=0, maximum=MAX_RETRIES) or 0


def _key_source(table: dict[str, Any], where: str, kind: str, base_url: str) -> dict[str, Any]:
    given = [key for key in _KEY_OPTIONS if key in table]
    if len(given) > 1:
        raise ConfigError(
            f"{where}.{given[1]}: set only one of api_key, api_key_env, api_key_cmd"
            f" ({given[0]} is already set)"
        )
    literal = _literal_key(table, where)
    env_name = _key_variable(table, where)
    argv = _key_command(table, where)
    default_url, _, default_env = KIND_DEFAULTS[kind]
    if not given and base_url == default_url:
        env_name = default_env or None
    return {"api_key": literal, "api_key_env": env_name, "api_key_cmd": argv}


def _literal_key(table: dict[str, Any], where: str) -> Secret | None:
    literal = read_string(table, "api_key", where)
    if literal is not None and not HEADER_VALUE.fullmatch(literal.strip()):
        # Never echo it: it is the key.
        raise ConfigError(
            f"{where}.api_key: the key cannot be sent: it holds a control or non-ASCII character"
        )
    return Secret(literal.strip()) if literal else None


def _key_variable(table: dict[str, Any], where: str) -> str | None:
    env_name = read_string(table, "api_key_env", where)
    if env_name is not None and not _ENV_NAME.fullmatch(env_name):
        # Never echo it: a common slip is pasting the key itself here.
        raise ConfigError(
            f"{where}.api_key_env: must be the name of an environment variable"
            " (capitals, digits and _), not the key itself"
        )
    return env_name


def _key_command(table: dict[str, Any], where: str) -> tuple[str, ...]:
    argv = table.get("api_key_cmd")
    if argv is None:
        return ()
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) and a for a in argv)):
        raise ConfigError(f"{where}.api_key_cmd: must be a non-empty list of strings")
    if any("\0" in a for a in argv):
        raise ConfigError(f"{where}.api_key_cmd: an argument holds a NUL character")
    return tuple(argv)


def _url(table: Mapping[str, Any], where: str) -> str | None:
    url = read_string(table, "base_url", where)
    if url is None:
        return None
    if not usable_url(url):
        raise ConfigError(f"{where}.base_url: must be an http:// or https:// URL with a host")
    return url.rstrip("/")


def _headers(table: Mapping[str, Any], where: str) -> Headers:
    headers = table.get("headers", {})
    if not isinstance(headers, dict):
        raise ConfigError(f"{where}.headers: must be a table of strings")
    for name, value in headers.items():
        at = key_path(f"{where}.headers", name)
        if not HEADER_NAME.fullmatch(name):
            raise ConfigError(f"{at}: not a valid header name")
        if not isinstance(value, str) or not HEADER_VALUE.fullmatch(value):
            raise ConfigError(f"{at}: must be a one-line string of printable ASCII")
    return Headers(headers)
