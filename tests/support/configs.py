"""Config files generated from the schema: valid ones, and each way of breaking one.

``SCHEMA`` has one valid-value strategy per key of every section in
``tui.core.config.SECTION_KEYS`` (a test checks that it covers them all, so a new key
gets a row here). ``documents`` draws a whole config as TOML text, valid or with one
mutation applied (a wrong type at a key, an unknown key at a level, an empty or huge
string, control and bidi characters in names, a duplicated table); ``raw_bytes`` draws
files that are not TOML at all.
"""

from __future__ import annotations

import datetime
import math
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from providers.conversation import REASONING_LEVELS
from providers.settings import base_url_problem
from tui.core.config import APPROVALS, KINDS, MAX_MB, MAX_PRICE, MAX_TIMEOUT
from tui.core.mcp.config import MAX_TIMEOUT as MCP_MAX_TIMEOUT
from tui.core.tools.registry import known_tools

#: The key variable every generated ``api_key_env`` names; the test environment sets them all.
ENV_NAMES = ("K1", "K2", "MY_KEY")
#: The value the tests give those variables (and the vendors' *_API_KEY variables).
ENV_KEY = "sk-generated"
#: How every literal ``api_key`` a config holds begins.
LITERAL_KEY_MARK = "sk-lit-"
# A key command that starts fast (a Python child costs ~100 ms on a busy machine).
_PRINTF = shutil.which("printf")
KEY_COMMAND = (
    [_PRINTF, "sk-from-cmd\\n"] if _PRINTF else [sys.executable, "-c", "print('sk-from-cmd')"]
)
#: Text that must never appear in any message or report: every key a generated config uses.
SECRETS = (ENV_KEY, "sk-from-cmd", LITERAL_KEY_MARK)

# Text a name or a value may hold: anything TOML can carry (no surrogates), weighted
# towards the characters that have hurt terminals: C0/C1 controls, ESC, bidi overrides.
_NASTY = "\x1b\x07\x9b\x00\r\n\t\u202e\u2066\u200b\ufeff[]'\"\\"
TEXT = st.text(
    st.one_of(st.sampled_from(_NASTY), st.characters(exclude_categories=("Cs",))), max_size=12
)
NAMES = st.one_of(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), TEXT)
PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)
# Never blank (the loader refuses blank names and models), nasty characters kept.
PROVIDER_NAMES = st.one_of(NAMES.filter(lambda s: s.strip() != ""), TEXT.map(lambda s: "p" + s))
# A model name may hold anything but control characters (those the loader refuses).
MODEL = st.text(
    st.one_of(
        st.sampled_from("\u202e\u2066\u200b\ufeff[]'\"\\/?#% "),
        st.characters(exclude_categories=("Cs", "Cc")),
    ),
    max_size=12,
).map(lambda s: "m" + s)
URLS = st.sampled_from(
    [
        "http://127.0.0.1:9/v1",
        "http://localhost:9",
        "http://[::1]:9/api",
        "https://example.invalid/v1/",
    ]
)


def _positive(maximum: float) -> st.SearchStrategy[float]:
    """A number the loader accepts for a key bounded by ``maximum`` (int or float)."""
    return st.one_of(
        st.integers(1, int(maximum)),
        st.floats(0.001, maximum, allow_nan=False, allow_infinity=False),
    )


_RATE = st.one_of(st.integers(0, int(MAX_PRICE)), st.floats(0, MAX_PRICE))
TOKEN = st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}", fullmatch=True)

# A server's tool names are its own business (any text but empty or NUL).
_TOOL_NAMES = NAMES.filter(lambda s: s != "" and "\x00" not in s)

