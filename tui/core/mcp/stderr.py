"""A stdio server's stderr: into a size-capped log file, and its end noticed.

The server's stderr is the write end of a pipe; a daemon thread copies what
arrives to ``<data dir>/mcp/<server>.log`` (rewritten at each start, at most
``LOG_CAP`` bytes, then one line saying the rest was dropped) and sets
``ended`` in the manager's loop at end of file, which is when the server
process (and any child holding its stderr) has exited.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path
from typing import IO

from tui.core.locations import ensure_private_dir
from tui.core.sanitize import sanitize

LOG_CAP = 1024 * 1024
"""Bytes of one server's stderr kept per run."""


class StderrLog:
    """The pipe a server writes its stderr to, and the thread that copies it to the log."""

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop) -> None:
        self.path = path
        self.ended = asyncio.Event()
        self._loop = loop
        read_fd, write_fd = os.pipe()
        self.writer: IO[str] = os.fdopen(write_fd, "w")
        self._reader = read_fd
        with contextlib.suppress(OSError):
            ensure_private_dir(path.parent)
        threading.Thread(target=self._copy, name=f"mcp-stderr-{path.stem}", daemon=True).start()

    def spawned(self) -> None:
        """Close chattui's copy of the write end, so end of file means the server exited."""
        with contextlib.suppress(OSError):
            self.writer.close()

    def _copy(self) -> None:
        written = 0
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            out: IO[bytes] | None = os.fdopen(fd, "wb")
        except OSError:
            out = None
        try:
            while chunk := os.read(self._reader, 65536):
                if out is None or written >= LOG_CAP:
                    continue
                room = LOG_CAP - written
                out.write(chunk[:room])
                written += min(room, len(chunk))
                if written >= LOG_CAP:
                    out.write(b"\n[log cut: over 1 MB of stderr; the rest was dropped]\n")
                out.flush()
        except OSError:
            pass
        finally:
            if out is not None:
                out.close()
            os.close(self._reader)
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(self.ended.set)


def last_line(log: Path | None) -> str:
    """The last non-empty line of a server's stderr log (sanitized, capped), or ""."""
    if log is None:
        return ""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 4096))
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in sanitize(data).splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
