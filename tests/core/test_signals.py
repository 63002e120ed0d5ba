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

STUCK = """
import asyncio, sys, threading
from tui.core.signals import on_stop_signals

async def main():
    stopped = asyncio.Event()
    def stop(signum):
        print("stop", signum, flush=True)
        stopped.set()
    on_stop_signals(stop, grace=0.5)
    print("ready", flush=True)
    if sys.argv[1] == "stuck":
        threading.Event().wait()  # a call that never returns: the loop cannot run stop
    await stopped.wait()
    sys.exit(7)

asyncio.run(main())
"""


def run_until_signalled(mode: str) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK, mode],
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