SCHEMA: Mapping[str, Mapping[str, st.SearchStrategy[Any]]] = {
    "": {
        # default_provider and providers are drawn together by ``valid_config``.
        "default_provider": st.just(None),
        "providers": st.just(None),
        "tools": st.just(None),
        "mcp": st.just(None),
    },
    "providers.NAME": {
        "kind": st.sampled_from(KINDS),
        "base_url": URLS,
        "model": MODEL,
        "api_key": PRINTABLE.map(lambda s: LITERAL_KEY_MARK + s),
        "api_key_env": st.sampled_from(ENV_NAMES),
        "api_key_cmd": st.just(KEY_COMMAND),
        "timeout": _positive(MAX_TIMEOUT),
        "max_retries": st.integers(0, 100),
        "headers": st.dictionaries(
            TOKEN, st.from_regex(r"[ -~]{0,20}", fullmatch=True), max_size=3
        ),
        "system_prompt": TEXT,
        "max_tokens": st.integers(1, 2**62),
        "max_event_mb": _positive(MAX_MB),
        "max_response_mb": _positive(MAX_MB),
        "max_response_seconds": _positive(MAX_TIMEOUT),
        "cache": st.booleans(),
        "reasoning": st.sampled_from(REASONING_LEVELS),
        "price": st.fixed_dictionaries(
            {"input": _RATE, "output": _RATE},
            optional={"cache_read": _RATE, "cache_write": _RATE},
        ),
    },
    "tools": {
        "workspace": st.sampled_from([".", "./"]),
        "approval": st.sampled_from(APPROVALS),
        "enabled": st.lists(st.sampled_from(known_tools()), unique=True),
        "max_steps": st.integers(1, 10_000),
        "run_command": st.just(None),  # drawn from its own section below
    },
    "tools.run_command": {
        "allow": st.lists(st.sampled_from(["git status", "pytest -q", "ls", "python -m pytest"])),
    },
    "mcp": {"servers": st.just(None)},  # drawn by ``mcp_server_table``
    "mcp.servers.NAME": {
        "approval": st.sampled_from(APPROVALS),
        "auto_approve": st.lists(_TOOL_NAMES, max_size=2),
        "disabled_tools": st.lists(_TOOL_NAMES, max_size=2),
        "timeout": _positive(MCP_MAX_TIMEOUT),
        "enabled": st.booleans(),
        # stdio: generated disabled, and no such program, so no process is ever started.
        "command": st.sampled_from(["/nonexistent/mcp-server", "no-such-mcp-server"]),
        "args": st.lists(TEXT.map(lambda s: s.replace("\x00", "")), max_size=3),
        "env": st.dictionaries(st.sampled_from(ENV_NAMES), PRINTABLE, max_size=2),
        "env_passthrough": st.lists(st.sampled_from(ENV_NAMES), max_size=2),
        "cwd": st.sampled_from([".", "sub"]),
        # HTTP: nothing listens on port 9, so a started server fails at once.
        "url": st.sampled_from(["http://127.0.0.1:9/mcp", "http://[::1]:9/mcp"]),
        "headers": st.dictionaries(
            TOKEN, st.from_regex(r"[ -~]{0,20}", fullmatch=True), max_size=3
        ),
        "bearer_token_env": st.sampled_from(ENV_NAMES),
        "bearer_token_cmd": st.just(KEY_COMMAND),
    },
}
_MCP_NAMES = st.from_regex(r"[A-Za-z0-9-]{1,8}(_[A-Za-z0-9-]{1,8}){0,2}", fullmatch=True)
_MCP_COMMON = ("approval", "auto_approve", "disabled_tools", "timeout", "enabled")
_KEY_SOURCES = ("api_key", "api_key_env", "api_key_cmd")

# A value of each TOML type, for "wrong type at this key".
ANY_VALUE = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    TEXT,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(NAMES, st.integers(), max_size=2),
    st.just(datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.UTC)),
    st.just(datetime.date(2026, 1, 1)),
)


# --- valid configs -----------------------------------------------------------------------------


@st.composite
def provider_table(draw: st.DrawFn) -> dict[str, Any]:
    """One ``[providers.NAME]`` table whose every value is valid."""
    keys = SCHEMA["providers.NAME"]
    table = {"kind": draw(keys["kind"]), "model": draw(keys["model"])}
    optional = [k for k in keys if k not in ("kind", "model", *_KEY_SOURCES)]
    for key in draw(st.lists(st.sampled_from(optional), unique=True)):
        table[key] = draw(keys[key])
    if "base_url" in table and base_url_problem(table["kind"], table["base_url"]):
        del table["base_url"]  # a wire-format rule (Ollama's /v1), tested in test_config_validation
    source = draw(st.sampled_from((None, *_KEY_SOURCES)))
    if source is not None:
        table[source] = draw(keys[source])
    return table


@st.composite
def mcp_server_table(draw: st.DrawFn) -> dict[str, Any]:
    """One ``[mcp.servers.NAME]`` table whose every value is valid (stdio ones disabled)."""
    keys = SCHEMA["mcp.servers.NAME"]
    stdio = draw(st.booleans())
    first = "command" if stdio else "url"
    table = {first: draw(keys[first])}
    extra = ("args", "env", "env_passthrough", "cwd") if stdio else ("headers",)
    for key in draw(st.lists(st.sampled_from((*_MCP_COMMON, *extra)), unique=True)):
        table[key] = draw(keys[key])
    if not stdio and draw(st.booleans()):
        token = draw(st.sampled_from(("bearer_token_env", "bearer_token_cmd")))
        table[token] = draw(keys[token])
    if stdio:
        table["enabled"] = False
    return table


