"""SIGTERM and SIGHUP stop chattui the way a cancel does.

Python's default for both is to die on the spot: the TUI left the terminal in the
alternate screen, in raw mode with mouse reporting on and the cursor hidden, and the
running answer was never marked cancelled. ``on_stop_signals`` routes them to the
front end's own stop instead (the TUI exits as on Ctrl+Q, pipe mode cancels the turn as
on Ctrl+C), so the turn is finalized and the terminal restored; the process then exits
with the conventional status ``stop_status(signum)`` (128 + the signal number).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def on_stop_signals(stop: Callable[[int], None]) -> None:
    """Call ``stop(signum)`` on the running loop when a stop signal arrives."""
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, stop, int(signum))
        except (NotImplementedError, RuntimeError, ValueError):
            return  # no loop signal handlers here (Windows, or not the main thread)


def stop_status(signum: int) -> int:
    """The exit status of a process stopped by ``signum``, as shells report it."""
    return 128 + signum
