"""The config file: TOML read into frozen, typed objects.

The file lives at ``$CHATTUI_CONFIG`` or ``<user config dir>/chattui/config.toml``
(see ``tui.core.locations``). Every key is optional; a full example::

    default_provider = "local"   # default: the first provider in the file

    [providers.local]
    kind = "openai"              # openai | openai-responses | anthropic | gemini | ollama | demo
                                 # (default: the table name, when it is one of these)
    base_url = "http://127.0.0.1:8080/v1"
    model = "qwen2.5-coder"
    api_key_env = "LOCAL_KEY"    # or api_key = "...", or api_key_cmd = ["pass", "show", "llm"]
    timeout = 300                # read timeout in seconds
    max_retries = 2
    headers = { "X-Title" = "chattui" }
    system_prompt = "..."
    max_tokens = 8192
    max_event_mb = 32            # one SSE line/event or NDJSON line, at most
    max_response_mb = 256        # one response body, decompressed, at most
    max_response_seconds = 3600  # one response, start to end, at most
    cache = true                 # Anthropic prompt-cache breakpoints (others cache on their own)
    reasoning = "medium"         # off | low | medium | high (default: the model's own)
    price = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }  # USD/Mtok

    [tools]
    workspace = "."              # the only place file tools may touch (relative to the cwd)
    approval = "ask"             # ask | auto (inside the workspace) | deny
    enabled = ["save_file", "edit_file", "read_file", "list_files"]
    max_steps = 25               # tool-loop bound per prompt

Defaults per kind:

| kind | base_url | model | key |
|---|---|---|---|
| openai, openai-responses | https://api.openai.com/v1 | gpt-5-mini | $OPENAI_API_KEY |
| anthropic | https://api.anthropic.com | claude-sonnet-4-5 | $ANTHROPIC_API_KEY |
| gemini | https://generativelanguage.googleapis.com/v1beta | gemini-2.5-flash | $GEMINI_API_KEY |
| ollama | http://127.0.0.1:11434 | (required) | none |
| demo | (in-process) | demo | none |

Keys: give at most one of ``api_key`` (a literal; keep the file ``chmod 600``),
``api_key_env`` (a variable name) or ``api_key_cmd`` (a command run without a shell,
whose first line of output is the key). With none of them, the kind's key variable is
used, but only when ``base_url`` is the kind's default: a vendor key is never sent to
another server, so a local OpenAI-compatible server is keyless unless given a key.
Keys are resolved only when a provider is used (``tui.core.keys.resolve_settings``).

Without a config file, ``$OPENAI_API_KEY`` selects provider "openai", else
``$ANTHROPIC_API_KEY`` selects "anthropic", else the offline "demo" provider. A file
named by ``--config`` or ``$CHATTUI_CONFIG`` must exist. This module never writes the file.

One validation path
-------------------
``chattui config`` (the doctor, ``tui.core.keys.doctor``) and every run load the file
with ``load_config``, so whatever a run would reject must be rejected *here*, while
loading, with the file and line/column (syntax) or the key path (schema). The doctor
adds only what cannot be known before the run: resolving each key source. A check that
lives anywhere else (in the tool registry, a provider, the session) is a config the
doctor calls "ok" and the run refuses.

To add a key or a section:

1. add the key to its section's allowed tuple (``_TOP_KEYS``, ``_PROVIDER_KEYS``,
   ``_TOOLS_KEYS``, or a new ``_<SECTION>_KEYS``); unknown keys are refused by
   ``_check_keys`` at every level;
2. read it in the section's ``_parse_<section>`` with the typed readers below
   (``_string``, ``_number``, ``_integer``, ``_url``, ``_string_list``, ...), which raise
   ``ConfigError`` naming the key path; add a field to the section's frozen dataclass;
3. check every value the way its consumer would: if the consumer has its own rule (a
   set of known names, a parser), expose that rule as a function there and call it here,
   as ``_parse_tools`` does with ``tui.core.tools.registry.unknown_tools``, so there is
   one rule, not two;
4. name untrusted text in messages through ``_shown`` / ``_path`` (escapes control and
   bidi characters); never echo a value that may be a secret;
5. for a new section: add it to ``_TOP_KEYS`` and ``SECTION_KEYS``, parse it in
   ``_build`` and add a field to ``Config``; add a line to ``doctor``'s report;
6. give each new key a valid-value strategy in ``tests/support/configs.py`` (its schema
   table must cover ``SECTION_KEYS``, a test checks it), so the property tests generate
   configs with it, valid and broken.
"""

from __future__ import annotations

