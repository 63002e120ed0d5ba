"""Start-up: ``chattui --version`` / ``--help``, import times, and time to a usable screen.

Time to first usable screen: the real ``chattui`` (offline demo, a temporary config, data
dir and workspace) starts on a fresh pseudo-terminal (120x40, TERM=xterm-256color); the
parent reads its raw output until the status bar ("demo · demo" then "idle") and the
footer ("palette") have been drawn, notes the time since the process was spawned, and
kills it. Median of 5 (``--screens``).

The floor of the first screen, measured the same way in the same run: a bare Textual app
with one ``Input`` and one line of text (``BARE_APP``), spawned on a pty until that line is
drawn. The same again with three real MCP servers configured (``MCP_SERVERS``: the test
SDK server ``tests/support/mcp_server.py`` twice and ``mcp-server-time``, stdio): they start
after the first screen, which the run checks (no server's log file exists yet when the
screen is seen) before waiting for all three to be spawned; then they are killed with
chattui and the next run starts only once they have exited (see ``_end``).

chattui's own modules are compiled to bytecode first (``compileall``), as an installed
package is: where ``PYTHONDONTWRITEBYTECODE`` is set every run would otherwise compile
them again while Textual's came compiled with its wheel. Likewise the runs share one cache
directory (``CHATTUI_CACHE_DIR``, a temporary one), filled by one chattui left running
until it has saved its compiled dataclass methods, regular expressions and parsed
stylesheets, as on every start after the first.

Budgets: ``chattui --version`` median at most 0.15 s, and neither ``--version`` nor
``--help`` imports Textual or httpx (checked here and by a test); first usable screen at
most 1 s and at most 1.3x the bare Textual app.
Run: ``python benchmarks/startup.py [--markdown] [--repeats N] [--screens N]``.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import ROOT, chattui_command, median_time, ms, table
from _pty import PtyChild, child_env, strip_ansi

MODULES = [
    "providers",
    "providers.openai",
    "tui.core.session",
    "tui.core.partial_json",
    "tui.ui.app",
]
SCREEN_TIMEOUT = 20.0
SCREEN_RATIO = 1.3
BARE_MARKER = "bare app ready"
BARE_APP = f"""
from textual.app import App
from textual.widgets import Input, Static

class Bare(App):
    def compose(self):
        yield Input()
        yield Static("{BARE_MARKER}")

