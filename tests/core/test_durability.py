"""Durability of the real ``chattui`` process (T28, T30, T35).

``tests/core/test_transcript.py`` pins the transcript writer itself; these run
the whole command: a ``chattui -p`` killed with SIGKILL mid-stream, several
``chattui -p --resume`` processes appending to one conversation at once, and
config files that are truncated or corrupt.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.faults.harness import Home, entries
from tests.support.loopback import LoopbackServer, Reply
from tui.core.runtime import Options, StartupError, start
from tui.core.transcript import load

ROUTE = "/v1/chat/completions"
posix_only = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock are POSIX")


def chunks(words: list[str], reason: str | None = "stop") -> list[bytes]:
    """One OpenAI Chat chunk per word, then the finish chunk and [DONE] (unless cut)."""
    out = [
        f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': w}}]})}\n\n".encode()
        for w in words
    ]
    if reason:
        done = {"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}
        out += [f"data: {json.dumps(done)}\n\n".encode(), b"data: [DONE]\n\n"]
    return out


def records(path: Path) -> list[dict[str, object]]:
    out = []
    for line in path.read_bytes().split(b"\n"):
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a torn last line
    return out


def wait_for_checkpoint(data: Path, proc: subprocess.Popen[bytes], limit: float = 20) -> dict:
    """Block until the transcript holds a checkpoint of the streaming answer; return it."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        for path in (data / "transcripts").glob("*.jsonl"):
            partials = [r for r in records(path) if r.get("type") == "partial"]
            if partials:
                return partials[-1]
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint was written (exit code {proc.poll()})")


