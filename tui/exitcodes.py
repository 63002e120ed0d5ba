"""The exit statuses of every chattui command, in one place.

``0`` the command did what was asked; ``1`` a provider, network or tool-loop
failure (the partial answer is kept); ``2`` a usage or configuration error
(nothing was sent). Signals follow the shell's convention, 128 + the signal.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a chattui process tells its caller when it ends."""

    OK = 0
    FAILED = 1
    USAGE = 2
