"""The ``[tools]`` table: workspace, approval policy, enabled tools, the command allow-list.

Each value is checked by its consumer's own rule (the registry's tool names, the command
runner's allow-list parser), so the loader and the run cannot disagree.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.config.values import ConfigError, check_keys, read_integer, read_string, shown
from tui.core.tools.names import DEFAULT_TOOLS, POLICIES
from tui.core.tools.paths import visible_path

APPROVALS = POLICIES
"""The values of ``[tools] approval`` (the registry's own list)."""
TOOLS_KEYS = ("workspace", "approval", "enabled", "max_steps", "run_command")
COMMAND_KEYS = ("allow",)


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


def parse_tools(table: Any, cwd: Path) -> ToolsConfig:
    if not isinstance(table, dict):
        raise ConfigError("tools: must be a table")
    check_keys(table, TOOLS_KEYS, "tools")
    approval = table.get("approval", "ask")
    if approval not in APPROVALS:
        raise ConfigError(f"tools.approval: must be one of {', '.join(APPROVALS)}")
    return ToolsConfig(
        workspace=_workspace(table, cwd),
        approval=approval,
        enabled=_tool_names(table),
        max_steps=read_integer(table, "max_steps", "tools", 25, minimum=1) or 25,
        command_allow=_command_allow(table.get("run_command", {})),
    )


def _command_allow(table: Any) -> tuple[str, ...]:
    from tui.core.tools.command import parse_allow  # the runner's own rule

    if not isinstance(table, dict):
        raise ConfigError("tools.run_command: must be a table")
    check_keys(table, COMMAND_KEYS, "tools.run_command")
    allow = table.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(entry, str) for entry in allow):
        raise ConfigError("tools.run_command.allow: must be a list of command strings")
    try:
        parse_allow(allow)
    except ValueError as exc:
        raise ConfigError(f"tools.run_command.allow: {visible_path(str(exc))}") from None
    return tuple(allow)


def _tool_names(table: Mapping[str, Any]) -> tuple[str, ...]:
    from tui.core.tools.specs import known_tools, unknown_tools  # the registry's own rule

    enabled = table.get("enabled", list(DEFAULT_TOOLS))
    if not isinstance(enabled, list) or not all(isinstance(t, str) and t for t in enabled):
        raise ConfigError("tools.enabled: must be a list of tool names")
    unknown = unknown_tools(enabled)
    if unknown:
        names = ", ".join(shown(name) for name in unknown)
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
    raw = read_string(table, "workspace", "tools") or "."
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
