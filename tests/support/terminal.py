"""The real ``chattui`` TUI in a pseudo-terminal: keys in, screen bytes out, signals, rusage.

``TerminalRun`` starts the command with a pty as its controlling terminal (its own
session), drains the screen output in a thread (an app whose output nobody reads would
block), and reports the exit status with the child's own resource usage (``os.wait4``),
so a test can bound the peak memory of exactly that process. After the exit,
``terminal_modes`` reads the pty's line discipline: what a shell would find.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

# Sequences a TUI must undo on the way out: what each one leaves the terminal in.
LEAVE_ALT_SCREEN = b"\x1b[?1049l"
SHOW_CURSOR = b"\x1b[?25h"
MOUSE_OFF = b"\x1b[?1000l"


@dataclass(frozen=True, slots=True)
class Exit:
    """How the process ended: its status (or -signal) and its peak resident size."""

    status: int
    peak_rss_mb: float


class TerminalRun:
    """``argv`` running in a ``columns`` x ``rows`` pseudo-terminal."""

    def __init__(
        self, argv: Sequence[str], env: dict[str, str], cwd: str, size: tuple[int, int] = (100, 30)
    ) -> None:
        self._master, self._slave = os.openpty()
        columns, rows = size
        fcntl.ioctl(self._slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._sane = termios.tcgetattr(self._slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        # posix_spawn, not fork: a forked child starts with its parent's pages resident, and
        # its peak RSS (kept across exec) would report the test process's size, not its own.
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

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process."""
        os.kill(self.pid, signum)

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
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
