"""Child processes of the TUI benchmarks: a pseudo-terminal, their environment, spec and result.

A measured child is a fresh Python process (so no run inherits another's caches or widgets)
started on the slave side of a pty sized ``SIZE``, which the parent drains; it reads a JSON
spec and writes a JSON result (or the traceback of its failure) for the parent.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import re
import struct
import subprocess
import sys
import termios
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import ROOT

SIZE = (120, 40)
CHILD_TIMEOUT = 240.0


def child_env(tmp: Path, config: Path | None) -> dict[str, str]:
    """The environment of a child chattui: no vendor keys, private data dir, a real TERM."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(TERM="xterm-256color", CHATTUI_DATA_DIR=str(tmp / "data"))
    env.update(COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]), CHATTUI_DEMO_DELAY="0")
    env.pop("CHATTUI_CONFIG", None)
    if config is not None:
        env["CHATTUI_CONFIG"] = str(config)
    return env


def strip_ansi(data: bytes) -> str:
    """Terminal output without escape sequences (for finding text the app drew)."""
    data = re.sub(rb"\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)", b"", data)
    data = re.sub(rb"\x1b\[[0-?]*[ -/]*[@-~]", b"", data)
    data = re.sub(rb"\x1b[ -/]*[0-~]", b"", data)
    return data.decode("utf-8", "replace")


class PtyChild:
    """A process on the slave side of a fresh pseudo-terminal; the parent drains the master.

    Args:
        argv: the command.
        env: its environment.
        watch: called with all output so far (bytes) after each read; True stops watching.
    """

    def __init__(
        self, argv: Sequence[str], env: dict[str, str], watch: Callable[[bytes], bool] | None = None
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._master = master
        self._watch = watch
        self.output = bytearray()
        self.seen: float | None = None  # when ``watch`` first returned True
        self.event = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> None:
        """Type ``data`` into the child's terminal."""
        os.write(self._master, data)

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 1 << 16)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            self.received(data, time.perf_counter())
        self.event.set()

    def received(self, data: bytes, now: float) -> None:
        """One read of the child's output, read at ``now`` (subclasses add their watch)."""
        self.output += data
        if self._watch is not None and self.seen is None and self._watch(bytes(self.output)):
            self.seen = now
            self.event.set()

    def finish(self, timeout: float, kill: bool = False) -> int:
        """Wait for (or kill) the child, then stop draining; returns its exit code."""
        if kill:
            self.proc.kill()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._thread.join(timeout=5)
        os.close(self._master)
        return code


def run_child(
    script: Path,
    spec: dict[str, Any],
    env: dict[str, str],
    tmp: Path,
    headless: bool = False,
    timeout: float = CHILD_TIMEOUT,
) -> tuple[dict[str, Any], bytes]:
    """Run ``script --child SPEC`` (under a pty unless ``headless``); returns its result.

    A child still running after ``timeout`` seconds is killed.
    """
    spec_path, out_path = tmp / "spec.json", tmp / "result.json"
    out_path.unlink(missing_ok=True)
    spec = {**spec, "out": str(out_path), "headless": headless}
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    argv = [sys.executable, str(script), "--child", str(spec_path)]
    output = b""
    if headless:
        proc = subprocess.run(
            argv, env=env, cwd=ROOT, capture_output=True, timeout=timeout, check=False
        )
        output = proc.stdout + proc.stderr
    else:
        child = PtyChild(argv, env)
        child.finish(timeout)
        output = bytes(child.output)
    if not out_path.exists():
        raise RuntimeError(f"child wrote no result: {strip_ansi(output)[-800:]}")
    result = json.loads(out_path.read_text(encoding="utf-8"))
    if "error" in result:
        raise RuntimeError(f"child failed:\n{result['error']}")
    return result, output


def child_main(spec_path: str, work: Callable[[dict[str, Any]], Any]) -> int:
    """Run ``work(spec)`` (a coroutine function) and write its result (or traceback)."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    try:
        result = asyncio.run(work(spec))
    except BaseException:  # noqa: BLE001 - the parent shows it
        result = {"error": traceback.format_exc()}
    Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
    return 0
