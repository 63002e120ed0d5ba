"""The real ``chattui`` TUI in a pseudo-terminal: keys in, screen bytes out, signals, rusage.

``TerminalRun`` starts the command in its own session with a pty as its terminal, drains
the screen output in a thread (an app whose output nobody reads would block), and reports
the exit status with the child's own resource usage (``os.wait4``), so a test can bound the
peak memory of exactly that process. After the exit, ``terminal_modes`` reads the pty's
line discipline: what a shell would find. With ``controlling=True`` the pty is the
session's controlling terminal, as in a terminal window or an ssh login, and
``close_terminal`` then hangs it up as closing that window or dropping that connection
does (the kernel sends the process SIGHUP, and its reads and writes fail).
"""

from __future__ import annotations

import fcntl
import os
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

# Sequences a TUI must undo on the way out: what each one leaves the terminal in.
LEAVE_ALT_SCREEN = b"\x1b[?1049l"
SHOW_CURSOR = b"\x1b[?25h"
MOUSE_OFF = b"\x1b[?1000l"

# Run in the child before the command: make its terminal (stdin) the controlling one, which a
# session leader gets only by asking (posix_spawn's setsid and dup2 leave it without one).
_TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait until ``condition()`` holds (fails with ``what`` after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@dataclass(frozen=True, slots=True)
class Exit:
    """How the process ended: its status (or -signal) and its peak resident size (from its
    rusage: at least its parent's, on Linux; ``TerminalRun.peak_rss_mb`` is its own)."""

    status: int
    peak_rss_mb: float


class TerminalRun:
    """``argv`` running in a ``columns`` x ``rows`` pseudo-terminal.

    ``argv[0]`` is a path (it is not looked up on ``PATH`` when ``controlling`` is set).
    """

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        cwd: str,
        size: tuple[int, int] = (100, 30),
        *,
        controlling: bool = False,
    ) -> None:
        self._master, self._slave = os.openpty()
        columns, rows = size
        fcntl.ioctl(self._slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._sane = termios.tcgetattr(self._slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        if controlling:
            argv = [sys.executable, "-c", _TAKE_TERMINAL, *argv]
        # posix_spawn, not fork: a forked child starts with its parent's pages resident. (Its
        # exit's rusage still reports the parent's peak RSS when that is larger: see
        # ``peak_rss_mb``.)
        self.pid = os.posix_spawn(
            "/bin/sh",
            ["sh", "-c", 'cd "$0" && exec "$@"', cwd, *argv],  # posix_spawn has no cwd
            {**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)},
            file_actions=[
                (os.POSIX_SPAWN_DUP2, self._slave, 0),
                (os.POSIX_SPAWN_DUP2, self._slave, 1),
                (os.POSIX_SPAWN_DUP2, self._slave, 2),
            ],
            setsid=True,
        )
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        self.exit: Exit | None = None

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.output += data
            if self._closing.is_set():
                return

    def seen(self, marker: bytes) -> bool:
        """Whether ``marker`` is in the screen output so far."""
        with self._lock:
            return marker in self.output

    def wait_for(self, marker: bytes, timeout: float = 60.0) -> None:
        """Wait until ``marker`` appears on screen (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while not self.seen(marker):
            if self.exited():
                raise AssertionError(f"exited before {marker!r}: {bytes(self.output[-2000:])!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} never appeared: {bytes(self.output[-2000:])!r}")
            time.sleep(0.05)

    def exited(self) -> bool:
        """Whether the process has ended (without reaping it: ``wait`` takes its rusage)."""
        info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return info is not None

    def mark(self) -> int:
        """The current length of the output, to look only at what comes after it."""
        with self._lock:
            return len(self.output)

    def since(self, mark: int) -> bytes:
        """The output written after ``mark``."""
        with self._lock:
            return bytes(self.output[mark:])

    def send(self, keys: bytes) -> None:
        """Type ``keys`` (raw bytes: b"\\x11" is Ctrl+Q)."""
        os.write(self._master, keys)

    def wait(self, timeout: float = 60.0) -> Exit:
        """Wait for the exit (killing the process group after ``timeout``); status and rusage."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(self.pid, 9)
                raise AssertionError(f"still running after {timeout} s")
            time.sleep(0.05)
        time.sleep(0.1)  # let the reader take the last bytes
        self.exit = Exit(os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024)
        return self.exit

    def peak_rss_mb(self) -> float | None:
        """The process's own peak resident size so far, in MB (None where it cannot be read).

        Linux's VmHWM of the process's memory map, read while it runs. Not the rusage
        ``wait`` gets: Linux keeps in it the largest RSS of every memory map the process has
        had, and a spawned child's first one is its parent's (shared until the exec), so a
        test process of 310 MB made every child's peak 310 MB.
        """
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            return None
        return None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process."""
        os.kill(self.pid, signum)

    def close_terminal(self) -> None:
        """Close the terminal's master side, as a closed window or a dropped ssh does.

        What the app writes after this is lost, and its controlling terminal (if this pty
        is it) is hung up. Output read before it stays in ``output``.
        """
        # A read in progress keeps the master open after ``os.close``: end the reader first,
        # waking its read with a byte written to the terminal (on a descriptor of its own
        # that does not block: the app's must stay blocking, and the reader may have ended).
        self._closing.set()
        wake = os.open(os.ttyname(self._slave), os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            os.write(wake, b"\0")
        except BlockingIOError:  # the terminal is full: the reader has something to read
            pass
        finally:
            os.close(wake)
        self._reader.join()
        os.close(self._master)
        self._master = -1

    def terminal_modes(self) -> tuple[bool, bool]:
        """``(echo, canonical)`` of the pty now: both True once raw mode was undone."""
        lflag = termios.tcgetattr(self._slave)[3]
        return bool(lflag & termios.ECHO), bool(lflag & termios.ICANON)

    def __enter__(self) -> TerminalRun:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.exit is None:
            os.killpg(self.pid, 9)
            os.waitpid(self.pid, 0)
        # The reader ends before the master's number is freed: a read after it would take
        # bytes from whatever file is opened next under that number (found: a transcript
        # the test then loaded with records missing, and another test's screen output).
        if self._master >= 0:
            self.close_terminal()
        os.close(self._slave)
