"""Transcripts: lossless storage, crash and concurrency durability, resume, export."""

from __future__ import annotations

import inspect
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, get_args

import pytest

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.conversation import (
    AssistantMessage,
    Message,
    ReasoningPart,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from providers.events import FinishReason, Usage
from providers.settings import ProviderSettings, Secret
from tui.core import transcript
from tui.core.transcript import (
    AmbiguousTranscript,
    Entry,
    Note,
    Transcript,
    TranscriptNotFound,
    TranscriptWriter,
    history_for_request,
    list_transcripts,
    load,
    message_from_dict,
    message_to_dict,
    resolve,
    to_json,
    to_markdown,
)
from tui.core.transcript import export as transcript_export
from tui.core.transcript import replay as replay_module
from tui.core.transcript import writer as transcript_writer
from tui.core.transcript.codec import dumps

ROOT = Path(__file__).resolve().parents[2]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and signals")

# --- strategies -------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=3)
parts = st.one_of(
    st.builds(TextPart, text=st.text()),
    st.builds(ReasoningPart, text=st.text(), echo=json_objects),
    st.builds(
        ToolCall,
        id=st.text(min_size=1, max_size=12),
        name=st.text(max_size=12),
        arguments=json_objects,
        raw_arguments=st.text(),
        error=st.none() | st.text(),
        echo=json_objects,
    ),
)
counts = st.none() | st.integers(0, 10**9)
dollars = st.none() | st.floats(0, 1e6, allow_nan=False)
messages = st.one_of(
    st.builds(UserMessage, text=st.text()),
    st.builds(
        AssistantMessage,
        parts=st.lists(parts, max_size=4).map(tuple),
        provider=st.sampled_from(["", "openai", "anthropic", "gemini"]),
        finish_reason=st.none() | st.sampled_from(get_args(FinishReason)),
        usage=st.none() | st.builds(Usage, counts, counts, counts, counts, counts, dollars),
    ),
    st.builds(
        ToolResult,
        call_id=st.text(max_size=12),
        name=st.text(max_size=12),
        content=st.text(),
        is_error=st.booleans(),
        refused=st.booleans(),
    ),
)

# --- helpers ----------------------------------------------------------------------------


def new_writer(directory: Path) -> TranscriptWriter:
    return TranscriptWriter.create(directory, provider="openai", model="gpt-test", workspace="ws")


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().split(b"\n") if line]


def assistant(*parts_: object, **kw: object) -> AssistantMessage:
    return AssistantMessage(parts=tuple(parts_), **kw)  # type: ignore[arg-type]


def child(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


# --- serialization ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"content": "the user refused this call: not now", "is_error": True}, True),
        ({"content": "the user refused this call", "is_error": False}, False),
        ({"content": "refused by policy (approval = 'deny'); not run", "is_error": True}, False),
        ({"content": "the user refused this call", "is_error": True, "refused": False}, False),
        ({"content": "no", "is_error": True, "refused": True}, True),
    ],
)
def test_results_written_before_the_refused_field_still_load(fields: dict, refused: bool) -> None:
    result = message_from_dict({"role": "tool", "call_id": "c", "name": "save_file", **fields})
    assert isinstance(result, ToolResult) and result.refused is refused


@given(messages)
def test_message_dict_round_trip_is_exact(msg: Message) -> None:
    line = dumps(message_to_dict(msg))
    assert "\n" not in line
    line.encode("utf-8")  # strict: every line is valid UTF-8
    assert message_from_dict(json.loads(line)) == msg