@st.composite
def valid_config(draw: st.DrawFn) -> dict[str, Any]:
    """A whole config, as the dict TOML would decode to, that must load."""
    providers = draw(st.dictionaries(PROVIDER_NAMES, provider_table(), min_size=1, max_size=3))
    data: dict[str, Any] = {"providers": providers}
    if draw(st.booleans()):
        data["default_provider"] = draw(st.sampled_from(sorted(providers)))
    tools = SCHEMA["tools"]
    chosen = draw(st.lists(st.sampled_from(list(tools)), unique=True))
    if chosen or draw(st.booleans()):
        data["tools"] = {key: draw(tools[key]) for key in chosen}
    if "run_command" in chosen:  # an inline table: run_command = {allow = [...]}
        section = SCHEMA["tools.run_command"]
        keys = draw(st.lists(st.sampled_from(list(section)), unique=True))
        data["tools"]["run_command"] = {key: draw(section[key]) for key in keys}
    servers = draw(st.dictionaries(_MCP_NAMES, mcp_server_table(), max_size=2))
    if servers:
        data["mcp"] = {"servers": servers}
    return data


# --- mutations ---------------------------------------------------------------------------------


def _paths(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for key, value in data.items():
        paths.append((*prefix, key))
        if isinstance(value, dict):
            paths += _paths(value, (*prefix, key))
    return paths


def _tables(data: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    tables = [prefix]
    for key, value in data.items():
        if isinstance(value, dict):
            tables += _tables(value, (*prefix, key))
    return tables


def _at(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        data = data[key]
    return data


@st.composite
def wrong_type(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """A value of another TOML type at one key path."""
    path = draw(st.sampled_from(_paths(data)))
    _at(data, path[:-1])[path[-1]] = draw(ANY_VALUE)
    return data


@st.composite
def unknown_key(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """An extra key at one level (it may happen to be a known one)."""
    table = _at(data, draw(st.sampled_from(_tables(data))))
    table[draw(NAMES)] = draw(ANY_VALUE)
    return data


@st.composite
def odd_string(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """An empty, blank, huge or hostile string at one key path."""
    path = draw(st.sampled_from(_paths(data)))
    value = draw(st.sampled_from(["", " ", "x" * 200_000, "\x1b]52;c;eA==\x07", "\u202eabc"]))
    _at(data, path[:-1])[path[-1]] = value
    return data


MUTATIONS: tuple[Callable[[dict[str, Any]], st.SearchStrategy[dict[str, Any]]], ...] = (
    wrong_type,
    unknown_key,
    odd_string,
)


# --- TOML text ---------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (every non-printable character escaped)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """A TOML value for a Python value of one of the types tomllib produces."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(type(value))


def render(data: dict[str, Any], *, duplicate: bool = False) -> str:
    """TOML text for ``data``: top-level values first, then ``[providers.NAME]`` and ``[tools]``.

    ``duplicate`` repeats the last table header, which TOML forbids.
    """
    lines = [f"{toml_string(k)} = {toml_value(v)}" for k, v in data.items() if not _is_table(k, v)]
    headers = []
    for key, value in data.items():
        if not _is_table(key, value):
            continue
        for header, table in _sections(key, value):
            headers.append(header)
            lines.append(f"[{header}]")
            lines += [f"{toml_string(k)} = {toml_value(v)}" for k, v in table.items()]
    if duplicate and headers:
        lines.append(f"[{headers[-1]}]")
    return "\n".join(lines) + "\n"


def _sections(key: str, value: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(header, table)`` for each TOML table ``data[key]`` is written as."""
    if key == "mcp" and isinstance(value.get("servers"), dict):
        servers = value["servers"]
        if all(isinstance(v, dict) for v in servers.values()):
            rest = {k: v for k, v in value.items() if k != "servers"}
            prefix = f"{toml_string('mcp')}.{toml_string('servers')}."
            named = [(prefix + toml_string(n), t) for n, t in servers.items()]
            return ([(toml_string("mcp"), rest)] if rest else []) + named
    nested = key == "providers" and all(isinstance(v, dict) for v in value.values())
    if nested:
        return [(f"{toml_string(key)}.{toml_string(n)}", t) for n, t in value.items()]
    return [(toml_string(key), value)]


def _is_table(key: str, value: Any) -> bool:
    return key in ("providers", "tools", "mcp") and isinstance(value, dict)


@dataclass(frozen=True)
class Document:
    """A generated config file: its text, and whether it was drawn valid."""

    text: str
    valid: bool


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """A config file: valid, or one mutation away from valid, or with a duplicated table."""
    data = draw(valid_config())
    how = draw(st.sampled_from(("valid", "mutated", "duplicate")))
    if how == "mutated":
        data = draw(draw(st.sampled_from(MUTATIONS))(data))
    return Document(render(data, duplicate=how == "duplicate"), how == "valid")


#: Files that are not TOML: random bytes, invalid UTF-8 around a valid config, truncations.
raw_bytes = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda d, junk: render(d).encode() + junk,
        valid_config(),
        st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]),
    ),
    st.builds(lambda d, cut: render(d).encode()[:cut], valid_config(), st.integers(0, 200)),
)