Bare().run()
"""
STATUS_DRAWN = re.compile(r"demo · demo\s+idle")
MCP_SERVERS = ("sdk", "sdk2", "time")
SPAWN_TIMEOUT = 30.0
GONE_TIMEOUT = 10.0
CACHE_ENV = "CHATTUI_CACHE_DIR"
CACHE_FILES = 3
"""What start-up keeps: compiled dataclass methods, compiled patterns, parsed stylesheets."""
CACHE_DIRS: list[Path] = []
"""The cache directory every run of ``main`` shares (see the module docstring)."""


def _env(tmp: Path, config: Path) -> dict[str, str]:
    env = child_env(tmp, config)
    if CACHE_DIRS:
        env[CACHE_ENV] = str(CACHE_DIRS[0])
    return env


def _usable(output: bytes) -> bool:
    text = strip_ansi(output)
    return "palette" in text and STATUS_DRAWN.search(text) is not None


def _bare_drawn(output: bytes) -> bool:
    return BARE_MARKER in strip_ansi(output)


def mcp_config() -> str:
    """``[mcp.servers.*]`` tables for three real stdio servers (see ``MCP_SERVERS``)."""
    python = sys.executable
    sdk = str(ROOT / "tests" / "support" / "mcp_server.py")
    time_server = Path(python).parent / "mcp-server-time"
    commands = {"sdk": [python, sdk], "sdk2": [python, sdk], "time": [str(time_server)]}
    tables = []
    for name in MCP_SERVERS:
        command, *args = commands[name]
        tables.append(f"[mcp.servers.{name}]\ncommand = {command!r}\nargs = {args!r}\n")
    return "\n".join(tables)


def _spawned(data: Path) -> list[Path]:
    return sorted((data / "mcp").glob("*.log"))


class _CpuAtScreen(PtyChild):
    """A ``PtyChild`` that notes the CPU time its process had used when the screen showed."""

    cpu: float | None = None

    def received(self, data: bytes, now: float) -> None:
        """One read; the child's CPU time is read as the watch first matches."""
        seen = self.seen
        super().received(data, now)
        if seen is None and self.seen is not None:
            self.cpu = cpu_seconds(self.proc.pid)


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by all threads of ``pid`` (``/proc/PID/task/*/schedstat``, ns)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int((task / "schedstat").read_text(encoding="ascii").split()[0])
    return total / 1e9


def first_screen(bare: bool = False, mcp: bool = False) -> float:
    """Seconds from spawning ``chattui`` (or the bare app) on a pty until its screen shows.

    With ``mcp``, three servers are configured; raises if one was spawned before the
    screen showed, or if they were not all spawned after it.
    """
    return first_screen_and_cpu(bare, mcp)[0]


def first_screen_and_cpu(bare: bool = False, mcp: bool = False) -> tuple[float, float]:
    """``first_screen``, and the CPU time the process had used by then (seconds): less
    swayed than the wall time by what else runs on the machine."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "ws").mkdir()
        config = tmp / "config.toml"
        servers = "\n" + mcp_config() if mcp else ""
        config.write_text('[providers.demo]\nkind = "demo"\n' + servers, encoding="utf-8")
        command = [*chattui_command(), "--workspace", str(tmp / "ws")]
        if bare:
            command = [sys.executable, "-c", BARE_APP]
        child = _CpuAtScreen(command, _env(tmp, config), watch=_bare_drawn if bare else _usable)
        child.event.wait(SCREEN_TIMEOUT)
        seen = child.seen
        early = _spawned(tmp / "data")
        if mcp and seen is not None:
            _wait_spawned(tmp / "data")
        servers = _descendants(child.proc.pid)
        child.finish(5.0, kill=True)
        _end(servers)
    if seen is None:
        raise RuntimeError(f"no usable screen: {strip_ansi(bytes(child.output))[-300:]!r}")
    if early:
        raise RuntimeError(f"MCP servers spawned before the first screen: {early}")
    return seen - child.started, child.cpu or 0.0


def warm_cache() -> None:
    """Start chattui once and leave it running until it has saved its start-up caches."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "ws").mkdir()
        config = tmp / "config.toml"
        config.write_text('[providers.demo]\nkind = "demo"\n', encoding="utf-8")
        child = PtyChild([*chattui_command(), "--workspace", str(tmp / "ws")], _env(tmp, config))
        deadline = time.monotonic() + SPAWN_TIMEOUT
        while len(list(CACHE_DIRS[0].glob("*.bin"))) < CACHE_FILES:
            if time.monotonic() > deadline or child.proc.poll() is not None:
                child.finish(5.0, kill=True)
                raise RuntimeError("chattui saved no start-up cache")
            time.sleep(0.02)
        child.finish(5.0, kill=True)


def _wait_spawned(data: Path) -> None:
    deadline = time.monotonic() + SPAWN_TIMEOUT
    while len(_spawned(data)) < len(MCP_SERVERS):
        if time.monotonic() > deadline:
            raise RuntimeError(f"MCP servers not all spawned: {_spawned(data)}")
        time.sleep(0.02)


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (None once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _descendants(pid: int) -> list[tuple[int, str]]:
    """The processes under ``pid`` (the MCP servers chattui spawned: each in a session of its
    own, so killing chattui's group misses them), as (pid, start time) against pid reuse."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None:
            children.setdefault(int(fields[1]), []).append((int(entry.name), fields[19]))
    found: list[tuple[int, str]] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _end(processes: list[tuple[int, str]]) -> None:
    """Kill ``processes`` and wait until each has exited.

    A server killed with chattui would otherwise go on importing its SDK (about a second of
    CPU each) while the next run is measured: three of them made whichever run came after an
    MCP run up to twice as slow (the bare app's screen measured 0.36-0.47 s here where a run
    without MCP servers around measured 0.19 s).
    """
    for pid, _ in processes:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + GONE_TIMEOUT
    for pid, started in processes:
        while (fields := _stat(pid)) is not None and fields[19] == started and fields[0] != "Z":
            if time.monotonic() > deadline:
                raise RuntimeError(f"process {pid} still running after SIGKILL")
            time.sleep(0.01)


def _run(args: Sequence[str]) -> None:
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def rows(repeats: int) -> list[list[str]]:
    """Measured rows: command or import, median time."""
    out = []
    bare = median_time(lambda: _run([sys.executable, "-c", "pass"]), repeats)
    out.append(["python -c pass (interpreter floor)", ms(bare)])
    for flag in ("--version", "--help"):
        t = median_time(lambda f=flag: _run([*chattui_command(), f]), repeats)
        out.append([f"chattui {flag}", ms(t)])
    for module in MODULES:
        t = median_time(lambda m=module: _run([sys.executable, "-c", f"import {m}"]), repeats)
        out.append([f"import {module} (minus floor)", ms(max(t - bare, 0.0))])
    return out


def _ratio(ours: list[float], floor: list[float]) -> float:
    """The median of the per-round ratios."""
    return statistics.median(o / f for o, f in zip(ours, floor, strict=True) if f)


def _ratio_cell(ours: list[float], floor: list[float]) -> str:
    ratio = _ratio(ours, floor)
    verdict = "met" if ratio <= SCREEN_RATIO else "MISSED"
    return f"{ratio:.2f}x ({verdict}, <= {SCREEN_RATIO}x)"


def screen_rows(repeats: int) -> list[list[str]]:
    """First usable screen without and with MCP servers, and the floor, interleaved in each
    of ``repeats`` rounds (after one round not counted; the order turns each round); medians,
    and the median of the per-round ratios with the budget."""
    plain: list[tuple[float, float]] = []
    mcp: list[tuple[float, float]] = []
    floor: list[tuple[float, float]] = []
    runs = [(floor, {"bare": True}), (plain, {}), (mcp, {"mcp": True})]
    for kwargs in (run for _, run in runs):  # a round not counted: caches, page cache
        first_screen(**kwargs)
    for round_ in range(repeats):
        # The order turns each round: a run right after the last round's processes were
        # killed (three MCP servers among them) starts on a busier machine than the others.
        for times, kwargs in runs[round_ % 3 :] + runs[: round_ % 3]:
            times.append(first_screen_and_cpu(**kwargs))
    return _screen_table(plain, mcp, floor)


def _screen_table(
    plain_runs: list[tuple[float, float]],
    mcp_runs: list[tuple[float, float]],
    floor_runs: list[tuple[float, float]],
) -> list[list[str]]:
    plain, mcp, floor = ([wall for wall, _ in runs] for runs in (plain_runs, mcp_runs, floor_runs))
    cpu = {name: [c for _, c in runs] for name, runs in (("plain", plain_runs), ("mcp", mcp_runs))}
    floor_cpu = [c for _, c in floor_runs]
    median = statistics.median(plain)
    verdict = "met" if median <= 1.0 else "MISSED"
    return [
        ["first screen of a bare Textual app with one Input (floor)", ms(statistics.median(floor))],
        ["time to first usable screen (pty 120x40, demo)", f"{ms(median)} ({verdict}, <= 1 s)"],
        ["first usable screen / floor (median of per-run ratios)", _ratio_cell(plain, floor)],
        [
            "first usable screen, three MCP servers configured (spawned after it: checked)",
            ms(statistics.median(mcp)),
        ],
        ["first usable screen with three MCP servers / floor", _ratio_cell(mcp, floor)],
        [
            "CPU time used at the first screen: floor; chattui; with MCP servers (medians)",
            "; ".join(ms(statistics.median(c)) for c in (floor_cpu, cpu["plain"], cpu["mcp"])),
        ],
        [
            "CPU at the first screen / floor's: chattui; with MCP servers (no budget)",
            "; ".join(f"{_ratio(c, floor_cpu):.2f}x" for c in (cpu["plain"], cpu["mcp"])),
        ],
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the start-up table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--screens", type=int, default=5, help="first-screen runs (median)")
    ns = parser.parse_args(argv)
    compileall.compile_dir(ROOT / "providers", quiet=1)  # as installed: see the docstring
    compileall.compile_dir(ROOT / "tui", quiet=1)
    with tempfile.TemporaryDirectory(prefix="chattui-cache-") as cache:
        CACHE_DIRS[:] = [Path(cache)]
        warm_cache()
        screens = screen_rows(ns.screens)
    print(table(["what", "median"], [*rows(ns.repeats), *screens], ns.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