@settings(max_examples=30, deadline=None)
@given(st.lists(messages, max_size=6))
def test_written_messages_load_back_equal(msgs: list[Message]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        writer = new_writer(Path(tmp) / "t")
        for msg in msgs:
            writer.append(msg)
        writer.close()
        if msgs:
            loaded = load(writer.path)
            assert loaded.messages == tuple(msgs)
            assert loaded.skipped_lines == 0
            assert {e.status for e in loaded.entries} <= {"complete"}
        else:
            assert not writer.path.exists()  # nothing written: no empty file left behind


def test_surrogates_and_c1_controls_stored_escaped_and_exact(tmp_path: Path) -> None:
    msg = UserMessage("lone \ud800 surrogate, CSI \x9b2J, DEL \x7f, NEL \x85, LS \u2028 end")
    writer = new_writer(tmp_path)
    writer.append_user(msg)
    writer.close()
    raw = writer.path.read_bytes()
    raw.decode("utf-8")  # no lone surrogate reached the file
    assert "\x9b".encode() not in raw and "\x85".encode() not in raw
    assert load(writer.path).messages == (msg,)


@pytest.mark.parametrize(
    "bad",
    [
        {"role": "robot"},
        {"role": "user"},
        {"role": "user", "text": 3},
        {"role": "assistant", "parts": [{"type": "image"}]},
        {"role": "assistant", "parts": "text"},
        {"role": "assistant", "parts": [], "usage": [1]},
    ],
)
def test_message_from_dict_rejects_malformed(bad: dict) -> None:
    with pytest.raises((ValueError, KeyError)):
        message_from_dict(bad)


# --- writing ----------------------------------------------------------------------------


def test_user_message_is_on_disk_and_synced_before_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    writer = new_writer(tmp_path)
    assert writer.path.read_bytes() == b""
    synced.clear()  # the directory sync on creation

    writer.append_user(UserMessage("Why is the sky blue?\nBe brief."))
    meta, user = records(writer.path)
    assert synced, "the user message must be fsync'ed before the request goes out"
    assert meta["type"] == "meta" and meta["v"] == 1 and meta["id"] == writer.id
    assert meta["title"] == "Why is the sky blue?"
    assert user["type"] == "message" and user["turn"] == 1 and user["status"] == "complete"
    assert user["message"] == {"role": "user", "text": "Why is the sky blue?\nBe brief."}
    assert user["ts"].endswith("Z") and datetime.fromisoformat(user["ts"]).tzinfo is not None

    synced.clear()
    writer.checkpoint("s1", assistant(TextPart("Ray")))
    assert synced == [], "checkpoints are not fsync'ed"
    writer.finish_partial("s1", assistant(TextPart("Rayleigh scattering.")))
    assert synced, "finalized messages are fsync'ed"
    writer.close()


def test_checkpoints_supersede_and_finalizing_is_idempotent(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    writer.append_user(UserMessage("q"))
    for text in ("a", "ab", "abc"):
        writer.checkpoint("s1", assistant(TextPart(text)))
    t = load(writer.path)
    assert [(e.message, e.status) for e in t.entries[1:]] == [
        (assistant(TextPart("abc")), "incomplete")
    ]

    final = assistant(TextPart("abcd"), provider="openai", finish_reason="stop")
    writer.finish_partial("s1", final)
    writer.finish_partial("s1", assistant(TextPart("again")))
    writer.checkpoint("s1", assistant(TextPart("late")))  # after the end: ignored
    writer.close()
    again = TranscriptWriter.reopen(writer.path)
    again.finish_partial("s1", assistant(TextPart("from a resumed session")))
    again.close()

    finals = [r for r in records(writer.path) if r.get("stream_id") == "s1"]
    assert [r["type"] for r in finals] == ["partial"] * 3 + ["message"]
    t = load(writer.path)
    assert [(e.message, e.status) for e in t.entries] == [
        (UserMessage("q"), "complete"),
        (final, "complete"),
    ]


def test_loader_keeps_first_finalization_of_a_stream(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    writer.append_user(UserMessage("q"))
    writer.finish_partial("s1", assistant(TextPart("first")))
    writer.close()
    line = next(r for r in records(writer.path) if r.get("stream_id") == "s1")
    line["message"]["parts"][0]["text"] = "duplicate"
    with open(writer.path, "a", encoding="utf-8") as f:  # as another process might have
        f.write(json.dumps(line) + "\n")
    assert load(writer.path).messages == (UserMessage("q"), assistant(TextPart("first")))


def test_finish_partial_records_cancelled_and_failed_with_error(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    writer.append_user(UserMessage("q"))
    writer.checkpoint("s1", assistant(TextPart("half")))
    writer.finish_partial("s1", assistant(TextPart("half an")), status="cancelled")
    writer.finish_partial("s2", assistant(), status="failed", error="HTTP 500 from the server")
    writer.finish_partial("s3", assistant(TextPart("cut")), status="incomplete")
    with pytest.raises(ValueError, match="status"):
        writer.finish_partial("s4", assistant(), status="done")
    writer.close()
    entries = load(writer.path).entries[1:]
    assert [(e.status, e.error) for e in entries] == [
        ("cancelled", None),
        ("failed", "HTTP 500 from the server"),
        ("incomplete", None),
    ]
    assert entries[0].message == assistant(TextPart("half an"))


def test_turns_count_user_messages_and_continue_after_reopen(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    writer.append_user(UserMessage("one"))
    writer.append(assistant(TextPart("1")))
    writer.append(UserMessage("two"))  # append() routes a user message to append_user()
    writer.note("error", "first line\nsecond line")
    writer.close()
    resumed = TranscriptWriter.reopen(writer.path)
    assert resumed.id == writer.id
    resumed.append_user(UserMessage("three"))
    resumed.close()
    recs = records(writer.path)
    assert [r.get("turn") for r in recs] == [None, 1, 1, 2, 2, 3]
    assert [r["type"] for r in recs].count("meta") == 1
    assert (recs[4]["type"], recs[4]["kind"]) == ("event", "error")
    note = load(writer.path).notes[0]
    assert (note.kind, note.text, note.position) == ("error", "first line second line", 3)


def test_writer_refuses_use_after_close_and_removes_unused_file(tmp_path: Path) -> None:
    unused = new_writer(tmp_path)
    unused.close()
    unused.close()  # idempotent
    assert not unused.path.exists()
    with new_writer(tmp_path) as writer:
        writer.append_user(UserMessage("kept"))
    assert writer.path.exists()
    with pytest.raises(ValueError, match="closed"):
        writer.append_user(UserMessage("late"))


@posix_only
@pytest.mark.parametrize("umask", [0o000, 0o277])
def test_file_is_0600_and_created_directory_is_0700(tmp_path: Path, umask: int) -> None:
    (tmp_path / "data").mkdir()
    directory = tmp_path / "data" / "transcripts"
    old = os.umask(umask)  # neither a loose nor an odd umask may change the modes
    try:
        writer = new_writer(directory)
        writer.append_user(UserMessage("q"))
        writer.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(writer.path.stat().st_mode) == 0o600
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", writer.id)
    assert writer.path == directory / f"{writer.id}.jsonl"


@pytest.mark.skipif(transcript_writer.fcntl is None, reason="flock is POSIX only")
def test_writes_wait_for_the_file_lock(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    writer.append_user(UserMessage("q"))
    before = writer.path.read_bytes()
    with open(writer.path, "rb") as other:  # another process holding the lock, say
        fcntl.flock(other, fcntl.LOCK_EX)
        appender = threading.Thread(target=writer.append, args=(assistant(TextPart("a")),))
        appender.start()
        appender.join(timeout=0.3)
        assert appender.is_alive(), "the write must wait while the lock is held"
        assert writer.path.read_bytes() == before
        fcntl.flock(other, fcntl.LOCK_UN)
        appender.join(timeout=10)
    writer.close()
    assert load(writer.path).messages == (UserMessage("q"), assistant(TextPart("a")))


# --- crashes and corruption -------------------------------------------------------------


def conversation(directory: Path) -> TranscriptWriter:
    writer = new_writer(directory)
    writer.append_user(UserMessage("q1"))
    writer.append(assistant(TextPart("a1")))
    writer.append_user(UserMessage("q2"))
    writer.append(assistant(TextPart("a2 is a longer answer")))
    writer.close()
    return writer


def test_torn_last_line_is_skipped_and_resume_starts_a_fresh_line(tmp_path: Path) -> None:
    path = conversation(tmp_path).path
    os.truncate(path, path.stat().st_size - 12)  # killed in the middle of the last write
    t = load(path)
    assert t.messages == (UserMessage("q1"), assistant(TextPart("a1")), UserMessage("q2"))
    assert t.skipped_lines == 1

    resumed = TranscriptWriter.reopen(path)
    resumed.append_user(UserMessage("q3"))
    resumed.close()
    t = load(path)
    assert t.messages[-1] == UserMessage("q3")
    assert t.skipped_lines == 1


def test_corrupt_middle_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = conversation(tmp_path).path
    lines = path.read_bytes().split(b"\n")
    bad = [
        b"not json {",
        b"\xff\xfe invalid utf-8",
        b"[1, 2]",
        b'{"v":1,"type":"message","message":{"role":"robot"}}',
        b'{"v":1,"type":"partial","stream_id":"x","message":{"role":"user","text":"no"}}',
    ]
    path.write_bytes(b"\n".join(lines[:2] + bad + lines[2:]))
    t = load(path)
    assert t.skipped_lines == len(bad)
    assert len(t.messages) == 4 and t.meta["id"] == t.id


@posix_only
def test_sigkill_mid_stream_keeps_user_message_and_incomplete_partial(tmp_path: Path) -> None:
    code = """if True:
        import sys, time
        from pathlib import Path
        from providers.conversation import AssistantMessage, TextPart, UserMessage
        from tui.core.transcript import TranscriptWriter
        w = TranscriptWriter.create(Path(sys.argv[1]), provider="demo", model="m", workspace="w")
        w.append_user(UserMessage("question before the crash"))
        text = ""
        for i in range(10**7):
            text += f"chunk{i} "
            w.checkpoint("s1", AssistantMessage(parts=(TextPart(text),)))
            if i == 25:
                print(w.path, flush=True)
            time.sleep(0.001)
    """
    with child(code, str(tmp_path)) as proc:
        path_line = proc.stdout.readline()  # type: ignore[union-attr]
        os.kill(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    t = load(Path(path_line.strip()))
    assert t.skipped_lines <= 1  # at most the line being written when it died
    user, partial = t.entries
    assert user == Entry(UserMessage("question before the crash"), "complete")
    assert partial.status == "incomplete"
    assert partial.message.text.startswith("chunk0 chunk1 ")  # type: ignore[union-attr]
    assert "chunk25 " in partial.message.text  # type: ignore[union-attr]
    assert history_for_request(t) == (user.message, partial.message)


def test_two_processes_appending_concurrently_lose_nothing(tmp_path: Path) -> None:
    writer = new_writer(tmp_path)
    writer.append_user(UserMessage("shared"))
    writer.close()
    code = """if True:
        import sys
        from pathlib import Path
        from providers.conversation import ToolResult
        from tui.core.transcript import TranscriptWriter
        w = TranscriptWriter.reopen(Path(sys.argv[1]))
        tag = sys.argv[2]
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(50):
            w.append(ToolResult(f"{tag}-{i}", "read_file", tag * 20000 + str(i)))
        w.close()
    """
    procs = [child(code, str(writer.path), tag) for tag in "ab"]
    try:
        for proc in procs:
            assert proc.stdout.readline() == "ready\n"  # type: ignore[union-attr]
        for proc in procs:  # release both at once: their writes overlap
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
    finally:
        outcomes = [(p.communicate(timeout=60), p.returncode) for p in procs]
    assert [code for _, code in outcomes] == [0, 0], outcomes
    recs = records(writer.path)  # raises if any line is not valid JSON
    results = [message_from_dict(r["message"]) for r in recs[2:]]
    assert len(results) == 100
    assert {r.call_id for r in results} == {f"{t}-{i}" for t in "ab" for i in range(50)}  # type: ignore[union-attr]
    for r in results:
        tag, i = r.call_id.split("-")  # type: ignore[union-attr]
        assert r.content == tag * 20000 + i  # type: ignore[union-attr]
    assert load(writer.path).skipped_lines == 0


# --- resume -----------------------------------------------------------------------------


def test_history_for_request_drops_unpaired_calls_and_keeps_partial_text() -> None:
    call = ToolCall("c1", "read_file", {"path": "a"}, '{"path": "a"}')
    dangling = ToolCall("c2", "read_file", {"path": "b"}, '{"path": "b"}')
    interrupted = ToolCall("c3", "save_file", {}, '{"pa')
    entries = [
        Entry(UserMessage("q1")),
        Entry(assistant(ReasoningPart("r", {"sig": "s"}), TextPart("let me"), call, dangling)),
        Entry(ToolResult("c1", "read_file", "A")),
        Entry(ToolResult("zz", "read_file", "orphan result")),
        Entry(UserMessage("q2")),
        Entry(assistant(ReasoningPart("hmm"), TextPart("partial"), interrupted), "incomplete"),
        Entry(ToolResult("c3", "save_file", "never ran")),
        Entry(assistant(TextPart("stopped")), "cancelled"),
        Entry(assistant(interrupted), "cancelled"),
        Entry(assistant(TextPart("half")), "failed", "HTTP 500"),
        Entry(assistant(ToolCall("c9", "x", {})), "complete"),
        Entry(assistant(TextPart("  ")), "incomplete"),
    ]
    t = Transcript(id="x", path=Path("x.jsonl"), meta={}, entries=entries)
    assert history_for_request(t) == (
        UserMessage("q1"),
        assistant(ReasoningPart("r", {"sig": "s"}), TextPart("let me"), call),
        ToolResult("c1", "read_file", "A"),
        UserMessage("q2"),
        assistant(TextPart("partial")),
        assistant(TextPart("stopped")),
    )


entries = st.lists(
    st.builds(
        Entry,
        messages,
        st.sampled_from(transcript.STATUSES),
        st.none() | st.text(max_size=20),
    ),
    max_size=8,
)


@given(entries)
def test_history_for_request_always_pairs_calls_with_results(items: list[Entry]) -> None:
    history = history_for_request(Transcript("x", Path("x.jsonl"), {}, items))
    calls = [c.id for m in history if isinstance(m, AssistantMessage) for c in m.tool_calls]
    results = [m.call_id for m in history if isinstance(m, ToolResult)]
    assert set(calls) == set(results)
    users = [e.message for e in items if isinstance(e.message, UserMessage)]
    assert [m for m in history if isinstance(m, UserMessage)] == users
    for m in history:
        if isinstance(m, AssistantMessage):
            assert m.text.strip() or m.tool_calls


@given(entries, st.text(max_size=100))
def test_exports_are_terminal_safe_and_json_is_lossless(items: list[Entry], title: str) -> None:
    t = Transcript("x", Path("x.jsonl"), {"title": title, "model": title}, items)
    t.notes.append(Note("error", title, "ts", len(items)))
    md = to_markdown(t)
    assert not CONTROL.search(md) and md.endswith("\n")
    doc = json.loads(to_json(t))
    assert [message_from_dict(m["message"]) for m in doc["messages"]] == list(t.messages)
    assert [(m["status"], m["error"]) for m in doc["messages"]] == [
        (e.status, e.error) for e in items
    ]


# --- export -----------------------------------------------------------------------------


def export_sample(tmp_path: Path) -> Transcript:
    writer = new_writer(tmp_path)
    writer.append_user(UserMessage("Make an app\x1b]0;pwned\x07\nplease\tnow"))
    code = "x = '````'\nprint(x)\n"
    writer.finish_partial(
        "s1",
        assistant(
            ReasoningPart("I should write\nsome code"),
            TextPart("Here \x9b31mit is\x7f."),
            ToolCall("c1", "save_file", {"path": "src/app.py", "content": code}, "{}"),
            ToolCall("c2", "save_file", {"path": "notes.xyz", "content": "``\x00``"}, "{}"),
            ToolCall("c3", "read_file", {"path": "README.md"}, '{"path": "README.md"}'),
            ToolCall("c4", "list_files", {}, '{"dir": ', error="invalid JSON: unexpected end"),
        ),
    )
    writer.append(ToolResult("c1", "save_file", "saved"))
    writer.append(ToolResult("c3", "read_file", "line\n" * 3000, is_error=True))
    writer.note("error", "HTTP 429\x1b[2J rate limited")
    writer.append_user(UserMessage("more"))
    writer.checkpoint("s2", assistant(TextPart("```python\nprint(1")))
    writer.finish_partial("s3", assistant(TextPart("stop")), status="cancelled")
    writer.finish_partial("s4", assistant(), status="failed", error="HTTP 500\x1b[31m")
    writer.close()
    return load(writer.path)


def test_markdown_export(tmp_path: Path) -> None:
    md = to_markdown(export_sample(tmp_path))
    assert md.startswith("# Make an app]0;pwned\n")
    assert "## User\n\nMake an app]0;pwned\nplease\tnow" in md
    assert "> **Reasoning**\n>\n> I should write\n> some code" in md
    assert "Here 31mit is." in md
    assert '**Tool call** `save_file(path="src/app.py")`' in md
    assert "`````python\nx = '````'\nprint(x)\n`````" in md
    # the NUL between two backtick runs is stripped before the fence is sized
    assert "`````\n````\n`````" in md
    assert '**Tool call** `read_file`\n\n```json\n{\n  "path": "README.md"\n}\n```' in md
    assert '(invalid arguments: invalid JSON: unexpected end)\n\n```text\n{"dir": \n```' in md
    assert "**Tool result** `save_file`\n\n```text\nsaved\n```" in md
    assert "**Tool result** `read_file` (error)" in md
    shown = "\n".join(["line"] * transcript_export.RESULT_LINES)
    assert f"```text\n{shown}\n```\n\n*[truncated: {15000 - len(shown)} more characters]*" in md
    assert "> **Note (error):** HTTP 429[2J rate limited" in md
    assert "## Assistant (incomplete)\n\n```python\nprint(1\n```\n\n*[incomplete" in md
    assert "## Assistant (cancelled)\n\nstop\n\n*[cancelled" in md
    assert "## Assistant (failed)\n\n*[failed: HTTP 500[31m]*" in md
    assert not CONTROL.search(md)
    assert md.index("## User\n\nmore") < md.index("(incomplete)") < md.index("(cancelled)")


def test_json_export_loads_with_statuses(tmp_path: Path) -> None:
    t = export_sample(tmp_path)
    doc = json.loads(to_json(t))
    assert doc["id"] == t.id and doc["meta"] == t.meta
    assert [m["status"] for m in doc["messages"]] == [e.status for e in t.entries]
    assert [message_from_dict(m["message"]) for m in doc["messages"]] == list(t.messages)
    assert doc["messages"][-1]["error"] == "HTTP 500\x1b[31m"
    assert doc["notes"][0]["kind"] == "error" and doc["notes"][0]["after_message"] == 4
    assert "\x9b" not in to_json(t)  # escaped, so printing it cannot drive the terminal


# --- listing ----------------------------------------------------------------------------


def make_at(monkeypatch: pytest.MonkeyPatch, directory: Path, when: str, title: str) -> str:
    stamp = datetime.fromisoformat(when).replace(tzinfo=UTC)
    monkeypatch.setattr(transcript_writer, "_utcnow", lambda: stamp)
    writer = new_writer(directory)
    writer.append_user(UserMessage(title))
    writer.append(assistant(TextPart("answer")))
    writer.checkpoint("s", assistant(TextPart("not counted")))
    writer.close()
    return writer.id


def test_list_and_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TranscriptNotFound, match="none yet"):
        resolve(tmp_path, "latest")
    old = make_at(monkeypatch, tmp_path, "2024-01-01T10:00:00", "first " + "x" * 200)
    mid = make_at(monkeypatch, tmp_path, "2024-01-01T11:00:00", "second")
    new = make_at(monkeypatch, tmp_path, "2024-01-02T09:00:00", "third")
    (tmp_path / "20240102-100000-0000.jsonl").touch()  # a session killed before writing
    (tmp_path / "junk.jsonl").write_text("garbage\n")

    infos = list_transcripts(tmp_path)
    assert [i.id for i in infos] == [new, mid, old]
    assert infos[0].created == "2024-01-02T09:00:00.000Z" and infos[0].message_count == 2
    assert infos[2].title == "first " + "x" * 73 + "…" and len(infos[2].title) == 80
    assert resolve(tmp_path, "latest") == infos[0].path
    assert resolve(tmp_path, mid) == infos[1].path
    assert resolve(tmp_path, "20240102") == infos[0].path
    assert resolve(tmp_path, str(infos[2].path)) == infos[2].path
    with pytest.raises(AmbiguousTranscript, match="20240101"):
        resolve(tmp_path, "20240101")
    with pytest.raises(TranscriptNotFound, match=f"recent: {new}, {mid}, {old}"):
        resolve(tmp_path, "nope")
    assert list_transcripts(tmp_path / "missing") == []


def test_resolving_reads_no_transcript_past_its_meta_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--resume`` and ``export latest`` find the file from the meta lines alone: reading every
    saved conversation to count its messages would cost the size of the whole history."""
    old = make_at(monkeypatch, tmp_path, "2024-01-01T10:00:00", "first")
    new = make_at(monkeypatch, tmp_path, "2024-01-02T09:00:00", "second")
    bodies: list[object] = []
    real = replay_module._lines_raw

    def counted(f: BinaryIO) -> Iterator[bytes]:
        bodies.append(f)
        return real(f)

    monkeypatch.setattr(replay_module, "_lines_raw", counted)
    assert resolve(tmp_path, "latest").stem == new
    assert resolve(tmp_path, old[:12]).stem == old
    assert bodies == []
    assert [i.message_count for i in list_transcripts(tmp_path)] == [2, 2]  # the list counts
    assert len(bodies) == 2


# --- secrets and imports ----------------------------------------------------------------


def test_no_api_key_can_reach_the_transcript(tmp_path: Path) -> None:
    key = "sk-test-0123456789abcdefSECRET"
    provider = ProviderSettings(
        kind="openai",
        base_url="https://api.example.invalid/v1",
        model="gpt-test",
        api_key=Secret(key),
        headers={"Authorization": f"Bearer {key}"},
    )
    params = inspect.signature(TranscriptWriter.create).parameters
    assert list(params) == ["directory", "provider", "model", "workspace", "syncer"]
    with pytest.raises(TypeError):
        TranscriptWriter.create(  # type: ignore[call-arg]
            tmp_path, provider="p", model="m", workspace="w", api_key=key
        )

    writer = TranscriptWriter.create(
        tmp_path, provider=provider.kind, model=provider.model, workspace=str(tmp_path)
    )
    writer.append_user(UserMessage("hello"))
    writer.note("error", "401 Unauthorized: invalid API key (from $OPENAI_API_KEY)")
    writer.finish_partial("s1", assistant(), status="failed", error="401 Unauthorized")
    writer.close()

    meta = records(writer.path)[0]
    assert set(meta) - {"v", "type", "ts"} <= set(transcript_writer.META_FIELDS)
    for path in tmp_path.rglob("*"):
        assert key.encode() not in path.read_bytes()
    t = load(writer.path)
    assert key not in to_markdown(t) and key not in to_json(t)
