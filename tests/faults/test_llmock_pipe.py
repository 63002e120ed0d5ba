"""Every llmock fault family through pipe mode: the real ``chattui -p`` process.

What a script sees: the exit code (0 finished, 1 provider failure), the
answer on stdout, retries and errors on stderr (or JSON records with
``--json``), and a transcript that keeps the prompt and the partial answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from llmock.pytest_plugin import LLMock

from tests.faults.harness import KEY, Home, entries

TEXT = "one two three four five six seven eight nine ten"


@pytest.fixture
def mock(llmock: LLMock) -> LLMock:
    """llmock answering in text (by default it calls any tool it is offered)."""
    return llmock.tool_mode("off")


def home(mock: LLMock, tmp_path: Path, kind: str, **config: object) -> Home:
    return Home(tmp_path, kind, mock.base_url(kind), **config)  # type: ignore[arg-type]


def test_rate_limited_twice_says_retrying_then_answers(mock: LLMock, tmp_path: Path) -> None:
    mock.rate_limit(times=2, retry_after=0.5).reply(TEXT)
    done = home(mock, tmp_path, "openai").run("-p", "hello")
    assert done.returncode == 0, done.stderr
    assert done.stdout == TEXT + "\n"
    waits = [line for line in done.stderr.splitlines() if "retrying in" in line]
    assert len(waits) == 2, done.stderr
    for n, line in enumerate(waits, 1):
        assert line.startswith("rate limited (HTTP 429)")
        assert line.endswith(f"; retrying in 0.5 s (retry {n})")
    assert len(mock.requests) == 3
    mock.assert_resilient(strict=True)


def test_overloaded_storm_exits_1_and_keeps_the_prompt(mock: LLMock, tmp_path: Path) -> None:
    mock.fail(529, times=None, retry_after=0.2)
    env = home(mock, tmp_path, "anthropic", max_retries=1)
    done = env.run("-p", "a long prompt I typed")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert "overloaded (HTTP 529)" in lines[0] and "retrying in 0.2 s (retry 1)" in lines[0]
    assert lines[-1].startswith("error: overloaded (HTTP 529)")
    assert len(mock.requests) == 2
    mock.assert_resilient(strict=True)
    assert entries(env.latest())[0] == ("user", "complete", "a long prompt I typed")


def test_bad_key_is_one_attempt_naming_its_source(mock: LLMock, tmp_path: Path) -> None:
    mock.fail(401, message=f"invalid x-api-key {KEY}")
    env = home(mock, tmp_path, "anthropic")
    done = env.run("-p", "hi")
    assert done.returncode == 1
    assert "authentication failed (HTTP 401)" in done.stderr
    assert "check the API key ($TEST_API_KEY)" in done.stderr
    assert KEY not in done.stdout + done.stderr
    assert env.files_hold(KEY) == []
    assert len(mock.requests) == 1
    mock.assert_resilient(strict=True)


@pytest.mark.parametrize(
    ("kind", "fault", "says", "json_mode"),
    [
        ("openai", "disconnect", "dropped mid-response", False),
        ("anthropic", "truncate", "response incomplete", False),
        ("anthropic", "corrupt", "malformed chunk", True),
        ("openai", "stall", "read timeout", False),
    ],
)
def test_stream_cut_short_exits_1_with_the_partial_kept(
    mock: LLMock, tmp_path: Path, kind: str, fault: str, says: str, json_mode: bool
) -> None:
    getattr(mock, fault)(after_chunks=5)
    mock.reply(TEXT)
    env = home(mock, tmp_path, kind, timeout=1.0)
    done = env.run("-p", "count", *(["--json"] if json_mode else []))
    assert done.returncode == 1, done.stderr
    if json_mode:
        records = [json.loads(line) for line in done.stdout.splitlines()]
        partial = "".join(r["text"] for r in records if r["type"] == "text")
        assert records[-1]["type"] == "error" and says in records[-1]["message"]
        assert not any(r["type"] == "finish" for r in records)
    else:
        partial = done.stdout.removesuffix("\n")
        error = done.stderr.splitlines()[-1]
        assert error.startswith("error: ") and says in error
        assert error.endswith("(the partial answer is kept in the transcript)")
    assert partial and TEXT.startswith(partial) and partial != TEXT
    assert entries(env.latest()) == [
        ("user", "complete", "count"),
        ("assistant", "failed", partial),
    ]
    assert len(mock.requests) == 1


def sigint_masks(pid: int | str) -> tuple[bool, str]:
    """Whether process ``pid`` ignores or blocks SIGINT, and its signal masks as /proc shows
    them (for the failure message)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return False, "no /proc status"
    shown = [ln for ln in lines if ln.startswith(("SigBlk", "SigIgn", "SigCgt"))]
    masks = {k: int(v, 16) for k, v in (ln.split(":\t") for ln in shown)}
    bit = 1 << (signal.SIGINT - 1)
    return bool((masks.get("SigIgn", 0) | masks.get("SigBlk", 0)) & bit), " ".join(shown)


def test_interrupt_mid_stream_closes_the_connection_and_saves_the_partial(
    mock: LLMock, tmp_path: Path
) -> None:
    # 600 words 100 ms apart: a minute of stream, so even a starved machine interrupts it
    # mid-way (the answer is cut at once, so the test does not wait for the rest).
    mock.pace(100).reply(" ".join(f"w{i}" for i in range(600)))
    env = home(mock, tmp_path, "anthropic")
    # A shell that starts a job in the background (`cmd &`, no job control) ignores SIGINT in
    # it, and an ignored signal survives exec: seen as SigIgn 0x...1006 in a CI run started so.
    # chattui keeps an inherited ignore, as Unix programs do; Ctrl-C at a terminal is the case
    # under test, so the child starts with SIGINT at its default.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = env.spawn("-p", "stream slowly")
    finally:
        signal.signal(signal.SIGINT, before)
    _, parent = sigint_masks("self")
    try:
        assert proc.stdout is not None
        first = os.read(proc.stdout.fileno(), 1024)  # the answer has started
        _, masks = sigint_masks(proc.pid)  # its handlers are installed by now
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C
        try:
            rest, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            rest, err = b"", b"still streaming 30 s after SIGINT"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):  # left open when communicate timed out
            if pipe is not None:
                pipe.close()
    assert first
    assert proc.returncode == 130, (err, f"chattui: {masks}", f"test process: {parent}")
    assert b"Traceback" not in err
    shown = (first + rest).decode().strip()
    record = mock.last_request
    assert not record.completed and record.chunks_sent < 600
    (user, answer) = entries(env.latest())
    assert user == ("user", "complete", "stream slowly")
    assert answer[:2] == ("assistant", "cancelled") and answer[2].rstrip() == shown
