"""A slow or failing disk for the transcript's fsync: ``os.fsync`` replaced by a gate.

``SlowDisk`` blocks each fsync of a regular file until the test sets ``released`` (a
directory's returns at once), counts the calls, and with ``fail`` raises EIO instead of
syncing. ``slow_disk`` installs one for a ``with`` block and releases it at the end, so
no sync thread is ever left blocked.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SAFETY = 30.0  # seconds: only a broken test ever waits this long


class SlowDisk:
    """An ``os.fsync`` that waits on ``released`` (see the module's doc)."""

    def __init__(self) -> None:
        self.calls: list[int] = []  # the inode of each file synced, in order
        self.done = 0  # calls that have returned
        self.entered = threading.Event()
        self.released = threading.Event()
        self.fail = False
        self._real = os.fsync

    def __call__(self, fd: int) -> None:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return
        self.calls.append(info.st_ino)
        self.entered.set()
        if not self.released.wait(SAFETY):
            raise AssertionError("the fake disk was never released")
        if self.fail:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        self._real(fd)
        self.done += 1


@contextmanager
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowDisk]:
    """A ``SlowDisk`` installed as ``os.fsync`` (until the test ends), released on exit."""
    fake = SlowDisk()
    monkeypatch.setattr(os, "fsync", fake)
    try:
        yield fake
    finally:
        fake.released.set()
