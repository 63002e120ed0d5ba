"""API keys, resolved only when a provider is used, and the doctor report that checks them.

``resolve_settings`` turns a ``ProviderConfig`` into the ``ProviderSettings``
an adapter needs, reading the key from its source (a literal, an environment
variable, or a command run without a shell). ``doctor`` resolves every source
for ``chattui config`` and reports only whether each key is set, never its value.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from providers.settings import HEADER_VALUE, ProviderSettings, Secret
from tui.core import locations
from tui.core.config import (
    Config,
    ConfigError,
    ProviderConfig,
    default_key_env,
    provider_path,
)
from tui.core.mcp.config import McpServerConfig
from tui.core.sanitize import visible

KEY_CMD_TIMEOUT = 10.0
"""Seconds an ``api_key_cmd`` may run."""
KEY_CMD_OUTPUT = 64 * 1024
"""Bytes of output an ``api_key_cmd`` may print (more is refused)."""


# --- keys: resolved only when a provider is used -----------------------------------------------


def resolve_settings(
    p: ProviderConfig, *, model: str | None = None, env: Mapping[str, str] = os.environ
) -> ProviderSettings:
    """Resolve a provider's key and build the settings its adapter needs.

    ``key_source`` says where the key came from: ``$VAR``, ``api_key_cmd (ARGV0)``,
    ``config file api_key``, or ``none`` for keyless providers.

    Args:
        p: the provider.
        model: a model overriding ``p.model`` (``--model``).
        env: the environment holding key variables.

    Raises:
        ConfigError: the key variable is unset or the key command failed.
    """
    key, source = _resolve_key(p, env)
    if key is not None and not HEADER_VALUE.fullmatch(key.reveal()):
        # Found now, not at the first request, so the doctor reports it too; never echoed.
        raise ConfigError(
            f"the key from {source} cannot be sent: it holds a control or non-ASCII character"
        )
    return ProviderSettings(
        kind=p.kind,
        base_url=p.base_url,
        model=model or p.model,
        api_key=key,
        key_source=source,
        timeout=p.timeout,
        max_retries=p.max_retries,
        headers=p.headers,
        max_tokens=p.max_tokens,
        limits=p.limits,
        prompt_cache=p.prompt_cache,
    )


def _resolve_key(p: ProviderConfig, env: Mapping[str, str]) -> tuple[Secret | None, str]:
    if p.api_key is not None:
        return p.api_key, "config file api_key"
    if p.api_key_cmd:
        return _run_key_command(p.name, p.api_key_cmd), f"api_key_cmd ({visible(p.api_key_cmd[0])})"
    if p.api_key_env:
        value = env.get(p.api_key_env, "")
        if not value.strip():
            default = p.api_key_env == default_key_env(p.kind)
            why = f" (the default for kind {p.kind})" if default else ""
            raise ConfigError(
                f"{provider_path(p.name, 'api_key_env')}: environment variable"
                f" {p.api_key_env} is not set{why}"
            )
        return Secret(value.strip()), f"${p.api_key_env}"
    return None, "none"


def _run_key_command(name: str, argv: tuple[str, ...]) -> Secret:
    """Run ``api_key_cmd``: the key is the first line of its output.

    Nothing the command prints is ever shown: a failing password manager may print the
    key on stderr as readily as on stdout, so a failure names only the exit status. The
    command runs in its own process group without a shell, a terminal or stdin; on a
    timeout the whole group is killed (helpers it started too), and output past
    ``KEY_CMD_OUTPUT`` bytes is refused (a key is one line).
    """
    where = f"{provider_path(name, 'api_key_cmd')}: {visible(argv[0])}"
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise ConfigError(f"{where}: cannot run: {exc.strerror or exc}") from None
    with process:
        output, status = _key_output(process)
    if len(output) > KEY_CMD_OUTPUT:
        raise ConfigError(
            f"{where} printed more than {KEY_CMD_OUTPUT // 1024} KiB (a key is one line)"
        )
    if status is None:
        raise ConfigError(f"{where} timed out after {KEY_CMD_TIMEOUT:g} seconds")
    if status != 0:
        raise ConfigError(f"{where} exited with status {status} (its output is not shown)")
    # pass(1) convention: the secret is the first line; later lines are metadata.
    lines = output.decode("utf-8", "replace").strip().splitlines()
    if not lines or not lines[0].strip():
        raise ConfigError(f"{where} printed no key")
    return Secret(lines[0].strip())


def _key_output(process: subprocess.Popen[bytes]) -> tuple[bytes, int | None]:
    """The command's stdout (cut a little past ``KEY_CMD_OUTPUT`` bytes) and its exit status.

    The status is None when the command timed out or printed too much; its process group
    has been killed then.
    """
    output = bytearray()
    stdout = process.stdout
    assert stdout is not None

    def read() -> None:
        while len(output) <= KEY_CMD_OUTPUT:
            data = os.read(stdout.fileno(), 65536)
            if not data:
                return
            output.extend(data)

    deadline = time.monotonic() + KEY_CMD_TIMEOUT
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(KEY_CMD_TIMEOUT)
    status: int | None = None
    if len(output) <= KEY_CMD_OUTPUT:
        try:
            status = process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    if status is None:  # timed out or too much output: the command and all it started
        _kill_group(process.pid)
        process.wait()
    return bytes(output), status


def _kill_group(pid: int) -> None:
    killpg = getattr(os, "killpg", None)  # POSIX; elsewhere there is no group to kill
    try:
        if killpg is not None:
            killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGTERM)
    except OSError:  # already gone
        pass


# --- doctor ------------------------------------------------------------------------------------


class Severity(StrEnum):
    """How much a doctor finding matters."""

    INFO = "info"
    """What the config resolves to (file, providers, tools)."""
    WARNING = "warning"
    """Accepted, but probably not what the user meant (an unknown key, say)."""
    PROBLEM = "problem"
    """Something a turn would fail on; ``chattui config`` then exits non-zero."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the doctor report, before formatting.

    Attributes:
        severity: Whether this describes the config, warns, or is a problem.
        text: What was found, without a severity prefix; never contains a key.
    """

    severity: Severity
    text: str


def doctor(config: Config, env: Mapping[str, str] = os.environ) -> list[Finding]:
    """Report what the config resolves to, for ``chattui config``; never shows a key.

    Resolves every key source (so it may run ``api_key_cmd``) but reports only
    "set" or "missing".

    Returns:
        The findings: what the config resolves to, then its warnings, then its problems.
    """
    looked = locations.config_file(env)
    file = config.path or f"none (defaults from the environment; looked for {looked})"
    info = [f"config file: {file}", f"default provider: {visible(config.default_provider)}"]
    problems: list[str] = []
    for p in config.providers.values():
        try:
            source = resolve_settings(p, env=env).key_source
            state = "set" if source != "none" else "not needed"
        except ConfigError as exc:
            source, state = _declared_source(p), "missing"
            problems.append(str(exc))
        url = _display_url(p.base_url) or "(in-process)"
        name, model, url = visible(p.name), visible(p.model), visible(url)
        info.append(
            f"provider {name}: kind {p.kind}, url {url}, model {model}, key {source}: {state}"
        )
    tools = config.tools
    info.append(
        f"tools: workspace {visible(str(tools.workspace))}; approval {tools.approval};"
        f" enabled {', '.join(tools.enabled) or '(none)'}; max_steps {tools.max_steps}"
    )
    info.extend(_mcp_line(server) for server in config.mcp)
    info.append(f"data directory: {visible(str(locations.data_dir(env)))}")
    problem = locations.dir_problem(locations.transcripts_dir(env))
    if problem is not None:
        problems.append(
            f"data directory: cannot save transcripts: {visible(problem)}"
            f" (${locations.DATA_DIR_ENV} moves it)"
        )
    return [
        *(Finding(Severity.INFO, line) for line in info),
        *(Finding(Severity.WARNING, w) for w in config.warnings),
        *(Finding(Severity.PROBLEM, p) for p in problems),
    ]


def _mcp_line(server: McpServerConfig) -> str:
    # Where the server is, not its env or headers (they may hold tokens); `chattui mcp` starts it.
    where = server.command if server.command is not None else _display_url(server.url or "")
    state = "" if server.enabled else " (disabled)"
    return (
        f"mcp server {visible(server.name)}{state}: {server.transport} {visible(where)};"
        f" approval {server.approval}; timeout {server.timeout:g} s"
    )


def _declared_source(p: ProviderConfig) -> str:
    return f"api_key_cmd ({visible(p.api_key_cmd[0])})" if p.api_key_cmd else f"${p.api_key_env}"


def _display_url(url: str) -> str:
    # A base_url may embed credentials (https://user:token@host); show the host part only.
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
