"""Loading: the file (or the environment's defaults) read into one ``Config``.

Only a regular file up to ``MAX_CONFIG_BYTES`` is read (a FIFO or a device would block or
never end); syntax errors name the line and column; each section is then parsed by its
own module (``provider``, ``tools``, ``tui.core.mcp.config``).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tui.core import locations
from tui.core.config.provider import (
    PROVIDER_KEYS,
    ProviderConfig,
    environment_providers,
    parse_provider,
)
from tui.core.config.tools import COMMAND_KEYS, TOOLS_KEYS, ToolsConfig, parse_tools
from tui.core.config.values import ConfigError, check_keys, read_string, shown
from tui.core.mcp.config import SERVER_KEYS, McpServerConfig, parse_mcp
from tui.core.tools.paths import visible_path

MAX_CONFIG_BYTES = 1024 * 1024
"""A config file larger than this is refused (it is a mistake, not a config)."""
TOP_KEYS = ("default_provider", "providers", "tools", "mcp")
SECTION_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "": TOP_KEYS,
        "providers.NAME": PROVIDER_KEYS,
        "tools": TOOLS_KEYS,
        "tools.run_command": COMMAND_KEYS,
        "mcp": ("servers",),
        "mcp.servers.NAME": SERVER_KEYS,
    }
)
"""Every key each section accepts, by section path ("" is the top level); the property
tests generate configs from this table, so a new key or section must be listed here."""
# Capitals only: a pasted key (mixed case, like most Gemini keys) must fail here, before


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
            raise ConfigError(f"unknown provider {shown(chosen)} (known: {known})")
        return self.providers[chosen]


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
        providers = environment_providers(env)
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
    check_keys(data, TOP_KEYS, "")
    tables = data.get("providers", {})
    if not isinstance(tables, dict):
        raise ConfigError("providers: must be a table of [providers.NAME] tables")
    if any(not name.strip() for name in tables):
        raise ConfigError("providers: a provider name must not be empty or blank")
    providers = {name: parse_provider(name, table) for name, table in tables.items()}
    providers = providers or environment_providers(env)
    default = read_string(data, "default_provider", "") or next(iter(providers))
    if default not in providers:
        known = ", ".join(visible_path(p) for p in providers)
        raise ConfigError(f"default_provider: no provider named {shown(default)} (known: {known})")
    tools = parse_tools(data.get("tools", {}), cwd)
    warnings = _permission_warnings(file, providers.values())
    try:
        mcp = parse_mcp(data.get("mcp"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return Config(file, default, MappingProxyType(providers), tools, warnings, mcp)


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
