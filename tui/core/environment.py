"""The environment chattui gives to processes it starts for a model (commands, MCP servers).

A child started on a model's behalf must not inherit the user's whole environment: provider
keys (``OPENAI_API_KEY``...), tokens and anything else exported in the shell would be one
``env`` away from the model. ``minimal_env`` builds the only environment such a child gets:
a few variables a program needs to run at all (``BASIC_VARIABLES``), plus what the caller
names explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

__all__ = ["BASIC_VARIABLES", "minimal_env"]

BASIC_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")
"""Copied from chattui's own environment when set: where programs are, the user's home, the
locale (so output is decoded as the user expects) and the temporary directory."""


def minimal_env(
    extra: Mapping[str, str] | None = None,
    passthrough: Iterable[str] = (),
    source: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """The environment for a child process started on a model's behalf.

    Args:
        extra: variables set explicitly (e.g. from the config file); they win over the rest.
        passthrough: names of further variables copied from ``source`` when set; the user
            chose them, so they are copied whatever they hold.
        source: the environment to copy from (chattui's own by default).

    Returns:
        ``BASIC_VARIABLES`` and ``passthrough`` found in ``source``, then ``extra``. ``PATH``
        is always set (``os.defpath`` when ``source`` has none), so a shell can find programs.
    """
    env = {name: source[name] for name in (*BASIC_VARIABLES, *passthrough) if name in source}
    env.setdefault("PATH", os.defpath)
    env.update(extra or {})
    return env
