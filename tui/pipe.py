"""Pipe mode: one conversation turn without the TUI, for scripts.

The answer streams to stdout as it arrives; tool calls, retries and errors are
summarized on stderr. With ``--json`` every event is one JSON object per line
on stdout instead, and each model request ends with a ``finish`` or an
``error`` line. Calls that need approval are approved by ``--yes``; without
it they are asked on the terminal (``/dev/tty``) when there is one, and
refused otherwise: pipe mode fails closed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from contextlib import aclosing
from typing import Any, TextIO

from providers.errors import SetupError
from tui.core.attachments import AttachmentError, check_provider, from_cwd, prepare
from tui.core.runtime import Options, Runtime, StartupError, start
from tui.core.sanitize import NOT_UTF8, undecodable, visible, visible_lines
from tui.core.session import (
    Approval,
    Approver,
    TurnEnded,
    TurnStatus,
    refuse_all,
)
from tui.core.signals import on_stop_signals, stop_status
from tui.core.tools.registry import PreparedCall
from tui.exitcodes import ExitCode
from tui.pipe_printers import JsonPrinter, TextPrinter


def read_prompt(prompt: str, stdin: TextIO) -> str:
    """The prompt, with text piped on stdin appended."""
    if stdin.isatty():
        return prompt
    piped = stdin.read()
    if not piped.strip():
        return prompt
    return f"{prompt}\n\n{piped}" if prompt.strip() else piped


def run_pipe(ns: argparse.Namespace) -> int:
    """Run pipe mode for parsed arguments; returns the exit code."""
    prompt = read_prompt(ns.prompt, sys.stdin)
    if not prompt.strip():
        print("chattui: empty prompt (give -p TEXT or pipe text on stdin)", file=sys.stderr)
        return ExitCode.USAGE
    if undecodable(prompt):
        where = "-p" if undecodable(ns.prompt) else "stdin"
        print(f"chattui: {where}: {NOT_UTF8}", file=sys.stderr)
        return ExitCode.USAGE
    approver = approve_all if ns.yes else terminal_approver()
    options = Options(ns.provider, ns.model, ns.config, ns.workspace, ns.resume, ns.reasoning)
    try:
        runtime = start(options, approver)
    except StartupError as exc:
        print(f"chattui: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    for warning in runtime.config.warnings:
        print(f"chattui: warning: {warning}", file=sys.stderr)
    failure: OSError | None = None
    try:
        code = _send(runtime, prompt, ns)
    except OSError as exc:  # the transcript could not be written or synced: disk full, EIO
        failure, code = exc, ExitCode.FAILED
    except BaseException:
        runtime.close()
        raise
    try:
        runtime.close()  # the transcript's last fsync
    except OSError as exc:
        failure, code = failure or exc, ExitCode.FAILED
    if failure is not None:  # said once: a disk that failed a record fails the close too
        _say(failure)
    return code


def _say(exc: OSError) -> None:
    """A transcript that cannot be saved: one line on stderr, never a traceback."""
    print(f"chattui: cannot save the transcript: {visible(str(exc))}", file=sys.stderr)


def _send(runtime: Runtime, prompt: str, ns: argparse.Namespace) -> int:
    """Send the prompt and print the answer; the exit code."""
    printer = JsonPrinter(sys.stdout) if ns.json else TextPrinter(sys.stdout, sys.stderr)
    workspace = runtime.session.tools.workspace
    try:
        prepared = prepare(prompt, workspace, [from_cwd(p, workspace) for p in ns.attach])
        check_provider(prepared, runtime.provider)
        runtime.provider.prepare()  # the request goes at once: a broken TLS setup is said now
    except (AttachmentError, SetupError) as exc:
        print(f"chattui: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    _wait_for_mcp(runtime)
    send = runtime.session.send(prepared.text, prepared.images)
    turn = _drive(send, printer, runtime.provider.aclose, sys.stdout)
    return asyncio.run(_stoppable(turn))


def _wait_for_mcp(runtime: Any) -> None:
    """Pipe mode sends one request at once: its MCP servers get their start-up time first."""
    if runtime.mcp is None:
        return
    runtime.start_mcp()
    runtime.mcp.wait_settled()
    for status in runtime.mcp.statuses():
        if status.error:
            print(
                f"chattui: MCP server {status.name!r} is not available: {status.error}",
                file=sys.stderr,
            )
        for note in status.notes:
            print(f"chattui: warning: MCP server {status.name!r}: {note}", file=sys.stderr)


async def _drive(
    events: Any, printer: TextPrinter | JsonPrinter, close: Callable[[], Any], out: TextIO
) -> int:
    ended = TurnEnded(TurnStatus.FAILED, "the turn ended unexpectedly")
    flush = LazyFlush(out)
    try:
        async with aclosing(events) as stream:
            async for event in stream:
                printer.show(event)
                flush.request()
                if isinstance(event, TurnEnded):
                    ended = event
    except asyncio.CancelledError:
        ended = TurnEnded(TurnStatus.CANCELLED, "cancelled")
        if not flush.broken:
            raise
    except BrokenPipeError:  # a write found the reader gone (``| head``)
        flush.broken = True
    finally:
        if not flush.broken:
            try:
                printer.close(ended)
                out.flush()
            except BrokenPipeError:
                flush.broken = True
        if flush.broken:
            _detach(out)
        await close()
    if flush.broken:
        return ExitCode.FAILED
    return ExitCode.OK if ended.status.model_finished else ExitCode.FAILED


class LazyFlush:
    """Flushes the printers' output once per pass of the event loop, not once per event.

    What one network read produced is written in one go, as soon as the turn waits
    for the next read (``request`` schedules the flush for then). When the reader of
    the output has gone away (``chattui -p ... | head``), the flush cancels the turn
    instead of raising in the loop's callback: the turn is saved as cancelled and
    chattui exits with status 1, without a traceback.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.broken = False
        self._due = False
        self._task = asyncio.current_task()

    def request(self) -> None:
        """Flush before the loop next waits (once, however many events come first)."""
        if not self._due:
            self._due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._due = False
        try:
            self.out.flush()
        except BrokenPipeError:
            self.broken = True
            if self._task is not None:
                self._task.cancel()


