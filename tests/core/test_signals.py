"""Stop signals: the orderly stop runs on the loop; a loop stuck for good still exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import asyncio, sys, threading
from tui.core.signals import on_stop_signals, watch_terminal

async def main():
    mode = sys.argv[1]
    stopped = asyncio.Event()
    def stop(signum):
        print("stop", signum, flush=True)
        stopped.set()
    on_stop_signals(stop, grace=0.5 if mode == "stuck" else 60)
    if mode == "watched":
        assert watch_terminal(0, interval=0.05) is not None
    print("ready", flush=True)
    if mode == "stuck":
        threading.Event().wait()  # a call that never returns: the loop cannot run stop
    await stopped.wait()
    sys.exit(7)

asyncio.run(main())
"""


def run_until_signalled(mode: str) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=60)  # a safety net: the watchdog fires after 0.5 s
    finally:
        proc.kill()
    with proc.stdout:
        return code, proc.stdout.read()


def test_the_orderly_stop_runs_on_the_loop() -> None:
    code, out = run_until_signalled("free")
    assert code == 7 and out == f"stop {int(signal.SIGTERM)}\n"


def test_a_loop_stuck_for_good_still_exits_with_the_signals_status() -> None:
    code, out = run_until_signalled("stuck")
    assert code == 128 + signal.SIGTERM and out == ""


def test_a_terminal_that_is_gone_stops_the_app_as_a_hang_up() -> None:
    # The pty is not the child's controlling terminal (a new session, no TIOCSCTTY): closing
    # its master sends no SIGHUP, and reads return end-of-file at once.
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, "watched"],
        stdin=slave,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == "ready\n"
        os.close(master)
        code = proc.wait(timeout=60)  # a safety net: the watch looks every 0.05 s
    finally:
        proc.kill()
    with proc.stdout:
        assert (code, proc.stdout.read()) == (7, f"stop {int(signal.SIGHUP)}\n")