import difflib
import errno
import math
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, overload

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
from tui.core import locations
from tui.core.mcp.config import SERVER_KEYS, McpServerConfig, parse_mcp
from tui.core.pricing import Price
from tui.core.tools.paths import visible_path

KINDS = ("openai", "openai-responses", "anthropic", "gemini", "ollama", "demo")
APPROVALS = ("ask", "auto", "deny")
DEFAULT_TOOLS = ("save_file", "edit_file", "read_file", "list_files")
MAX_CONFIG_BYTES = 1024 * 1024
"""A config file larger than this is refused (it is a mistake, not a config)."""
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
_KIND_DEFAULTS: dict[str, tuple[str, str, str]] = {
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
_PROVIDER_KEYS = (
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
_TOOLS_KEYS = ("workspace", "approval", "enabled", "max_steps", "run_command")
_COMMAND_KEYS = ("allow",)
_TOP_KEYS = ("default_provider", "providers", "tools", "mcp")
SECTION_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "": _TOP_KEYS,
        "providers.NAME": _PROVIDER_KEYS,
        "tools": _TOOLS_KEYS,
        "tools.run_command": _COMMAND_KEYS,
        "mcp": ("servers",),
        "mcp.servers.NAME": SERVER_KEYS,
    }
)
"""Every key each section accepts, by section path ("" is the top level); the property
tests generate configs from this table, so a new key or section must be listed here."""
# Capitals only: a pasted key (mixed case, like most Gemini keys) must fail here, before
# "variable X is not set" messages and the doctor report would echo it.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)


class ConfigError(Exception):
    """The config cannot be used; the message names the file and line, or the key path."""


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
        shown = {k: "***" if k.lower() in _SENSITIVE_HEADERS else v for k, v in self._items.items()}
        return f"Headers({shown!r})"


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


@dataclass(frozen=True)
class ToolsConfig:
    """The ``[tools]`` table: what the model's tools may do."""

    workspace: Path
    """Absolute directory that file tools are confined to."""
    approval: str = "ask"
    """Approval policy: ``ask``, ``auto`` (inside the workspace) or ``deny``."""
    enabled: tuple[str, ...] = DEFAULT_TOOLS
    """Names of the tools offered to the model."""
    max_steps: int = 25
    """Most model/tool round trips for one prompt."""
    command_allow: tuple[str, ...] = ()
    """``[tools.run_command] allow``: command prefixes run without asking."""


@dataclass(frozen=True)
class Config:
    """The whole configuration, as loaded by ``load_config``."""

    path: Path | None
    """The file read, or None when defaults from the environment were used."""
    default_provider: str
    """Name of the provider used when none is chosen."""
    providers: Mapping[str, ProviderConfig]
    """Providers by name, in file order."""
    tools: ToolsConfig
    """Tool settings."""
    warnings: tuple[str, ...] = ()
    """Non-fatal problems to show the user (e.g. a key in a world-readable file)."""
    mcp: tuple[McpServerConfig, ...] = ()
    """MCP servers from ``[mcp.servers.NAME]`` tables, in file order (``tui.core.mcp.config``)."""

    def provider(self, name: str | None = None) -> ProviderConfig:
        """The provider called ``name``, or the default one.

        Raises:
            ConfigError: no provider has that name; the message lists the known names.
        """
        chosen = name or self.default_provider
        if chosen not in self.providers:
            known = ", ".join(visible_path(p) for p in self.providers)
            raise ConfigError(f"unknown provider {_shown(chosen)} (known: {known})")
        return self.providers[chosen]


def default_key_env(kind: str) -> str:
    """The environment variable a kind's key comes from by default ("" if keyless)."""
    return _KIND_DEFAULTS[kind][2]


# --- loading ---------------------------------------------------------------------------------


def load_config(
    path: Path | None = None, env: Mapping[str, str] = os.environ, cwd: Path | None = None
) -> Config:
    """Read the config file, or build defaults from the environment when there is none.

    Args:
        path: an explicit file (``--config``); it must exist.
        env: environment for ``$CHATTUI_CONFIG`` and the no-config provider choice.
        cwd: directory a relative ``tools.workspace`` is resolved against (default: cwd).

    Raises:
        ConfigError: explicit file missing, unreadable, not TOML, or not the schema.
    """
    cwd = cwd or _current_directory()
    explicit = path is not None or locations.config_file_override(env) is not None
    file = Path(path) if path is not None else locations.config_file(env)
    if not _exists(file):
        if explicit:
            raise ConfigError(f"config file not found: {file}")
        providers = _environment_providers(env)
        tools = ToolsConfig(workspace=cwd.resolve())
        return Config(None, next(iter(providers)), MappingProxyType(providers), tools)
    data = _read_toml(file)
    try:
        return _build(data, file, env, cwd)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from None