def _detach(out: TextIO) -> None:
    """Point a broken output at /dev/null: the interpreter's last flush must not fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (tests): nothing will flush it at exit
        pass


async def _stoppable(turn: Coroutine[Any, Any, int]) -> int:
    """Run ``turn``; SIGTERM or SIGHUP cancel it as Ctrl+C does (saved cancelled)."""
    task = asyncio.current_task()
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        if task is not None:
            task.cancel()

    on_stop_signals(stop)
    try:
        return await turn
    except asyncio.CancelledError:
        if not received:
            raise
        return stop_status(received[0])


async def approve_all(prepared: PreparedCall) -> Approval:
    """``--yes``: approve every call the policy lets us ask about."""
    return Approval("yes")


def terminal_approver() -> Approver:
    """Ask on the controlling terminal if there is one; otherwise refuse (fail closed)."""
    try:
        tty = open("/dev/tty", "r+", encoding="utf-8")  # noqa: SIM115 (kept for the session)
    except OSError:
        return refuse_all

    async def ask(prepared: PreparedCall) -> Approval:
        return await asyncio.to_thread(_ask_tty, tty, prepared)

    return ask


def _ask_tty(tty: TextIO, prepared: PreparedCall) -> Approval:
    if prepared.preview:
        tty.write(visible_lines(prepared.preview) + "\n")  # escapes shown, not stripped
    tty.write(f"{visible(prepared.title)}\nApprove? [y/N] ")
    tty.flush()
    answer = tty.readline()
    if not answer:  # EOF is a no, never a yes
        return Approval("no", "no answer to the approval prompt")
    return Approval("yes") if answer.strip().lower() in ("y", "yes") else Approval("no")


if os.name == "nt":  # pragma: no cover - no /dev/tty on Windows
    terminal_approver = lambda: refuse_all  # noqa: E731
