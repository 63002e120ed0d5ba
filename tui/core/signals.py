"""SIGTERM and SIGHUP stop chattui the way a cancel does; so does a terminal that is gone.

Python's default for both is to die on the spot: the TUI left the terminal in the
alternate screen, in raw mode with mouse reporting on and the cursor hidden, and the
running answer was never marked cancelled. ``on_stop_signals`` routes them to the
front end's own stop instead (the TUI exits as on Ctrl+Q, pipe mode cancels the turn as
on Ctrl+C), so the turn is finalized and the terminal restored; the process then exits
with the conventional status ``stop_status(signum)`` (128 + the signal number).
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
STOP_GRACE = 10.0
"""Seconds the orderly stop may take before the process exits anyway (``os._exit``)."""


def on_stop_signals(stop: Callable[[int], None], grace: float | None = None) -> None:
    """Call ``stop(signum)`` on the running loop when a stop signal arrives.

    The orderly stop needs the loop, and a loop can be stuck in a call that never
    returns: when the terminal went away, Textual's frame write waits forever for a
    writer thread that cannot write (found: a TUI whose pty was closed, at 50% CPU for
    an hour, deaf to SIGTERM). So the signal also starts a watchdog: if the process is
    still alive ``grace`` seconds later (``STOP_GRACE`` when None, read at this call),
    it exits with the signal's status. What the transcript holds was written as it
    streamed.
    """
    loop = asyncio.get_running_loop()
    grace = STOP_GRACE if grace is None else grace

    def received(signum: int, frame: FrameType | None) -> None:
        if loop.is_closed():  # the front end that asked is gone: the default action
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        watchdog = threading.Timer(grace, os._exit, args=(stop_status(signum),))
        watchdog.daemon = True
        watchdog.start()
        loop.call_soon_threadsafe(stop, signum)

    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers belong to the main thread
    for signum in STOP_SIGNALS:
        signal.signal(signum, received)


def stop_status(signum: int) -> int:
    """The exit status of a process stopped by ``signum``, as shells report it."""
    return 128 + signum


def hang_up() -> None:
    """Act on a terminal that is gone as on its SIGHUP (the orderly stop, then exit 129)."""
    if hasattr(signal, "SIGHUP"):
        os.kill(os.getpid(), signal.SIGHUP)


HANGUP_POLL = 1.0
"""Seconds between two looks at whether the terminal is still there."""


def watch_terminal(fd: int, interval: float | None = None) -> threading.Thread | None:
    """Treat a terminal that went away as a hang-up, even when no SIGHUP comes.

    A terminal emulator or ssh that closes sends SIGHUP to the processes it controls, but a
    program started on a pseudo-terminal that is not its controlling terminal gets none:
    reads then return end-of-file at once and Textual's input thread spins on them (found:
    an orphaned TUI at 94% CPU for 20 minutes). A thread looks at the terminal every
    ``interval`` seconds (``HANGUP_POLL`` when None, read at this call; ``tcgetattr``: EIO
    once it is gone) and then sends this process SIGHUP, which ``on_stop_signals`` turns
    into the orderly stop (and its watchdog).

    Returns:
        The watching thread (a daemon), or None when ``fd`` is not a terminal.
    """
    if not hasattr(signal, "SIGHUP") or not os.isatty(fd):
        return None
    import termios

    pause = HANGUP_POLL if interval is None else interval

    def watch() -> None:
        while True:
            time.sleep(pause)
            try:
                termios.tcgetattr(fd)
            except (termios.error, OSError) as exc:
                if exc.args and exc.args[0] in (errno.EIO, errno.EBADF, errno.ENOTTY):
                    hang_up()
                    return

    thread = threading.Thread(target=watch, name="terminal-watch", daemon=True)
    thread.start()
    return thread
