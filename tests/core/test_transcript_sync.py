"""Transcript fsync off the caller's thread (``tui.core.transcript.sync``).

A slow disk is faked by an ``os.fsync`` that waits on an event: the writer's calls must
return while it is blocked, with every record already in the file, in order; the pending
syncs coalesce; closing waits for them (bounded); a failed fsync is raised by the next
record, never lost; and a SIGKILLed process whose fsyncs never finished loses nothing.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.conversation import (
    AssistantMessage,
    ImagePart,
    TextPart,
    ToolResult,
    UserMessage,
)
from tests.support.disk import SAFETY, SlowDisk, slow_disk
from tui import cli, pipe
from tui.core.session import refuse_all
from tui.core.transcript import Entry, TranscriptWriter, load
from tui.core.transcript.sync import BackgroundSync, SyncNow
from tui.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowDisk]:
    with slow_disk(monkeypatch) as fake:
        yield fake


@pytest.fixture
def syncer() -> Iterator[BackgroundSync]:
    background = BackgroundSync()
    yield background
    background.wait(SAFETY)


def writer_in(directory: Path, syncer: BackgroundSync) -> TranscriptWriter:
    return TranscriptWriter.create(
        directory, provider="demo", model="m", workspace="ws", syncer=syncer
    )


def answer(text: str) -> AssistantMessage:
    return AssistantMessage(parts=(TextPart(text),))


def test_appends_return_while_the_fsync_is_blocked_and_pending_ones_coalesce(
    tmp_path: Path, disk: SlowDisk, syncer: BackgroundSync
) -> None:
    writer = writer_in(tmp_path, syncer)
    writer.append_user(UserMessage("q"))  # returns: its fsync waits in the thread
    assert disk.entered.wait(SAFETY), "the user message's fsync never started"
    inode = writer.path.stat().st_ino
    results = [ToolResult(f"c{i}", "read_file", f"result {i}") for i in range(20)]
    for result in results:  # while the disk is stuck: each returns, each is written
        writer.append(result)
    writer.finish_partial("s1", answer("done"))
    assert disk.calls == [inode] and disk.done == 0  # the first fsync is still blocked
    assert not syncer.wait(0)
    expected = (UserMessage("q"), *results, answer("done"))
    assert load(writer.path).messages == expected  # in the file, in order, before any sync

    disk.released.set()
    assert syncer.wait(SAFETY)
    assert disk.calls == [inode, inode], "21 records waiting need one more fsync, not 21"
    writer.close()
    syncer.close(SAFETY)
    assert disk.calls == [inode] * 3 and disk.done == 3  # close syncs the file once more
    assert load(writer.path).messages == expected


def test_close_returns_at_once_and_the_quit_waits_for_the_sync(
    tmp_path: Path, disk: SlowDisk, syncer: BackgroundSync
) -> None:
    writer = writer_in(tmp_path, syncer)
    writer.append_user(UserMessage("q"))
    assert disk.entered.wait(SAFETY)
    writer.close()  # /new or a switch: does not wait for the disk
    assert load(writer.path).messages == (UserMessage("q"),)  # readable back at once

    finished: list[int] = []
    quitting = threading.Thread(target=lambda: (syncer.close(SAFETY), finished.append(disk.done)))
    quitting.start()
    quitting.join(timeout=0.3)
    assert quitting.is_alive(), "quitting must wait for the blocked fsync"
    disk.released.set()
    quitting.join(timeout=SAFETY)
    assert not quitting.is_alive()
    assert finished == [len(disk.calls)] == [2]  # returned only after both syncs finished


def test_the_quit_wait_is_bounded(tmp_path: Path, disk: SlowDisk, syncer: BackgroundSync) -> None:
    writer = writer_in(tmp_path, syncer)
    writer.append_user(UserMessage("q"))
    assert disk.entered.wait(SAFETY)
    writer.close()
    with pytest.raises(TimeoutError, match="still being synced to disk after 0 s"):
        syncer.close(timeout=0)  # a hung disk: the exit goes on, and says so
    disk.released.set()
    assert syncer.wait(SAFETY)  # the thread still finishes what it had
    assert disk.done == 2


def test_an_attached_image_is_kept_at_once_and_synced_after(
    tmp_path: Path, disk: SlowDisk, syncer: BackgroundSync
) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
    image = ImagePart("image/png", data, "a.png", hashlib.sha256(data).hexdigest())
    writer = writer_in(tmp_path, syncer)
    writer.append_user(UserMessage("look", (image,)))  # returns while the disk is stuck
    assert disk.entered.wait(SAFETY)
    kept = tmp_path / "attachments" / image.sha256
    assert kept.read_bytes() == data  # under its final name, whole, before any sync
    assert load(writer.path).messages == (UserMessage("look", (image,)),)
    disk.released.set()
    writer.close()
    syncer.close(SAFETY)
    assert kept.stat().st_ino in disk.calls  # the image was synced too


def failing_disk(directory: Path, disk: SlowDisk, syncer: BackgroundSync) -> TranscriptWriter:
    """A writer whose first record was written and whose fsync of it failed (EIO)."""
    disk.fail = True
    disk.released.set()
    writer = writer_in(directory, syncer)
    writer.append_user(UserMessage("q"))  # written; its fsync fails in the thread
    assert syncer.wait(SAFETY)
    return writer


def test_a_failed_fsync_is_raised_by_the_next_record_before_it_is_written(
    tmp_path: Path, disk: SlowDisk, syncer: BackgroundSync
) -> None:
    writer = failing_disk(tmp_path, disk, syncer)
    before = writer.path.read_bytes()
    with pytest.raises(OSError, match="could not sync to disk") as raised:
        writer.append(answer("a"))
    assert raised.value.errno == errno.EIO and raised.value.filename == str(writer.path)
    assert writer.path.read_bytes() == before  # the record that raised was not written

    disk.fail = False  # reported once; the disk is back
    writer.append(answer("a"))
    writer.close()
    syncer.close(SAFETY)
    assert [e.message for e in load(writer.path).entries] == [UserMessage("q"), answer("a")]


def test_a_failure_nothing_reported_yet_is_raised_by_close(
    tmp_path: Path, disk: SlowDisk, syncer: BackgroundSync
) -> None:
    writer = failing_disk(tmp_path, disk, syncer)
    writer.close()
    with pytest.raises(OSError, match="could not sync to disk") as raised:
        syncer.close(SAFETY)
    assert raised.value.errno == errno.EIO


def test_a_directory_that_cannot_be_synced_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_directories(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(os, "fsync", no_directories)
    for syncer in (SyncNow(), BackgroundSync()):
        writer = TranscriptWriter.create(
            tmp_path, provider="demo", model="m", workspace="ws", syncer=syncer
        )
        writer.append_user(UserMessage("q"))
        writer.close()
        if isinstance(syncer, BackgroundSync):
            syncer.close(SAFETY)


def test_pipe_mode_default_syncs_in_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(threading.current_thread().name))
    writer = TranscriptWriter.create(tmp_path, provider="demo", model="m", workspace="ws")
    assert isinstance(writer.syncer, SyncNow)
    synced.clear()  # the directory's
    writer.append_user(UserMessage("q"))
    assert synced == [threading.current_thread().name]  # done when append_user returns
    writer.close()


def test_a_new_writer_for_the_session_shares_the_syncer(
    tmp_path: Path, disk: SlowDisk, syncer: BackgroundSync
) -> None:
    disk.released.set()
    first = writer_in(tmp_path, syncer)
    first.append_user(UserMessage("one"))
    first.close()
    again = TranscriptWriter.reopen(first.path, first.syncer)  # a switch back to it
    assert again.syncer is syncer
    again.append_user(UserMessage("two"))
    again.close()
    syncer.close(SAFETY)
    assert load(first.path).messages == (UserMessage("one"), UserMessage("two"))


@posix_only
def test_a_killed_process_whose_fsyncs_never_finished_loses_nothing(tmp_path: Path) -> None:
    code = """if True:
        import os, sys, threading
        from pathlib import Path
        from providers.conversation import AssistantMessage, TextPart, ToolResult, UserMessage
        from tui.core.transcript import TranscriptWriter
        from tui.core.transcript.sync import BackgroundSync
        stuck = threading.Event()
        os.fsync = lambda fd: stuck.wait()  # a disk that never answers
        w = TranscriptWriter.create(
            Path(sys.argv[1]), provider="demo", model="m", workspace="w", syncer=BackgroundSync()
        )
        w.append_user(UserMessage("question"))
        for i in range(50):
            w.append(ToolResult(f"c{i}", "read_file", f"result {i}"))
        w.finish_partial("s1", AssistantMessage(parts=(TextPart("the answer"),)))
        print(w.path, flush=True)
        stuck.wait()
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        path = Path(proc.stdout.readline().strip())
        os.kill(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=SAFETY)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, err
    t = load(path)
    assert t.skipped_lines == 0
    results = [ToolResult(f"c{i}", "read_file", f"result {i}") for i in range(50)]
    assert t.entries == [
        Entry(UserMessage("question"), "complete"),
        *(Entry(r, "complete") for r in results),
        Entry(answer("the answer"), "complete"),
    ]


def test_pipe_mode_says_a_failed_fsync_in_one_line_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def eio_for_files(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    (tmp_path / "ws").mkdir()
    config = tmp_path / "config.toml"
    config.write_text('default_provider = "demo"\n[providers.demo]\nkind = "demo"\n')
    monkeypatch.setenv("CHATTUI_CONFIG", str(config))
    monkeypatch.setenv("CHATTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATTUI_DEMO_DELAY", "0")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(pipe, "terminal_approver", lambda: refuse_all)
    monkeypatch.setattr(os, "fsync", eio_for_files)
    code = cli.main(["-p", "hi", "--workspace", str(tmp_path / "ws")])
    err = capsys.readouterr().err
    assert code == ExitCode.FAILED
    assert "chattui: cannot save the transcript: [Errno 5] could not sync to disk" in err
    assert err.count("cannot save the transcript") == 1  # not again for the close's sync
    assert "Traceback" not in err
    (saved,) = (tmp_path / "data" / "transcripts").glob("*.jsonl")
    assert load(saved).messages == (UserMessage("hi"),)  # written; only its fsync failed
