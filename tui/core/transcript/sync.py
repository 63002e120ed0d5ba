"""When a transcript's writes reach the disk: ``fsync`` now, or soon in a background thread.

A record is always written (``os.write``, so it is in the operating system) by the caller,
in order: a chattui that is killed or crashes loses nothing either way. What the ``fsync``
adds is survival of a power cut or an OS crash, and it is what can take long: a fraction
of a millisecond on a local SSD, but tens to hundreds of milliseconds (sometimes seconds)
on a busy laptop disk or a network home directory. Pipe mode has no screen to freeze and
syncs in the caller (``SyncNow``, the default); the TUI hands the ``fsync`` to one thread
(``BackgroundSync``) so that Enter, a tool result or the end of an answer never wait for
the disk.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Protocol

QUIT_WAIT = 5.0
"""Seconds the TUI's exit waits for the syncs still running (a hung disk must not hang it)."""


class Syncer(Protocol):
    """How a writer makes what it wrote durable."""

    def sync(self, fd: int, name: str, *, best_effort: bool = False) -> None:
        """Make what was written to ``fd`` durable, now or soon; ``fd`` may be closed after.

        Args:
            fd: an open descriptor of the file (or directory) to sync.
            name: the file's path, for error messages.
            best_effort: failures are ignored (a directory some systems cannot sync).

        Raises:
            OSError: the ``fsync`` failed (only when it runs now).
        """

    def check(self) -> None:
        """Raise the failure of an earlier ``sync`` that ran in the background, once.

        Raises:
            OSError: that failure, naming the file.
        """


class SyncNow:
    """``fsync`` in the caller: the call returns once the data is on the disk."""

    def sync(self, fd: int, name: str, *, best_effort: bool = False) -> None:
        """``os.fsync(fd)``; see ``Syncer.sync``."""
        try:
            os.fsync(fd)
        except OSError as exc:
            if not best_effort:
                raise sync_error(exc, name) from None

    def check(self) -> None:
        """Nothing ran in the background: nothing to report."""


@dataclass
class _Pending:
    fd: int  # a duplicate, owned by the syncer: the writer may close its own
    name: str
    best_effort: bool


class BackgroundSync:
    """One thread that ``fsync``s what the callers wrote, so they never wait for the disk.

    Coalesced: a file whose sync has been asked for and has not started yet is synced once
    for all the writes before it starts. A failure is kept and raised by the next ``check``
    (a writer calls it before its next record, so it surfaces where a write error would)
    or by ``close``. Thread-safe; the thread starts with the first ``sync``.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[tuple[int, int], _Pending] = {}  # (st_dev, st_ino) -> its sync
        self._running = False  # a batch is being synced now
        self._failure: OSError | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    def sync(self, fd: int, name: str, *, best_effort: bool = False) -> None:
        """Ask for ``fd``'s file to be synced soon; returns at once. See ``Syncer.sync``."""
        stat = os.fstat(fd)
        key = (stat.st_dev, stat.st_ino)  # not the fd number: a closed one is reused
        with self._cond:
            if key in self._pending:
                return  # its sync has not started: it covers this write too
            self._pending[key] = _Pending(os.dup(fd), name, best_effort)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="transcript-fsync", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def check(self) -> None:
        """See ``Syncer.check``."""
        with self._cond:
            failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def wait(self, timeout: float) -> bool:
        """Block until every sync asked for is done, at most ``timeout`` seconds.

        Returns:
            Whether they are all done.
        """
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._running, timeout)

    def close(self, timeout: float = QUIT_WAIT) -> None:
        """Wait for the syncs still to do (at most ``timeout`` seconds), then stop the thread.

        Raises:
            TimeoutError: they were not done in time (the data is written, not yet synced).
            OSError: a sync failed and no ``check`` has reported it yet.
        """
        done = self.wait(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if not done:
            raise TimeoutError(
                f"the transcript was still being synced to disk after {timeout:g} s; it is"
                " written, and only a power cut or a system crash before the disk catches up"
                " could lose its last records"
            )
        self.check()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending) or self._stopping)
                if not self._pending:
                    self._thread = None
                    return
                batch, self._pending = list(self._pending.values()), {}
                self._running = True
            failure = _sync_all(batch)
            with self._cond:
                self._running = False
                if failure is not None and self._failure is None:
                    self._failure = failure
                self._cond.notify_all()


def _sync_all(batch: list[_Pending]) -> OSError | None:
    """``fsync`` and close each; the first failure (as an error naming its file), if any."""
    failure: OSError | None = None
    for job in batch:
        try:
            os.fsync(job.fd)
        except OSError as exc:
            if not job.best_effort and failure is None:
                failure = sync_error(exc, job.name)
        finally:
            os.close(job.fd)
    return failure


def sync_error(exc: OSError, name: str) -> OSError:
    """A failed ``fsync`` as an error that says so and names the file."""
    return OSError(exc.errno, f"could not sync to disk: {exc.strerror or exc}", name)
