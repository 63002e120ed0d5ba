"""A spy: a callable replaced, for one test, by one that notes each call and then calls it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def spy(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    note: Callable[..., Any] = lambda *args, **kwargs: args,
) -> list[Any]:
    """Make ``owner.name`` note each call in the returned list, then do what it did.

    ``note`` gets the call's arguments (on a class, the instance first) and returns what is
    noted (by default the positional arguments).
    """
    calls: list[Any] = []
    real = getattr(owner, name)

    def noted(*args: Any, **kwargs: Any) -> Any:
        calls.append(note(*args, **kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, noted)
    return calls