@posix_only
def test_sigkill_mid_stream_then_export_and_resume(server: LoopbackServer, tmp_path: Path) -> None:
    words = [f"w{i} " for i in range(400)]
    server.script(ROUTE, Reply(chunks(words), pace=0.02), Reply(chunks(["Resumed."])))
    home = Home(tmp_path, "openai", server.base_url + "/v1")
    proc = home.spawn("-p", "remember this prompt")
    try:
        assert proc.stdout is not None
        shown = os.read(proc.stdout.fileno(), 4096)  # the answer reached stdout
        checkpoint = wait_for_checkpoint(home.data, proc)  # about 1 s into the stream
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
    assert shown and proc.returncode == -signal.SIGKILL
    kept = checkpoint["message"]["parts"][0]["text"]  # type: ignore[index]
    assert kept.startswith("w0 w1 ") and len(kept) < len("".join(words))

    exported = home.run("export", "latest", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    transcript = load(home.latest().path)
    assert transcript.skipped_lines <= 1  # at most a line torn by the kill
    user, partial = entries(transcript)
    assert user == ("user", "complete", "remember this prompt")
    assert partial[:2] == ("assistant", "incomplete") and partial[2].startswith(kept)
    assert "remember this prompt" in exported.stdout and kept in exported.stdout
    assert '"incomplete"' in exported.stdout

    resumed = home.run("-p", "go on", "--resume", "latest")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "Resumed.\n"
    sent = server.requests[-1].json()["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "remember this prompt" and sent[2]["content"] == "go on"
    assert sent[1]["content"].startswith(kept)  # the checkpointed partial goes back as context
    after = entries(home.latest())
    assert after[:2] == [user, partial] and after[2:] == [
        ("user", "complete", "go on"),
        ("assistant", "complete", "Resumed."),
    ]


@posix_only
def test_concurrent_resumes_of_one_conversation_lose_nothing(
    server: LoopbackServer, tmp_path: Path
) -> None:
    # Slow answers (1.2 s), so every process streams (and checkpoints) while the others write.
    answer = [f"a{i} " for i in range(40)]
    server.script(ROUTE, Reply(chunks(["Started."])), Reply(chunks(answer), pace=0.03))
    home = Home(tmp_path, "openai", server.base_url + "/v1")
    first = home.run("-p", "start")
    assert first.returncode == 0, first.stderr
    conversation = home.latest().id
    prompts = [f"prompt {n}" for n in range(4)]
    procs = [home.spawn("-p", p, "--resume", conversation) for p in prompts]
    outcomes = [(p.communicate(timeout=60), p.returncode) for p in procs]
    assert [code for _, code in outcomes] == [0] * 4, outcomes
    transcript = home.latest()
    assert transcript.skipped_lines == 0  # no two records were interleaved
    # Each process continued the conversation as it had loaded it, so the file may hold
    # several branches (their shape depends on timing); every message is in one of them.
    saved = entries(transcript, every_branch=True)
    assert sorted(text for role, _, text in saved if role == "user") == sorted(["start", *prompts])
    assert [(r, s, t) for r, s, t in saved if r == "assistant"] == [
        ("assistant", "complete", "Started.")
    ] + [("assistant", "complete", "".join(answer))] * 4
    assert len(saved) == 10
    checkpoints = [r for r in records(transcript.path) if r.get("type") == "partial"]
    assert checkpoints  # the processes really were checkpointing while the others wrote


# -- T35: a config file that is truncated or corrupt ----------------------------------------------


def truncations(text: str) -> dict[str, bytes]:
    """The valid config cut short in the middle of a string, a table header and a key."""
    mid_string = text.index('model = "test-model"') + len('model = "tes')
    mid_header = text.index("[tools]") + len("[too")
    mid_key = text.index("max_retries") + len("max_ret")
    return {
        name: text[:cut].encode()
        for name, cut in (
            ("mid-string", mid_string),
            ("mid-header", mid_header),
            ("mid-key", mid_key),
        )
    }


def test_truncated_config_refuses_with_line_and_column(tmp_path: Path) -> None:
    home = Home(tmp_path, "openai", "http://127.0.0.1:9/v1")
    for name, data in truncations(home.config.read_text()).items():
        home.config.write_bytes(data)
        before = home.config.stat().st_mtime_ns
        with pytest.raises(StartupError) as caught:
            start(Options(config=home.config), env=home.env())
        message = str(caught.value)
        line = data.decode().count("\n") + 1
        assert message.startswith(f"{home.config}: line {line}, column "), (name, message)
        assert home.config.read_bytes() == data and home.config.stat().st_mtime_ns == before


@pytest.mark.parametrize("command", [["-p", "hi"], ["config"]], ids=["pipe", "doctor"])
def test_corrupt_config_is_refused_and_never_rewritten(command: list[str], tmp_path: Path) -> None:
    home = Home(tmp_path, "openai", "http://127.0.0.1:9/v1")
    cut = truncations(home.config.read_text())["mid-string"]
    garbled = home.config.read_bytes().replace(b"test", b"\xff\xfe")
    corrupt = {"truncated": cut, "not UTF-8": garbled}
    for name, data in corrupt.items():
        home.config.write_bytes(data)
        os.utime(home.config, ns=(1_000_000_000, 1_000_000_000))  # an old, known mtime
        done = home.run(*command)
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert f"{home.config}: line " in done.stderr and "Traceback" not in done.stderr
        if name == "truncated":
            assert ", column " in done.stderr
        assert home.config.read_bytes() == data, name
        assert home.config.stat().st_mtime_ns == 1_000_000_000, name
    assert not (home.data / "transcripts").exists() or not any(
        (home.data / "transcripts").iterdir()
    )  # nothing started


# -- T36: a huge answer ----------------------------------------------------------------------------


async def test_five_megabyte_answer_is_saved_whole(server: LoopbackServer, tmp_path: Path) -> None:
    piece = "".join(chr(0x61 + i % 26) for i in range(1023)) + "\n"  # 1 KiB lines
    server.script(ROUTE, Reply(chunks([piece] * 5 * 1024)))
    runtime = Home(tmp_path, "openai", server.base_url + "/v1").start()
    try:
        received = 0
        async for event in runtime.session.send("write a lot"):
            received += len(getattr(event, "text", "") or "")
    finally:
        await runtime.provider.aclose()
        runtime.transcript.close()
    assert received == 5 * 1024 * 1024
    (_, (role, status, text)) = entries(load(runtime.transcript.path))
    assert (role, status) == ("assistant", "complete") and text == piece * 5 * 1024
