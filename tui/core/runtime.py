"""Assembles a running chattui from the command line: config, provider, tools, transcript.

Pipe mode and the TUI both start here, so they resolve the same provider, the
same workspace and the same protected paths, and resume the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers import create_provider
from providers.base import HTTPProvider
from providers.conversation import Reasoning
from providers.errors import SetupError
from providers.settings import model_problem
from tui.core import locations
from tui.core.config import Config, ConfigError, ProviderConfig, load_config, workspace_problem
from tui.core.drafts import Draft, draft_path
from tui.core.keys import resolve_settings
from tui.core.pricing import Pricer
from tui.core.sanitize import NOT_UTF8, undecodable, visible
from tui.core.session import Approver, Session, refuse_all
from tui.core.tools.registry import ToolRegistry
from tui.core.transcript import (
    Transcript,
    TranscriptError,
    TranscriptWriter,
    history_for_request,
    resolve,
)
from tui.core.transcript.sync import Syncer

if TYPE_CHECKING:  # imported only when a server is configured
    from tui.core.mcp.manager import McpManager
    from tui.core.mcp.status import ServerStatus
    from tui.core.mcp.tools import McpTools


class StartupError(Exception):
    """Something the user must fix before chattui can start (exit code 2)."""


@dataclass(frozen=True)
class Options:
    """The command-line choices that shape a session."""

    provider: str | None = None
    model: str | None = None
    config: Path | None = None
    workspace: Path | None = None
    resume: str | None = None
    reasoning: Reasoning | None = None
    """Overrides every provider's ``reasoning`` setting for the session."""


@dataclass
class Runtime:
    """Everything a front end needs: the session plus what it was built from."""

    config: Config
    provider_config: ProviderConfig
    provider: HTTPProvider
    session: Session
    transcript: TranscriptWriter
    env: Mapping[str, str] = field(repr=False)  # holds API key variables
    resumed_from: Transcript | None = field(default=None, repr=False)
    """The saved conversation this one continues, as loaded (its messages are shown)."""
    retired: list[HTTPProvider] = field(default_factory=list, repr=False)
    """Providers switched away from; closed by ``aclose`` (a model list may still use one)."""
    mcp: McpManager | None = None
    """The MCP servers (started by ``start_mcp``); None when none is configured."""
    draft: Draft | None = None
    """The prompt's unsent text kept for this workspace (``tui.core.drafts``)."""

    def start_mcp(self, on_change: Callable[[ServerStatus], None] | None = None) -> None:
        """Start the MCP servers in the background (returns at once; no-op without servers).

        Not done by ``start``: the TUI starts them after its first screen, pipe mode before
        its request, and nothing else (``chattui config``, tests) starts a process.
        ``on_change`` is called from the servers' thread whenever one's state changes.
        """
        if self.mcp is not None:
            self.mcp.on_change = on_change
            self.mcp.start()

    def close(self) -> None:
        """Stop the MCP servers and close the transcript (the end of the process)."""
        if self.mcp is not None:
            self.mcp.close()
        self.transcript.close()

    reasoning: Reasoning | None = None
    """The ``--reasoning`` choice, kept across provider switches (None: each provider's own)."""

    @property
    def label(self) -> str:
        """``name · model`` for status lines (the demo says "demo")."""
        return f"{self.provider_config.name} · {self.provider.model}"

    def switch(self, name: str, model: str | None = None) -> None:
        """Point the session at another configured provider or model, and record it.

        Raises:
            ConfigError: no such provider, or its key cannot be resolved.
        """
        chosen = self.config.provider(name)
        provider = _make_provider(chosen, model, self.env)
        self.retired.append(self.provider)
        self.provider = provider
        self.provider_config = chosen
        self.session.provider = self.provider
        self.session.pricer = make_pricer(chosen, self.provider.model)
        self.session.system = chosen.system_prompt
        self.session.max_tokens = chosen.max_tokens
        self.session.reasoning = self.reasoning or chosen.reasoning
        try:
            self.transcript.switched(chosen.name, self.provider.model)
        except OSError:
            pass  # only a note: the next message's write reports a disk problem loudly

    def set_reasoning(self, level: Reasoning) -> None:
        """Use reasoning effort ``level`` from the next request, whichever provider is chosen."""
        self.reasoning = self.session.reasoning = level

    async def aclose(self) -> None:
        """Close the provider in use and every one switched away from."""
        for provider in [*self.retired, self.provider]:
            close = getattr(provider, "aclose", None)  # tests may swap in a bare object
            if close is not None:
                await close()
        self.retired.clear()

    def resume(self, path: Path) -> Transcript:
        """Continue the saved conversation at ``path``: its history, and its file for new turns.

        Raises:
            TranscriptError, OSError: it cannot be read or reopened (nothing changes then).
        """
        old = self.transcript
        self.transcript, self.resumed_from = _attach_saved(path, self.session, old.syncer)
        old.close()
        return self.resumed_from

    def new_conversation(self) -> None:
        """Start a fresh transcript and an empty history."""
        old = self.transcript
        old.close()
        self.transcript = _new_transcript(
            self.provider_config, self.provider.model, self.session, syncer=old.syncer
        )
        self.session.transcript = self.transcript
        self.session.history.clear()


