"""The config's typed readers: each takes a table and a key and raises ``ConfigError``
naming the key path; untrusted names in messages go through ``shown`` / ``key_path``
(control and bidi characters escaped), and a value that may be a secret is never echoed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any, overload

from tui.core.tools.paths import visible_path


class ConfigError(Exception):
    """The config cannot be used; the message names the file and line, or the key path."""


def shown(name: str) -> str:
    """An untrusted name for a message: quoted, control and bidi characters escaped."""
    return "'" + visible_path(name).replace("'", "\\'") + "'"


def provider_path(name: str, key: str) -> str:
    """``providers.NAME.KEY`` for a message, the name escaped (see ``key_path``)."""
    return key_path(key_path("providers", name), key)


def key_path(where: str, key: str) -> str:
    # Keys come from the file: a provider named "\x1b]52;..." must not reach the terminal.
    key = visible_path(key)
    return f"{where}.{key}" if where else key


def check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{key_path(where, key)}: unknown key{hint}")


def read_string(
    table: Mapping[str, Any], key: str, where: str, *, allow_empty: bool = False
) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not (allow_empty or value.strip())):
        raise ConfigError(f"{key_path(where, key)}: must be a non-empty string")
    return value


def read_boolean(table: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{key_path(where, key)}: must be true or false")
    return value


def read_number(
    table: Mapping[str, Any], key: str, where: str, default: float, *, maximum: float
) -> float:
    value = table.get(key, default)
    message = f"{key_path(where, key)}: must be a positive number up to {maximum:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(message)
    if not (math.isfinite(value) and 0 < value <= maximum):
        raise ConfigError(message)
    return float(value)


@overload
def read_integer(
    table: Mapping[str, Any],
    key: str,
    where: str,
    default: int,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int: ...
@overload
def read_integer(
    table: Mapping[str, Any],
    key: str,
    where: str,
    default: None,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int | None: ...
def read_integer(
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
        raise ConfigError(f"{key_path(where, key)}: must be a whole number >= {minimum}{upto}")
    return value
