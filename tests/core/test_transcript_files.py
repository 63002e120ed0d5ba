"""Transcripts read only as regular files, in bounded memory; resumed only inside the data dir.

A FIFO named ``*.jsonl`` in the transcripts folder used to hang ``chattui export latest``;
``--resume PATH`` appended to any ``*.jsonl`` anywhere; a 100 MB line was read whole.
"""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
from pathlib import Path

import pytest

from tests.faults.harness import Home
from tui.core.transcript import list_transcripts, load
from tui.core.transcript.replay import MAX_RECORD_BYTES

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")


def saved_conversation(home: Home) -> Path:
    """One real conversation with the offline demo provider; its file."""
    home.config.write_text('[providers.demo]\nkind = "demo"\n')
    done = home.run("-p", "hello")
    assert done.returncode == 0, done.stderr
    [path] = (home.data / "transcripts").glob("*.jsonl")
    return path


def test_a_fifo_among_transcripts_is_passed_over(tmp_path: Path) -> None:
    home = Home(tmp_path, "demo", "")
    path = saved_conversation(home)
    os.mkfifo(path.parent / "99999999-999999-zzzz.jsonl")  # newest by name, and never written
    assert [info.path for info in list_transcripts(path.parent)] == [path]
    done = home.run("export", "latest", timeout=30)
    assert done.returncode == 0 and "hello" in done.stdout, done.stderr


def test_resume_appends_only_inside_the_data_dir(tmp_path: Path) -> None:
    home = Home(tmp_path, "demo", "")
    path = saved_conversation(home)
    outside = tmp_path / "elsewhere.jsonl"
    shutil.copy(path, outside)
    before = outside.read_bytes()
    done = home.run("-p", "more", "--resume", str(outside))
    assert done.returncode == 2 and "outside" in done.stderr and "Traceback" not in done.stderr
    assert outside.read_bytes() == before
    exported = home.run("export", str(outside))  # reading it is fine
    assert exported.returncode == 0 and "hello" in exported.stdout
    inside = home.run("-p", "more", "--resume", str(path))
    assert inside.returncode == 0, inside.stderr


def test_a_line_past_the_record_limit_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    home = Home(tmp_path, "demo", "")
    path = saved_conversation(home)
    with path.open("ab") as f:  # a 200 MB line (no record is that long), then a good one
        f.write(b'{"v": 1, "type": "event", "kind": "info", "text": "')
        for _ in range(200):  # in pieces: never 200 MB in this process either
            f.write(b"x" * (1024 * 1024))
        f.write(b'"}\n')
        after = {"v": 1, "type": "event", "kind": "info", "text": "after", "ts": "t"}
        f.write(json.dumps(after).encode())
        f.write(b"\n")
    tracemalloc.start()
    try:
        transcript = load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert transcript.skipped_lines == 1 and transcript.notes[-1].text == "after"
    assert peak < 100 * 1024 * 1024  # the line is never held whole: at most MAX_RECORD_BYTES
    assert MAX_RECORD_BYTES == 64 * 1024 * 1024