def start(
    options: Options,
    approver: Approver = refuse_all,
    env: Mapping[str, str] = os.environ,
    *,
    syncer: Syncer | None = None,
    **provider_kwargs: Any,
) -> Runtime:
    """Build the runtime, or raise ``StartupError`` with a one-line reason.

    ``syncer``: when transcript records are fsync'ed (None: at once; the TUI passes a
    ``BackgroundSync`` so that no fsync runs on its event loop).
    """
    if options.model is not None:
        problem = NOT_UTF8 if undecodable(options.model) else model_problem(options.model)
        if problem is not None:
            raise StartupError(f"--model: {problem}")
    try:
        config = load_config(options.config, env)
        chosen = config.provider(options.provider)
        provider = _make_provider(chosen, options.model, env, **provider_kwargs)
    except ConfigError as exc:
        raise StartupError(str(exc)) from None
    workspace = config.tools.workspace
    if options.workspace is not None:
        workspace = _workspace_option(options.workspace)
    manager = mcp_manager(config, workspace, env)
    tools = ToolRegistry(
        workspace,
        enabled=config.tools.enabled,
        approval=config.tools.approval,
        protected=_protected(config, env),
        mcp=_mcp_tools(manager),
        command_allow=config.tools.command_allow,
    )
    session = Session(
        provider=provider,
        tools=tools,
        approver=approver,
        system=chosen.system_prompt,
        max_steps=config.tools.max_steps,
        max_tokens=chosen.max_tokens,
        reasoning=options.reasoning or chosen.reasoning,
        pricer=make_pricer(chosen, provider.model),
    )
    transcript, resumed = _open_transcript(
        options.resume, chosen, provider.model, session, env, syncer
    )
    session.transcript = transcript
    return Runtime(
        config,
        chosen,
        provider,
        session,
        transcript,
        env,
        resumed,
        mcp=manager,
        draft=Draft(draft_path(workspace, env)),
        reasoning=options.reasoning,
    )


def _mcp_tools(manager: McpManager | None) -> McpTools | None:
    if manager is None:
        return None
    from tui.core.mcp.tools import McpTools

    return McpTools(manager)


def mcp_manager(config: Config, workspace: Path, env: Mapping[str, str]) -> McpManager | None:
    """The manager of the configured MCP servers, not started yet (None when there are none)."""
    servers = [server for server in config.mcp if server.enabled]
    if not servers:
        return None
    from tui.core.mcp.manager import McpManager

    return McpManager(servers, workspace, locations.data_dir(env) / "mcp", env)


def _workspace_option(path: Path) -> Path:
    # The same rule as the config's tools.workspace (one rule, so the doctor agrees).
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise StartupError(f"--workspace: cannot resolve: {exc}") from None
    problem = workspace_problem(resolved)
    if problem is not None:
        raise StartupError(f"--workspace: {problem}")
    return resolved


def _make_provider(
    chosen: ProviderConfig, model: str | None, env: Mapping[str, str], **kwargs: Any
) -> HTTPProvider:
    settings = resolve_settings(chosen, model=model, env=env)
    try:
        return create_provider(settings, **kwargs)
    except SetupError as exc:  # the proxy or TLS environment: one line, as a config error
        raise ConfigError(str(exc)) from None


def make_pricer(chosen: ProviderConfig, model: str) -> Pricer | None:
    """The pricer for a provider and model (None for the offline demo, which costs nothing)."""
    if chosen.kind == "demo":
        return None
    return Pricer(model, chosen.base_url, chosen.price)


def _protected(config: Config, env: Mapping[str, str]) -> list[Path]:
    paths = [locations.data_dir(env), locations.config_file(env)]
    if config.path is not None:
        paths.append(config.path)
    return paths


def _new_transcript(
    chosen: ProviderConfig,
    model: str,
    session: Session,
    env: Mapping[str, str] = os.environ,
    syncer: Syncer | None = None,
) -> TranscriptWriter:
    return TranscriptWriter.create(
        locations.transcripts_dir(env),
        provider=chosen.name,
        model=model,
        workspace=session.tools.workspace.root,
        syncer=syncer,
    )


def _open_transcript(
    ref: str | None,
    chosen: ProviderConfig,
    model: str,
    session: Session,
    env: Mapping[str, str],
    syncer: Syncer | None,
) -> tuple[TranscriptWriter, Transcript | None]:
    if ref is None:
        try:
            return _new_transcript(chosen, model, session, env, syncer), None
        except OSError as exc:  # a file where the data directory should be, no permission
            where = visible(str(locations.transcripts_dir(env)))
            raise StartupError(
                f"cannot save transcripts in {where}: {exc.strerror or exc}"
                f" (${locations.DATA_DIR_ENV} moves the data directory)"
            ) from None
    folder = locations.transcripts_dir(env)
    try:
        path = resolve(folder, ref)
        if not path.resolve().is_relative_to(folder.resolve()):
            # Resuming appends: only to chattui's own files (export reads any, read-only).
            raise TranscriptError(f"{path} is outside {folder}; only `chattui export` reads it")
        return _attach_saved(path, session, syncer)
    except (TranscriptError, OSError) as exc:
        raise StartupError(f"cannot resume {ref!r}: {exc}") from None


def _attach_saved(
    path: Path, session: Session, syncer: Syncer | None
) -> tuple[TranscriptWriter, Transcript]:
    """Load a transcript and point the session at it: its history, its file."""
    writer, transcript = TranscriptWriter.resume(path, syncer)
    session.history[:] = list(history_for_request(transcript))
    session.transcript = writer
    return writer, transcript
