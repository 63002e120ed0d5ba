"""The floor of the TUI benchmarks: pipe mode (``chattui -p go --json --yes``) on the same bytes.

Timed from the request's arrival at the server (its start-up excluded) to the line ending the
same work as the TUI's "on screen": ``finish`` (Markdown) or ``tool_result`` (save_file). Its
fragments/s counts characters of ``text`` (Markdown) or ``tool_call_delta`` (save_file)
lines, divided by the fragment size the stream was served in.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from _common import chattui_command
from _pty import child_env
from _streams import Server, Stream, write_config


@dataclass
class _Reading:
    """What the parent saw of pipe mode's JSON lines, and when."""

    delta: bytes  # the start of a counted line
    field: str  # its field whose characters are counted
    end: bytes  # the start of the line ending the work
    count: int = 0
    first: float | None = None
    last: float | None = None
    t_end: float | None = None

    def read(self, stdout: IO[bytes]) -> None:
        """Read ``stdout`` to its end, timing the counted lines and the end line."""
        fd, pending = stdout.fileno(), b""
        while chunk := os.read(fd, 1 << 20):
            now = time.perf_counter()
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            counted = [line for line in lines if line.startswith(self.delta)]
            n = sum(len(json.loads(line)[self.field]) for line in counted)
            if n:
                self.count += n
                self.first = self.first or now
                self.last = now
            if self.t_end is None and any(line.startswith(self.end) for line in lines):
                self.t_end = now


def _reading(stream: Stream) -> _Reading:
    if stream.check["type"] == "markdown":
        return _Reading(b'{"type": "text"', "text", b'{"type": "finish"')
    return _Reading(b'{"type": "tool_call_delta"', "arguments", b'{"type": "tool_result"')


def pipe_run(stream: Stream, server: Server) -> dict[str, Any]:
    """``chattui -p go --json --yes`` on the same bytes; times from the parent's side."""
    reading = _reading(stream)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        config = write_config(tmp, stream.kind, server.url(stream.kind))
        server.serve(stream)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*chattui_command(), "-p", "go", "--json", "--yes"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=child_env(tmp, config),
            cwd=tmp,
        )
        assert proc.stdout is not None
        reading.read(proc.stdout)
        proc.wait()
        total = time.perf_counter() - start
    t_request = server.arrivals[0] if server.arrivals else start
    if reading.t_end is None:
        end = reading.end.decode()
        raise RuntimeError(f"pipe mode printed no {end} line (exit {proc.returncode})")
    # Wire fragments: characters of the counted deltas / the size they were served in.
    fragments = reading.count / stream.check["size"]
    first, last = reading.first, reading.last
    rate = fragments / (last - first) if first and last and last > first else 0.0
    return {"done": reading.t_end - t_request, "total": total, "fragments": fragments, "rate": rate}
