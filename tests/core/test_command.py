"""run_command's runner and allow-list, with real processes (bash or sh)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from providers.conversation import ToolCall, ToolResult
from tui.core.tools import command
from tui.core.tools.command import OutputTail, allowed, parse_allow, run_command
from tui.core.tools.registry import PreparedCall, ToolRegistry

ALLOW = parse_allow(["git status", "pytest", "python -m pytest"])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("git status", True),
        ("git status --short", True),
        ("  git   status ", True),
        ("pytest -q tests", True),
        ("python -m pytest -x", True),
        ("'git' 'status'", True),  # the parsed argv is what counts
        ("git", False),
        ("git statusx", False),
        ("git stash", False),
        ("pytestx", False),
        ("python -c 1", False),
        ("git status; rm -rf /", False),
        ("git status && rm x", False),
        ("git status || rm x", False),
        ("git status | sh", False),
        ("git status `rm x`", False),
        ("git status $(rm x)", False),
        ("git status $HOME", False),
        ("git status > /etc/x", False),
        ("git status < x", False),
        ("git status &", False),
        ("git status\nrm x", False),
        ("git status\\;rm", False),
        ("pytest 'a;b'", False),  # an operator anywhere, even quoted, asks
        ("FOO=1 pytest", False),
        ("git status 'unclosed", False),
        ("", False),
    ],
)
def test_allow_list_matches_parsed_argv_prefixes_only(line: str, expected: bool) -> None:
    assert allowed(line, ALLOW) is expected


def test_empty_allow_list_allows_nothing() -> None:
    assert not allowed("git status", ())


@pytest.mark.parametrize("entry", ["", "   ", "git status; ls", "ls 'x", "a | b", "$(x)"])
def test_bad_allow_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_allow([entry])


def test_output_tail_keeps_both_ends_and_says_what_was_cut() -> None:
    tail = OutputTail(keep=10)
    for _ in range(100):
        tail.add(b"0123456789")
    text = tail.text()
    assert text.startswith("0123456789\n[… 980 bytes of output cut …]\n")
    assert text.endswith("0123456789")
    assert len(tail.tail) <= 20  # bounded however much arrives
    small = OutputTail(keep=10)
    small.add(b"abc")
    assert small.text() == "abc"


def run(line: str, cwd: Path, **kwargs: object) -> tuple[command.CommandOutcome, list[str]]:
    chunks: list[str] = []
    outcome = asyncio.run(run_command(line, cwd, chunks.append, **kwargs))  # type: ignore[arg-type]
    return outcome, chunks


def test_runs_in_the_workspace_with_a_minimal_env_and_no_stdin(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    outcome, chunks = run("pwd; echo key=${OPENAI_API_KEY:-none}; cat; echo done", tmp_path)
    out = "".join(chunks)
    assert out.splitlines() == [os.path.realpath(tmp_path), "key=none", "done"]
    assert outcome.status == 0 and not outcome.timed_out
    assert outcome.report(5).startswith("exit status 0\n")


def test_stdout_and_stderr_interleave_in_order_and_the_status_is_kept(tmp_path: Path) -> None:
    outcome, chunks = run("echo one; echo two >&2; echo three; exit 3", tmp_path)
    assert "".join(chunks) == "one\ntwo\nthree\n"
    assert outcome.status == 3 and "exit status 3" in outcome.report(5)


def test_output_arrives_while_the_command_runs(tmp_path: Path) -> None:
    marker = tmp_path / "go"

    async def scenario() -> list[str]:
        chunks: list[str] = []
        got_first = asyncio.Event()

        def on_output(text: str) -> None:
            chunks.append(text)
            got_first.set()

        # The command waits for a file the test creates only after seeing the first line.
        line = f"echo first; while [ ! -e {marker} ]; do sleep 0.02; done; echo second"
        task = asyncio.create_task(run_command(line, tmp_path, on_output, timeout=30))
        await asyncio.wait_for(got_first.wait(), 30)
        assert "".join(chunks) == "first\n" and not task.done()
        marker.touch()
        await task
        return chunks

    assert "".join(asyncio.run(scenario())) == "first\nsecond\n"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie left to a reaper that never comes counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, limit: float = 20.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


STUBBORN = "trap '' TERM; echo $$ > {pidfile}; (trap '' TERM; sleep 300) & echo $! > {child}; wait"


def _pids(tmp_path: Path) -> list[int]:
    return [int((tmp_path / n).read_text()) for n in ("pid", "child")]


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_stopping_kills_the_group_even_children_that_ignore_sigterm(
    tmp_path: Path, how: str
) -> None:
    line = STUBBORN.format(pidfile=tmp_path / "pid", child=tmp_path / "child")

    async def scenario() -> command.CommandOutcome | None:
        timeout = 0.5 if how == "timeout" else 60
        task = asyncio.create_task(
            run_command(line, tmp_path, lambda _: None, timeout=timeout, grace=0.3)
        )
        if how == "timeout":
            return await task
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not (tmp_path / "child").exists() or not (tmp_path / "child").read_text():
            assert loop.time() < deadline
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return None

    outcome = asyncio.run(scenario())
    shell_pid, child_pid = _pids(tmp_path)
    assert _wait_gone(shell_pid) and _wait_gone(child_pid)
    if outcome is not None:
        assert outcome.timed_out and outcome.status == -signal.SIGKILL
        assert outcome.report(0.5).startswith("timed out after 0.5 s")


def test_a_background_grandchild_is_stopped_when_the_command_ends(tmp_path: Path) -> None:
    outcome, _ = run(f"sleep 300 & echo $! > {tmp_path / 'bg'}; echo started", tmp_path)
    assert outcome.status == 0
    assert _wait_gone(int((tmp_path / "bg").read_text()))


def test_escape_sequences_reach_the_result_as_bytes_not_interpreted(tmp_path: Path) -> None:
    outcome, chunks = run(r"printf '\033[31mred\033[0m\n'", tmp_path)
    assert "".join(chunks) == "\x1b[31mred\x1b[0m\n"  # shown escaped by the card and pipe


# --- the registry ---------------------------------------------------------------------------


def call(line: str, **extra: object) -> ToolCall:
    return ToolCall(id="c1", name="run_command", arguments={"command": line, **extra})


def registry(tmp_path: Path, approval: str = "ask", allow: tuple[str, ...] = ()) -> ToolRegistry:
    return ToolRegistry(tmp_path, enabled=["run_command"], approval=approval, command_allow=allow)


@pytest.mark.parametrize("approval", ["ask", "auto"])
def test_commands_always_ask_unless_allow_listed(tmp_path: Path, approval: str) -> None:
    reg = registry(tmp_path, approval, allow=("echo hi",))
    asked = reg.prepare(call("ls"))
    listed = reg.prepare(call("echo hi there"))
    tricked = reg.prepare(call("echo hi; rm -rf ."))
    assert isinstance(asked, PreparedCall) and asked.needs_approval
    assert isinstance(listed, PreparedCall) and not listed.needs_approval
    assert isinstance(tricked, PreparedCall) and tricked.needs_approval


def test_deny_refuses_commands_and_run_command_is_off_by_default(tmp_path: Path) -> None:
    refused = registry(tmp_path, "deny").prepare(call("ls"))
    assert isinstance(refused, ToolResult) and "refused by policy" in refused.content
    default = ToolRegistry(tmp_path)
    assert "run_command" not in default.enabled
    off = default.prepare(call("ls"))
    assert isinstance(off, ToolResult) and "unknown tool" in off.content


def test_a_prepared_command_runs_streaming_and_fails_on_a_non_zero_status(tmp_path: Path) -> None:
    prepared = registry(tmp_path).prepare(call("echo out; exit 2", timeout=10))
    assert isinstance(prepared, PreparedCall)
    chunks: list[str] = []
    result = asyncio.run(prepared.run_streaming(chunks.append))
    assert "".join(chunks) == "out\n"
    assert result.is_error and result.content == "exit status 2\nout\n"
    again = asyncio.run(prepared.run_streaming(chunks.append))
    assert again.is_error and "already run" in again.content
