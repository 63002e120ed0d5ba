"""The real TUI in a pseudo-terminal against hostile servers and stop signals.

Each test runs ``chattui`` as its own process with a pty as its terminal, drives it with
keys or signals, and checks what a user would find afterwards: the exit status, the
terminal restored (alternate screen left, cursor shown, mouse reporting off, line
discipline back from raw mode), the process's peak memory, and the transcript.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Home, entries
from tests.support.loopback import LoopbackServer, Reply, gzip_bomb
from tests.support.terminal import (
    LEAVE_ALT_SCREEN,
    MOUSE_OFF,
    SHOW_CURSOR,
    TerminalRun,
    wait_until,
)

ROUTE = "/v1/chat/completions"
CTRL_Q = b"\x11"
MAX_RSS_MB = 300
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX terminals only")


def sse(delta: dict[str, object]) -> bytes:
    """One OpenAI chat chunk carrying ``delta``."""
    return b"data: " + json.dumps({"choices": [{"index": 0, "delta": delta}]}).encode() + b"\n\n"


HELLO = sse({"content": "Hello streamed"})
DONE = b"data: [DONE]\n\n"


def start(home: Home, *, controlling: bool = False) -> TerminalRun:
    run = TerminalRun(home.command(), home.env(), str(home.workspace), controlling=controlling)
    run.wait_for(b"Type a message")
    return run


def ask(run: TerminalRun, prompt: bytes, marker: bytes) -> None:
    """Type ``prompt``, send it, and wait until ``marker`` is on screen."""
    run.send(prompt)
    run.wait_for(prompt)
    run.send(b"\r")
    run.wait_for(marker)


def assert_restored(run: TerminalRun, mark: int) -> None:
    after = run.since(mark)
    for sequence in (LEAVE_ALT_SCREEN, SHOW_CURSOR, MOUSE_OFF):
        assert sequence in after, sequence
    assert run.terminal_modes() == (True, True)  # echo and line editing are back
    assert b"Traceback" not in run.output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_stop_signal_mid_stream_restores_the_terminal_and_saves_the_turn_cancelled(
    server: LoopbackServer, tmp_path: Path, signum: signal.Signals
) -> None:
    server.script(ROUTE, Reply([HELLO, DONE], stall_after=1, stall_seconds=60))
    home = Home(tmp_path, "openai", server.base_url + "/v1", timeout=60)
    with start(home) as run:
        ask(run, b"hi there", b"streamed")
        mark = run.mark()
        run.signal(signum)
        assert run.wait().status == 128 + signum
        assert_restored(run, mark)
    assert entries(home.latest()) == [
        ("user", "complete", "hi there"),
        ("assistant", "cancelled", "Hello streamed"),
    ]


def deep_arguments(total: int) -> Iterator[bytes]:
    """A list_files call whose arguments are ``total`` bytes of ``[`` in 64 KiB deltas."""
    yield HELLO
    call = {"index": 0, "id": "c1", "type": "function"}
    yield sse({"tool_calls": [{**call, "function": {"name": "list_files", "arguments": ""}}]})
    piece = sse({"tool_calls": [{"index": 0, "function": {"arguments": "[" * 65536}}]})
    for _ in range(total // 65536):
        yield piece


def endless_line(total: int) -> Iterator[bytes]:
    """Text, then a ``data:`` line of ``total`` bytes that never ends (built lazily)."""
    yield HELLO + b"data: "
    piece = b"x" * (1024 * 1024)
    for _ in range(total // len(piece)):
        yield piece


def quit_and_measure(run: TerminalRun) -> float:
    """The peak RSS in MB; then Ctrl+Q: the exit status must be 0 and the terminal restored."""
    peak = run.peak_rss_mb()
    mark = run.mark()
    run.send(CTRL_Q)
    done = run.wait(timeout=30)
    assert done.status == 0
    assert_restored(run, mark)
    return done.peak_rss_mb if peak is None else peak


def test_arguments_nested_a_million_deep_stay_small_and_ctrl_q_quits(
    server: LoopbackServer, tmp_path: Path
) -> None:
    # Before: memory grew past 10 GB and Ctrl+Q did nothing.
    body = [*deep_arguments(1024 * 1024), DONE]
    server.script(ROUTE, Reply(body, stall_after=len(body) - 1, stall_seconds=60))
    home = Home(tmp_path, "openai", server.base_url + "/v1", timeout=60)
    with start(home) as run:
        ask(run, b"list", b"nested too deeply")
        assert quit_and_measure(run) < MAX_RSS_MB
    assert entries(home.latest())[-1] == ("assistant", "cancelled", "Hello streamed")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(gzip_bomb(HELLO, b"\n", 2048), headers={"Content-Encoding": "gzip"}), b"bomb"),
        (Reply(endless_line(512 * 1024 * 1024)), b"passed 32 MiB"),
    ],
    ids=["gzip-2GiB", "line-512MiB"],
)
def test_hostile_bodies_at_full_size_end_the_turn_and_ctrl_q_quits(
    server: LoopbackServer, tmp_path: Path, reply: Reply, message: bytes
) -> None:
    server.script(ROUTE, reply)
    home = Home(tmp_path, "openai", server.base_url + "/v1", timeout=60, max_retries=0)
    with start(home) as run:
        ask(run, b"go", message)
        assert quit_and_measure(run) < MAX_RSS_MB
    assert entries(home.latest())[-1] == ("assistant", "failed", "Hello streamed")


def test_pipe_mode_on_sigterm_saves_the_turn_cancelled_and_says_so(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.script(ROUTE, Reply([HELLO, DONE], stall_after=1, stall_seconds=60))
    home = Home(tmp_path, "openai", server.base_url + "/v1", timeout=60)
    process = home.spawn("-p", "hi", "--json")
    assert process.stdout is not None
    first = process.stdout.readline()  # the streamed text: the turn is under way
    assert json.loads(first) == {"type": "text", "text": "Hello streamed"}
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    rest, errors = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM and b"Traceback" not in errors
    assert json.loads(rest.splitlines()[-1]) == {
        "type": "error",
        "status": "cancelled",
        "message": "cancelled",
    }
    assert entries(home.latest())[-1] == ("assistant", "cancelled", "Hello streamed")


# -- The terminal going away (its window closed, ssh dropped) ---------------------------------

HANGUP = 128 + signal.SIGHUP if hasattr(signal, "SIGHUP") else 0
ONLY_ORDERLY = (
    "import sys; from tui.core import signals; "
    "signals.STOP_GRACE = signals.HANGUP_POLL = 3600.0; "
    "from tui.cli import main; sys.exit(main())"
)
"""``chattui`` as its console script runs it, without two safety nets: the watchdog that
ends the process 10 s after a stop signal whatever state it is in (saving nothing more),
and the look every second at whether the terminal is still there. An exit must then come
from the orderly stop, started by the kernel's SIGHUP or by the first frame that could not
be written; an app that missed both, or froze, is still running when the test stops
waiting."""


READS_FAIL = (
    "import errno, os\n"
    "real_read = os.read\n"
    "def read(fd, size):\n"
    "    data = real_read(fd, size)\n"
    "    if fd == 0 and not data:\n"
    "        raise OSError(errno.EIO, os.strerror(errno.EIO))\n"
    "    return data\n"
    "os.read = read\n"
)
"""Put before ``ONLY_ORDERLY``: a read of the terminal that would see end-of-file fails with
EIO instead, as one can on Linux while a pseudo-terminal's master closes (the reader is
woken before the terminal is hung up)."""


def closing(home: Home, *, controlling: bool, before: str = "") -> TerminalRun:
    """``before`` + ``ONLY_ORDERLY`` on a pty (its controlling terminal or not), at the prompt."""
    argv = [sys.executable, "-c", before + ONLY_ORDERLY]
    run = TerminalRun(argv, home.env(), str(home.workspace), controlling=controlling)
    run.wait_for(b"Type a message")
    return run


WORDS = [f" w{i}" for i in range(20_000)]
ANSWER = "Hello streamed" + "".join(WORDS)


@pytest.mark.parametrize(
    "controlling", [True, False], ids=["SIGHUP-and-failed-write", "failed-write-only"]
)
def test_a_terminal_closed_mid_stream_saves_the_turn_cancelled_and_exits_129(
    server: LoopbackServer, tmp_path: Path, controlling: bool
) -> None:
    # Before, without a SIGHUP: Textual's writer thread died on the first failed frame and
    # nothing noticed until a later look at the terminal; by then the 31st frame could have
    # blocked the event loop, and only the watchdog ended the app, the answer "incomplete".
    # The answer streams on (frames keep coming) until the app stops reading it.
    chunks = [HELLO, *(sse({"content": word}) for word in WORDS), DONE]
    server.script(ROUTE, Reply(chunks, pace=0.005))
    home = Home(tmp_path, "openai", server.base_url + "/v1", timeout=60)
    with closing(home, controlling=controlling) as run:
        ask(run, b"hi there", b"streamed")
        run.close_terminal()
        assert run.wait().status == HANGUP
    (user, (role, status, text)) = entries(home.latest())
    assert user == ("user", "complete", "hi there")
    assert (role, status) == ("assistant", "cancelled")
    assert ANSWER.startswith(text) and "Hello streamed" in text and text != ANSWER


@pytest.mark.parametrize("controlling", [True, False], ids=["SIGHUP", "no-SIGHUP"])
def test_a_terminal_closed_at_the_prompt_exits_129_with_the_conversation_and_the_draft_kept(
    server: LoopbackServer, tmp_path: Path, controlling: bool
) -> None:
    server.script(ROUTE, Reply([HELLO, DONE]))
    home = Home(tmp_path, "openai", server.base_url + "/v1", timeout=60)
    with closing(home, controlling=controlling) as run:
        ask(run, b"hi there", b"streamed")
        wait_until(lambda: entries(home.latest())[-1][1] == "complete", "never complete")
        run.send(b"not sent yet")
        run.wait_for(b"not sent yet")
        run.close_terminal()
        assert run.wait().status == HANGUP
    # Text typed but not sent is no message: it is not sent nor in the transcript...
    assert len(server.requests) == 1
    assert entries(home.latest()) == [
        ("user", "complete", "hi there"),
        ("assistant", "complete", "Hello streamed"),
    ]
    # ...but it is not lost: the next chattui in the workspace has it in its input.
    with start(home) as run:
        run.wait_for(b"not sent yet")
        run.send(CTRL_Q)
        assert run.wait().status == 0


def test_a_read_failing_as_the_terminal_closes_is_a_hang_up_not_a_crash(
    server: LoopbackServer, tmp_path: Path
) -> None:
    # Before: Textual's input thread took the failed read for a crash (App.panic) and the
    # app exited 1 unless a failed frame's hang-up won the race (tests/ui/test_compat.py
    # checks the input thread itself; this, that the app installs the fix).
    home = Home(tmp_path, "openai", server.base_url + "/v1")
    with closing(home, controlling=False, before=READS_FAIL) as run:
        run.close_terminal()
        assert run.wait().status == HANGUP
    assert server.requests == []
