"""Textual: a terminal that went away, and the crash screen."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App


# -- Textual: frames written to a terminal that is gone -----------------------------------------

GONE_ERRNOS = frozenset({errno.EIO, errno.EBADF, errno.ENXIO, errno.EPIPE})
"""A write to the terminal failing with one of these: the terminal is not coming back."""


class _GuardedTerminal:
    """The terminal file Textual's writer thread writes frames to, made to fail once.

    The first write or flush that fails because the terminal is gone calls ``gone``; from
    then on writes are dropped. Any other error is raised as before.
    """

    def __init__(self, file: IO[str], gone: Callable[[], None]) -> None:
        self._file = file
        self._gone = gone
        self.lost = False

    def write(self, text: str) -> None:
        self._guarded(self._file.write, text)

    def flush(self) -> None:
        self._guarded(self._file.flush)

    def fileno(self) -> int:
        return self._file.fileno()

    def _guarded(self, call: Callable[..., object], *args: str) -> None:
        if self.lost:
            return
        try:
            call(*args)
        except OSError as exc:
            if exc.errno not in GONE_ERRNOS:
                raise
            self.lost = True
            self._gone()


def drop_frames_when_terminal_gone(gone: Callable[[], None]) -> None:
    """Make a terminal that went away cost one ``gone()`` call, not a frozen app.

    Textual writes each frame through a writer thread (``textual.drivers._writer_thread``)
    with a queue of 30 writes. When the terminal goes away (its window closed, ssh dropped)
    the thread's write raises and the thread dies; the next 30 frames fill its queue, and the
    31st blocks the event loop for good: the app cannot even run its orderly stop (found: a
    TUI whose pseudo-terminal closed took 11 s to exit, its signal watchdog's grace). The
    Linux driver's writer is given a terminal file that calls ``gone`` on the first failed
    write and drops every write after it, so the thread keeps emptying its queue and the
    loop keeps running. A no-op if Textual's driver no longer has that writer.
    """
    try:
        from textual.drivers import linux_driver
        from textual.drivers._writer_thread import WriterThread
    except ImportError:  # Windows, or the modules moved
        return
    if getattr(linux_driver, "WriterThread", None) is not WriterThread:
        return  # moved, or already replaced

    class GuardedWriterThread(WriterThread):
        def __init__(self, file: IO[str]) -> None:
            super().__init__(_GuardedTerminal(file, gone))  # type: ignore[arg-type]

    setattr(linux_driver, "WriterThread", GuardedWriterThread)  # noqa: B010 (not exported)


def end_input_when_terminal_gone(gone: Callable[[], None]) -> None:
    """Make a terminal read that fails because the terminal is gone a hang-up, not a crash.

    Textual's input thread (``LinuxDriver.run_input_thread``) reads the terminal, and an
    error from that read reaches ``LinuxDriver._run_input_thread``, which makes it a crash
    (``App.panic``): exit status 1 and a traceback written to a terminal that is gone. When
    a pseudo-terminal's master closes, Linux wakes the reader before it hangs the terminal
    up, and a read in that window fails with EIO instead of seeing end-of-file: the app then
    exits 1, not 129 (made to happen in ``tests/faults/test_terminal.py``). The input
    thread is given a wrapper that calls ``gone`` for such an error and ends quietly; any
    other error is raised as before. A no-op if the driver no longer has that method.
    """
    try:
        from textual.drivers.linux_driver import LinuxDriver
    except ImportError:  # Windows, or the module moved
        return
    reader = getattr(LinuxDriver, "run_input_thread", None)
    if reader is None or getattr(reader, "ends_when_gone", False):
        return  # moved, or already wrapped

    def run_input_thread(driver: LinuxDriver) -> None:
        try:
            reader(driver)
        except OSError as exc:
            if exc.errno not in GONE_ERRNOS:
                raise
            gone()

    run_input_thread.ends_when_gone = True  # type: ignore[attr-defined]
    run_input_thread.replaces = reader  # type: ignore[attr-defined]  # upstream's, for the tests
    setattr(LinuxDriver, "run_input_thread", run_input_thread)  # noqa: B010 (a method)


# -- Textual: the crash screen ------------------------------------------------------------------


def crash_without_locals(app: App[Any]) -> None:
    """Show an unhandled exception's traceback without the frames' local variables.

    Textual's crash screen (``App._fatal_error``) prints every frame's locals, and a local can
    hold an API key or request headers. An app overrides ``_fatal_error`` to call this.
    """
    from rich.traceback import Traceback

    app.bell()
    app.panic(Traceback(show_locals=False, width=None))
