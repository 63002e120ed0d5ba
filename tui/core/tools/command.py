"""run_command: a shell command run in the workspace, its output streamed while it runs.

The command runs as ``bash -c COMMAND`` (``sh -c`` where bash is missing) in the workspace,
in a process group of its own, with stdin closed and the minimal environment of
``tui.core.environment.minimal_env`` (no provider keys). stdout and stderr share one pipe, so
their lines arrive interleaved in the order the command wrote them.

Stopping: Escape (the turn's task cancelled) and the timeout both send SIGTERM to the whole
group, then SIGKILL after ``GRACE_SECONDS``; a child that ignores SIGTERM or a grandchild the
shell left behind goes too. When the command ends by itself, what it left running in its group
is stopped the same way (a forgotten ``server &`` must not outlive the call).

Output: every chunk is decoded (UTF-8, invalid bytes replaced) and passed on as it arrives; the
model gets the exit status and the output capped to its first and last ``KEEP_BYTES`` bytes
with a note of what was cut (``OutputTail``), so a runaway command costs bounded memory.

Allow-list: ``allowed`` decides whether a command may run without asking. It parses the
command into argv with ``shlex`` and compares argv prefixes, never string prefixes; a command
holding any shell operator or expansion character (``;``, ``&``, ``|``, backticks, ``$``,
redirections, newlines...) is never allowed without asking, whatever the list says.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import shlex
import shutil
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.core.environment import minimal_env

__all__ = [
    "GRACE_SECONDS",
    "KEEP_BYTES",
    "CommandOutcome",
    "OutputTail",
    "allowed",
    "operator_in",
    "parse_allow",
    "run_command",
    "shell",
]

GRACE_SECONDS = 2.0
"""Seconds between SIGTERM and SIGKILL when a command is stopped."""
KEEP_BYTES = 16 * 1024
"""Bytes of output kept at each end for the model; the middle is cut."""
DEFAULT_TIMEOUT = 120
MAX_TIMEOUT = 3600
EXIT_POLL_SECONDS = 0.02
_READ = 64 * 1024
_OPERATORS = frozenset(";&|<>`$()\n\r\\{}!*?[]~#")
"""Characters that make a command more than one plain argv (or expand into something)."""


def operator_in(command: str) -> str | None:
    """The first shell operator or expansion character in ``command``, or None."""
    return next((char for char in command if char in _OPERATORS), None)


def parse_allow(entries: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """Allow-list entries as argv prefixes.

    Raises:
        ValueError: an entry is empty, does not parse, or holds a shell operator.
    """
    prefixes = []
    for entry in entries:
        char = operator_in(entry)
        if char is not None:
            raise ValueError(f"{entry!r} holds the shell character {char!r}")
        try:
            argv = tuple(shlex.split(entry))
        except ValueError as exc:
            raise ValueError(f"{entry!r} does not parse: {exc}") from None
        if not argv:
            raise ValueError("an entry is empty")
        prefixes.append(argv)
    return tuple(prefixes)


def allowed(command: str, prefixes: Sequence[tuple[str, ...]]) -> bool:
    """Whether ``command`` runs without asking: a plain argv starting with an allowed prefix."""
    if not prefixes or operator_in(command) is not None:
        return False
    try:
        argv = tuple(shlex.split(command))
    except ValueError:
        return False
    return any(argv[: len(prefix)] == prefix for prefix in prefixes)


def shell() -> str:
    """The shell commands run in: bash, or sh where bash is missing."""
    return shutil.which("bash") or shutil.which("sh") or "/bin/sh"


class OutputTail:
    """A command's output for the model: the first and last ``keep`` bytes, the middle cut."""

    def __init__(self, keep: int = KEEP_BYTES) -> None:
        self.keep = keep
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        """Keep what fits; O(len(data)) amortized."""
        self.total += len(data)
        room = self.keep - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.keep:
                del self.tail[: len(self.tail) - self.keep]

    def text(self) -> str:
        """The kept output as text, with a note of the bytes cut."""
        tail = bytes(self.tail[-self.keep :]) if self.tail else b""
        cut = self.total - len(self.head) - len(tail)
        head = self.head.decode("utf-8", "replace")
        if cut <= 0:
            return head + tail.decode("utf-8", "replace")
        note = f"\n[… {cut:,} bytes of output cut …]\n"
        return head + note + tail.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """How a command ended.

    Attributes:
        status: the exit status (negative: killed by that signal), None if it never started.
        output: the capped output (``OutputTail.text``).
        timed_out: stopped by the timeout.
        seconds: how long it ran.
    """

    status: int | None
    output: str
    timed_out: bool
    seconds: float

    def report(self, timeout: float) -> str:
        """The tool result: how it ended, then the output."""
        if self.timed_out:
            head = f"timed out after {timeout:g} s; stopped (exit status {self.status})"
        else:
            head = f"exit status {self.status}"
        return f"{head}\n{self.output}" if self.output else f"{head}\n(no output)"


