"""Which models each configured provider offers: ``chattui models`` and the palette's list.

The list comes from the provider's server (``providers.models``); a session asks
each provider at most once (``ModelCatalog``), since model lists change rarely
and the request can take seconds.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from providers import create_provider
from providers.base import HTTPProvider
from providers.errors import ProviderError
from providers.models import ModelInfo, list_models
from tui.core.config import ConfigError, ProviderConfig, load_config
from tui.core.keys import resolve_settings


@dataclass(frozen=True)
class ModelList:
    """What one provider's server answered: its models, or why there are none.

    Attributes:
        provider: the provider's table name.
        models: the models offered (empty when ``error`` is set).
        error: a one-line reason the list could not be had, or "".
    """

    provider: str
    models: tuple[ModelInfo, ...] = ()
    error: str = ""


async def fetch(name: str, provider: HTTPProvider) -> ModelList:
    """Ask ``provider``'s server for its models; failures become ``ModelList.error``."""
    if not isinstance(provider, HTTPProvider):  # a stand-in without a server (tests, plug-ins)
        return ModelList(name, error="this provider has no model list; type the model's name")
    try:
        return ModelList(name, tuple(await list_models(provider)))
    except ProviderError as exc:
        return ModelList(name, error=str(exc))


@dataclass
class ModelCatalog:
    """Model lists per provider name, each fetched once per session."""

    _tasks: dict[str, asyncio.Task[ModelList]] = field(default_factory=dict)

    def start(self, name: str, provider: HTTPProvider) -> asyncio.Task[ModelList]:
        """Begin fetching ``name``'s list in the background (once); its task."""
        task = self._tasks.get(name)
        if task is None:
            task = self._tasks[name] = asyncio.create_task(fetch(name, provider))
        return task

    def ready(self, name: str) -> ModelList | None:
        """The list if it has arrived, else None (still loading, or never asked)."""
        task = self._tasks.get(name)
        return task.result() if task is not None and task.done() else None


def models_for(
    provider: str | None, config_path: Path | None, env: Mapping[str, str] = os.environ
) -> tuple[ProviderConfig, ModelList]:
    """Load the config and ask the chosen provider's server for its models.

    Raises:
        ConfigError: the config, the provider name or its key source is wrong.
    """
    config = load_config(config_path, env)
    chosen = config.provider(provider)
    try:
        adapter = create_provider(resolve_settings(chosen, env=env))
    except ValueError as exc:  # a settings combination the adapter refuses
        raise ConfigError(f"providers.{chosen.name}: {exc}") from None

    async def run() -> ModelList:
        try:
            return await fetch(chosen.name, adapter)
        finally:
            await adapter.aclose()

    return chosen, asyncio.run(run())