def _exists(file: Path) -> bool:
    try:
        file.stat()
    except FileNotFoundError:
        return False
    except OSError as exc:  # a parent that cannot be searched, a name too long
        if exc.errno in (errno.ENOTDIR, errno.ENOENT):
            return False
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
    return True


def _current_directory() -> Path:
    try:
        return Path.cwd()
    except OSError as exc:  # the directory was removed under the shell
        raise ConfigError(f"cannot use the current directory: {exc.strerror or exc}") from None


def _environment_providers(env: Mapping[str, str]) -> dict[str, ProviderConfig]:
    # Every vendor whose key is set, in priority order, and the demo last as a fallback.
    providers = {}
    for kind in ("openai", "anthropic"):
        if env.get(_KIND_DEFAULTS[kind][2]):
            providers[kind] = _parse_provider(kind, {})
    providers["demo"] = _parse_provider("demo", {})
    return providers


def _read_toml(file: Path) -> dict[str, Any]:
    raw = _read_regular_file(file)
    try:
        text = raw.decode("utf-8-sig")  # Windows editors may add a BOM
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{file}: line {line}: not valid UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_message(file, text, str(exc))) from None


def _read_regular_file(file: Path) -> bytes:
    # Only a regular file: a FIFO would block the read forever, a device never end.
    try:
        with open(file, "rb", opener=_open_nonblocking) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ConfigError(f"{file}: not a regular file")
            if info.st_size > MAX_CONFIG_BYTES:
                raise ConfigError(f"{file}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
            return handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None


def _open_nonblocking(path: str, flags: int) -> int:
    # O_NONBLOCK makes opening a FIFO with no writer return at once instead of waiting.
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _syntax_message(file: Path, text: str, message: str) -> str:
    # tomllib (3.11) puts the position only in its message: "... (at line 3, column 7)".
    if m := re.fullmatch(r"(?s)(.*) \(at line (\d+), column (\d+)\)", message):
        return f"{file}: line {m[2]}, column {m[3]}: {m[1]}"
    if m := re.fullmatch(r"(?s)(.*) \(at end of document\)", message):
        line = text.count("\n") + 1
        column = len(text.rsplit("\n", 1)[-1]) + 1
        return f"{file}: line {line}, column {column} (end of file): {m[1]}"
    return f"{file}: {message}"


def _build(data: dict[str, Any], file: Path, env: Mapping[str, str], cwd: Path) -> Config:
    _check_keys(data, _TOP_KEYS, "")
    tables = data.get("providers", {})
    if not isinstance(tables, dict):
        raise ConfigError("providers: must be a table of [providers.NAME] tables")
    if any(not name.strip() for name in tables):
        raise ConfigError("providers: a provider name must not be empty or blank")
    providers = {name: _parse_provider(name, table) for name, table in tables.items()}
    providers = providers or _environment_providers(env)
    default = _string(data, "default_provider", "") or next(iter(providers))
    if default not in providers:
        known = ", ".join(visible_path(p) for p in providers)
        raise ConfigError(f"default_provider: no provider named {_shown(default)} (known: {known})")
    tools = _parse_tools(data.get("tools", {}), cwd)
    warnings = _permission_warnings(file, providers.values())
    try:
        mcp = parse_mcp(data.get("mcp"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return Config(file, default, MappingProxyType(providers), tools, warnings, mcp)


def _parse_provider(name: str, table: Any) -> ProviderConfig:
    where = _path("providers", name)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    _check_keys(table, _PROVIDER_KEYS, where)
    kind = _string(table, "kind", where) or name
    if kind not in KINDS:
        shown = f"unknown kind {_shown(kind)}" if "kind" in table else "missing kind"
        raise ConfigError(f"{where}.kind: {shown} (expected one of: {', '.join(KINDS)})")
    default_url, default_model, _ = _KIND_DEFAULTS[kind]
    base_url = _url(table, where) or default_url
    if (problem := base_url_problem(kind, base_url)) is not None:
        raise ConfigError(f"{where}.base_url: {problem}")
    model = _string(table, "model", where) or default_model
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
        timeout=_number(table, "timeout", where, 300.0, maximum=MAX_TIMEOUT),
        max_retries=_retries(table, where),
        headers=_headers(table, where),
        system_prompt=_string(table, "system_prompt", where, allow_empty=True),
        max_tokens=_integer(table, "max_tokens", where, None, minimum=1),
        limits=_limits(table, where),
        prompt_cache=_boolean(table, "cache", where, default=True),
        reasoning=_reasoning(table, where),
        price=_price(table, where),
    )


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
    _check_keys(price, _PRICE_KEYS, where)
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


def _boolean(table: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{_path(where, key)}: must be true or false")
    return value


def _limits(table: Mapping[str, Any], where: str) -> StreamLimits:
    default = StreamLimits()
    event = _number(table, "max_event_mb", where, default.max_event_bytes / MiB, maximum=MAX_MB)
    total = _number(
        table, "max_response_mb", where, default.max_response_bytes / MiB, maximum=MAX_MB
    )
    seconds = _number(
        table, "max_response_seconds", where, default.max_seconds, maximum=MAX_TIMEOUT
    )
    return StreamLimits(
        max_event_bytes=round(event * MiB),
        max_response_bytes=round(total * MiB),
        max_seconds=seconds,
    )


def _retries(table: dict[str, Any], where: str) -> int:
    return _integer(table, "max_retries", where, 2, minimum=0, maximum=MAX_RETRIES) or 0


def _key_source(table: dict[str, Any], where: str, kind: str, base_url: str) -> dict[str, Any]:
    given = [key for key in _KEY_OPTIONS if key in table]
    if len(given) > 1:
        raise ConfigError(
            f"{where}.{given[1]}: set only one of api_key, api_key_env, api_key_cmd"
            f" ({given[0]} is already set)"
        )
    literal = _string(table, "api_key", where)
    if literal is not None and not HEADER_VALUE.fullmatch(literal.strip()):
        # Never echo it: it is the key.
        raise ConfigError(
            f"{where}.api_key: the key cannot be sent: it holds a control or non-ASCII character"
        )
    env_name = _string(table, "api_key_env", where)
    if env_name is not None and not _ENV_NAME.fullmatch(env_name):
        # Never echo it: a common slip is pasting the key itself here.
        raise ConfigError(
            f"{where}.api_key_env: must be the name of an environment variable"
            " (capitals, digits and _), not the key itself"
        )
    argv = table.get("api_key_cmd")
    if argv is not None and not (
        isinstance(argv, list) and argv and all(isinstance(a, str) and a for a in argv)
    ):
        raise ConfigError(f"{where}.api_key_cmd: must be a non-empty list of strings")
    if argv is not None and any("\0" in a for a in argv):
        raise ConfigError(f"{where}.api_key_cmd: an argument holds a NUL character")
    default_url, _, default_env = _KIND_DEFAULTS[kind]
    if not given and base_url == default_url:
        env_name = default_env or None
    return {
        "api_key": Secret(literal.strip()) if literal else None,
        "api_key_env": env_name,
        "api_key_cmd": tuple(argv or ()),
    }


def _parse_tools(table: Any, cwd: Path) -> ToolsConfig:
    if not isinstance(table, dict):
        raise ConfigError("tools: must be a table")
    _check_keys(table, _TOOLS_KEYS, "tools")
    approval = table.get("approval", "ask")
    if approval not in APPROVALS:
        raise ConfigError(f"tools.approval: must be one of {', '.join(APPROVALS)}")
    return ToolsConfig(
        workspace=_workspace(table, cwd),
        approval=approval,
        enabled=_tool_names(table),
        max_steps=_integer(table, "max_steps", "tools", 25, minimum=1) or 25,
        command_allow=_command_allow(table.get("run_command", {})),
    )


def _command_allow(table: Any) -> tuple[str, ...]:
    from tui.core.tools.command import parse_allow  # the runner's own rule

    if not isinstance(table, dict):
        raise ConfigError("tools.run_command: must be a table")
    _check_keys(table, _COMMAND_KEYS, "tools.run_command")
    allow = table.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(entry, str) for entry in allow):
        raise ConfigError("tools.run_command.allow: must be a list of command strings")
    try:
        parse_allow(allow)
    except ValueError as exc:
        raise ConfigError(f"tools.run_command.allow: {visible_path(str(exc))}") from None
    return tuple(allow)


def _tool_names(table: Mapping[str, Any]) -> tuple[str, ...]:
    from tui.core.tools.registry import known_tools, unknown_tools  # the registry's own rule

    enabled = table.get("enabled", list(DEFAULT_TOOLS))
    if not isinstance(enabled, list) or not all(isinstance(t, str) and t for t in enabled):
        raise ConfigError("tools.enabled: must be a list of tool names")
    unknown = unknown_tools(enabled)
    if unknown:
        names = ", ".join(_shown(name) for name in unknown)
        known = ", ".join(known_tools())
        raise ConfigError(f"tools.enabled: unknown tool {names} (known: {known})")
    return tuple(dict.fromkeys(enabled))


def workspace_problem(path: Path) -> str | None:
    """Why ``path`` cannot be the workspace (missing, not a directory), or None if it can.

    The loader checks ``tools.workspace`` with it and the runtime checks ``--workspace``.
    """
    try:
        info = path.stat()
    except OSError as exc:
        return f"cannot use {visible_path(str(path))}: {exc.strerror or exc}"
    if not stat.S_ISDIR(info.st_mode):
        return f"not a directory: {visible_path(str(path))}"
    return None


def _workspace(table: Mapping[str, Any], cwd: Path) -> Path:
    raw = _string(table, "workspace", "tools") or "."
    if "\0" in raw:
        raise ConfigError("tools.workspace: holds a NUL character")
    try:
        path = (cwd / os.path.expanduser(raw)).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise ConfigError(f"tools.workspace: cannot resolve: {exc}") from None
    problem = workspace_problem(path)
    if problem is not None:
        raise ConfigError(f"tools.workspace: {problem}")
    return path


def _permission_warnings(file: Path, providers: Iterable[ProviderConfig]) -> tuple[str, ...]:
    holders = [
        visible_path(p.name) for p in providers if p.api_key is not None or p.headers.holds_secret()
    ]
    if not holders or os.name == "nt":  # POSIX mode bits mean nothing on Windows
        return ()
    mode = file.stat().st_mode & 0o777
    if not mode & 0o077:
        return ()
    return (
        f"{file} holds a key (providers {', '.join(holders)}) but other users can read it"
        f" (mode {mode:03o}): run `chmod 600 {file}` or use api_key_env",
    )


# --- small typed readers; each error names its key path ----------------------------------------


def _shown(name: str) -> str:
    """An untrusted name for a message: quoted, control and bidi characters escaped."""
    return "'" + visible_path(name).replace("'", "\\'") + "'"


def provider_path(name: str, key: str) -> str:
    """``providers.NAME.KEY`` for a message, the name escaped (see ``_path``)."""
    return _path(_path("providers", name), key)


def _path(where: str, key: str) -> str:
    # Keys come from the file: a provider named "\x1b]52;..." must not reach the terminal.
    key = visible_path(key)
    return f"{where}.{key}" if where else key


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{_path(where, key)}: unknown key{hint}")


def _string(
    table: Mapping[str, Any], key: str, where: str, *, allow_empty: bool = False
) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not (allow_empty or value.strip())):
        raise ConfigError(f"{_path(where, key)}: must be a non-empty string")
    return value


def _url(table: Mapping[str, Any], where: str) -> str | None:
    url = _string(table, "base_url", where)
    if url is None:
        return None
    if not usable_url(url):
        raise ConfigError(f"{where}.base_url: must be an http:// or https:// URL with a host")
    return url.rstrip("/")


def _number(
    table: Mapping[str, Any], key: str, where: str, default: float, *, maximum: float
) -> float:
    value = table.get(key, default)
    message = f"{_path(where, key)}: must be a positive number up to {maximum:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(message)
    if not (math.isfinite(value) and 0 < value <= maximum):
        raise ConfigError(message)
    return float(value)


@overload
def _integer(
    table: Mapping[str, Any],
    key: str,
    where: str,
    default: int,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int: ...
@overload
def _integer(
    table: Mapping[str, Any],
    key: str,
    where: str,
    default: None,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int | None: ...
def _integer(
    table: Mapping[str, Any],
    key: str,
    where: str,
    default: int | None,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int | None:
    value = table.get(key, default)
    if value is None:
        return None
    too_big = maximum is not None and isinstance(value, int) and value > maximum
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or too_big:
        upto = f" and <= {maximum}" if maximum is not None else ""
        raise ConfigError(f"{_path(where, key)}: must be a whole number >= {minimum}{upto}")
    return value


def _headers(table: Mapping[str, Any], where: str) -> Headers:
    headers = table.get("headers", {})
    if not isinstance(headers, dict):
        raise ConfigError(f"{where}.headers: must be a table of strings")
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(name):
            raise ConfigError(f"{_path(where + '.headers', name)}: not a valid header name")
        if not isinstance(value, str) or not HEADER_VALUE.fullmatch(value):
            raise ConfigError(
                f"{_path(where + '.headers', name)}: must be a one-line string of printable ASCII"
            )
    return Headers(headers)