async def run_command(
    command: str,
    cwd: Path,
    on_output: Callable[[str], None],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    grace: float = GRACE_SECONDS,
    env: dict[str, str] | None = None,
) -> CommandOutcome:
    """Run ``command`` in ``cwd``, passing its output on as it arrives.

    Cancelling the task stops the command's whole process group (SIGTERM, then SIGKILL after
    ``grace`` seconds) before the cancellation goes on.

    Raises:
        OSError: the shell could not be started.
    """
    started = time.monotonic()
    process = await _start(command, cwd, minimal_env() if env is None else env, grace)
    tail = OutputTail()
    assert process.stdout is not None
    reader = asyncio.create_task(_pump(process.stdout, tail, on_output))
    timed_out = False
    try:
        try:
            await asyncio.wait_for(_exited(process), timeout)
        except TimeoutError:
            timed_out = True
        await stop_group(process, grace)
        # Whatever held the pipe is gone now; a process that left the group may still hold it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), grace)
    except asyncio.CancelledError:
        await stop_group(process, grace)
        reader.cancel()
        raise
    finally:
        if not reader.done():
            reader.cancel()
    return CommandOutcome(process.returncode, tail.text(), timed_out, time.monotonic() - started)


async def _start(
    command: str, cwd: Path, env: dict[str, str], grace: float
) -> asyncio.subprocess.Process:
    """Start the shell; a cancel that arrives while it starts stops it before going on."""
    starting = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            shell(),
            "-c",
            command,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: one signal reaches every child
        )
    )
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        # The child may be running already (the fork happened): wait for it, then stop it.
        with contextlib.suppress(OSError):
            await stop_group(await starting, grace)
        raise


async def _pump(
    stream: asyncio.StreamReader, tail: OutputTail, on_output: Callable[[str], None]
) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    while data := await stream.read(_READ):
        tail.add(data)
        text = decoder.decode(data)
        if text:
            on_output(text)
    rest = decoder.decode(b"", final=True)
    if rest:
        on_output(rest)


async def stop_group(process: asyncio.subprocess.Process, grace: float = GRACE_SECONDS) -> None:
    """Stop every process of ``process``'s group: SIGTERM, then SIGKILL after ``grace`` s."""
    group = process.pid  # start_new_session: the leader's pid is the group id
    if not _signal_group(group, signal.SIGTERM):
        await _reap(process, grace)
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while loop.time() < deadline and _group_alive(group):
        await asyncio.sleep(EXIT_POLL_SECONDS)
    _signal_group(group, signal.SIGKILL)
    await _reap(process, grace)


async def _exited(process: asyncio.subprocess.Process) -> None:
    """Until the process has exited (``Process.wait`` also waits for its pipes to close,
    which a grandchild can hold open for ever)."""
    while process.returncode is None:
        await asyncio.sleep(EXIT_POLL_SECONDS)


async def _reap(process: asyncio.subprocess.Process, limit: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_exited(process), limit)


def _signal_group(group: int, sig: signal.Signals) -> bool:
    """Send ``sig`` to the group; False when no process is left in it."""
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # the group id was reused by someone else's process
        return False
    return True


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)  # signal 0: only checks that the group has a process
    except (ProcessLookupError, PermissionError):
        return False
    return True
