"""Reasoning effort: the levels the config, the command line and the palette share.

Its own module, importing nothing heavy, so that ``chattui``'s argument parser can name the
levels without importing the conversation types (whose dataclasses the TUI makes only once
its start-up caches are in place).
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

Reasoning: TypeAlias = Literal["off", "low", "medium", "high"]
"""How hard a reasoning model thinks; each adapter maps it to its API's own field."""
REASONING_LEVELS: tuple[Reasoning, ...] = get_args(Reasoning)
