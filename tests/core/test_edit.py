"""edit_file: matching, applying, the diff, and the live diff built from streamed arguments."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from providers.conversation import ToolCall, ToolResult
from tui.core.partial_json import PartialJSON
from tui.core.tools import edit
from tui.core.tools.edit import DiffRow, RowKind, Source, plan_edit, unified
from tui.core.tools.live_edit import LiveEdit, LiveState, rows_from_ops
from tui.core.tools.paths import ToolError
from tui.core.tools.registry import PreparedCall, ToolRegistry


def source(text: str) -> Source:
    crlf = "\n" in text and text.count("\r\n") == text.count("\n")
    return Source(text.replace("\r\n", "\n") if crlf else text, "digest", 0o644, crlf)


# (file, old, new, replace_all) -> new file, or the start of the error
MATCHING: list[tuple[str, str, str, str, bool, str]] = [
    ("unique", "a = 1\nb = 2\n", "b = 2", "b = 3", False, "a = 1\nb = 3\n"),
    ("mid-line", "x = foo(1) + 2\n", "foo(1)", "bar(1)", False, "x = bar(1) + 2\n"),
    ("none", "a = 1\n", "c = 3", "c = 4", False, "error: old_string was not found"),
    ("many", "x\nx\nx\n", "x", "y", False, "error: old_string matches 3 times"),
    ("replace_all", "x\nx\nx\n", "x", "y", True, "y\ny\ny\n"),
    ("replace_all one line", "f(x, x)\n", "x", "y", True, "f(y, y)\n"),
    ("replace_all none", "a\n", "x", "y", True, "error: old_string was not found"),
    ("whitespace", "def f():\n    return 1\n", "  return 1", "  return 2", False,
     "def f():\n    return 2\n"),
    ("whitespace differs", "def f():\n    return 1\n", "def f():\n  return 1", "x", False,
     "error: old_string was not found"),
    ("crlf", "a\r\nb\r\nc\r\n", "a\nb\n", "A\nB\n", False, "A\r\nB\r\nc\r\n"),
    ("crlf model sends crlf", "a\r\nb\r\n", "a\r\n", "z\r\n", False, "z\r\nb\r\n"),
    ("crlf new lines", "a\r\nb\r\n", "b", "b\nc", False, "a\r\nb\r\nc\r\n"),
    ("mixed endings stay exact", "a\r\nb\n", "a\r\n", "z\n", False, "z\nb\n"),
    ("unicode", "naïve = '🎉'\n", "'🎉'", "'é'", False, "naïve = 'é'\n"),
    ("no final newline", "a\nb", "b", "c", False, "a\nc"),
    ("delete a line", "a\nb\nc\n", "b\n", "", False, "a\nc\n"),
    ("join lines", "a\nb\nc\n", "a\n", "a ", False, "a b\nc\n"),
    ("empty old", "a\n", "", "x", False, "error: old_string is empty"),
    ("unchanged", "a\n", "a", "a", False, "error: old_string and new_string are the same"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("file", "old", "new", "replace_all", "expected"),
    [case[1:] for case in MATCHING],
    ids=[case[0] for case in MATCHING],
)
def test_matching(file: str, old: str, new: str, replace_all: bool, expected: str) -> None:
    src = source(file)
    try:
        plan = plan_edit(src, old, new, replace_all, "f.py")
    except ToolError as exc:
        assert expected.startswith("error: "), exc
        assert str(exc).startswith(expected.removeprefix("error: ")), exc
        return
    assert src.encode(plan.text).decode() == expected


def test_not_found_names_the_closest_line() -> None:
    text = "".join(f"line {i}\n" for i in range(1, 100)) + "    retrun total\n"
    with pytest.raises(ToolError) as info:
        plan_edit(source(text), "return total", "return 0", False, "f.py")
    assert "closest match is line 100: 'retrun total'" in str(info.value)


def test_not_found_with_other_indentation_says_so() -> None:
    text = "a\ndef f():\n    return 1\n"
    with pytest.raises(ToolError) as info:
        plan_edit(source(text), "def f():\n  return 1", "x", False, "f.py")
    assert "matches at line 2 if whitespace is ignored" in str(info.value)


def test_many_lists_the_lines() -> None:
    with pytest.raises(ToolError) as info:
        plan_edit(source("x\ny\nx\n"), "x", "z", False, "f.py")
    assert "matches 2 times in 'f.py' (lines 1, 3)" in str(info.value)


def test_the_diff_has_real_line_numbers_and_context() -> None:
    text = "".join(f"line {i}\n" for i in range(1, 21))
    plan = plan_edit(source(text), "line 10\n", "ten\nTEN\n", False, "f.txt")
    kinds = "".join(row.kind.value for row in plan.rows)
    assert kinds == "   -++   "
    assert plan.rows[0] == DiffRow(RowKind.CONTEXT, 7, 7, "line 7")
    assert plan.rows[3] == DiffRow(RowKind.REMOVED, 10, None, "line 10")
    assert plan.rows[5] == DiffRow(RowKind.ADDED, None, 11, "TEN")
    assert plan.rows[6] == DiffRow(RowKind.CONTEXT, 11, 12, "line 11")
    assert unified(plan.rows, "f.txt").splitlines()[:3] == [
        "--- a/f.txt",
        "+++ b/f.txt",
        "@@ -7,7 +7,8 @@",
    ]


def test_replace_all_far_apart_makes_two_hunks_with_a_gap() -> None:
    text = "x\n" + "".join(f"{i}\n" for i in range(20)) + "x\n"
    plan = plan_edit(source(text), "x", "y", True, "f")
    assert [row.kind for row in plan.rows].count(RowKind.GAP) == 1
    assert unified(plan.rows, "f").count("@@ -") == 2
    last_added = [row for row in plan.rows if row.kind is RowKind.ADDED][-1]
    assert last_added == DiffRow(RowKind.ADDED, None, 22, "y")


# --- the live diff ---------------------------------------------------------------------------


def stream(arguments: dict[str, Any], size: int) -> list[str]:
    raw = json.dumps(arguments)
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def live_rows(text: str, arguments: dict[str, Any], size: int) -> tuple[LiveEdit, list[DiffRow]]:
    src = source(text)
    live = LiveEdit(lambda raw: (edit.Resolved(raw, raw), src))
    parser = PartialJSON()
    ops: list[Any] = []
    for fragment in stream(arguments, size):
        live.feed(parser.feed(fragment))
        ops += live.take()
    live.finish()
    return live, rows_from_ops(ops + live.take())


FILE = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(40))
LIVE_CASES = [
    {"path": "m.py", "old_string": "    return x + 7\n", "new_string": "    y = 7\n    return y\n"},
    {"path": "m.py", "old_string": "x + 7", "new_string": "x * 7 + helper(x)"},
    {"path": "m.py", "old_string": "def f3(x):\n    return x + 3\n", "new_string": ""},
    {"path": "m.py", "new_string": "f_new", "old_string": "f39"},  # new_string first
    {"path": "m.py", "old_string": "def f0(x):", "new_string": "# first\ndef f0(x):"},
    {"path": "m.py", "old_string": "    return x + 39\n\n", "new_string": "    pass\n"},
]  # fmt: skip


@pytest.mark.parametrize("arguments", LIVE_CASES)
@pytest.mark.parametrize("size", [1, 3, 17, 1000])
def test_live_growth_equals_the_final_diff(arguments: dict[str, Any], size: int) -> None:
    live, rows = live_rows(FILE, arguments, size)
    plan = plan_edit(source(FILE), arguments["old_string"], arguments["new_string"], False, "m")
    assert live.state is LiveState.FOUND
    assert rows == list(plan.rows)


def test_live_crlf_file_shows_lf_lines() -> None:
    text = "a\r\nb\r\nc\r\n"
    args = {"path": "w.txt", "old_string": "b\r\n", "new_string": "B1\r\nB2\r\n"}
    _, rows = live_rows(text, args, 1)
    assert rows == list(plan_edit(source(text), "b\r\n", "B1\r\nB2\r\n", False, "w").rows)
    assert all("\r" not in row.text for row in rows)


def test_live_locates_once_old_string_is_whole_and_states_not_found_and_many() -> None:
    reads: list[str] = []
    src = source("x\nx\n")

    def read(raw: str) -> tuple[edit.Resolved, Source]:
        reads.append(raw)
        return edit.Resolved(raw, raw), src

    live = LiveEdit(read)
    parser = PartialJSON()
    live.feed(parser.feed('{"path": "a", "old_string": "x'))
    assert live.state is LiveState.WAITING and reads == []
    live.feed(parser.feed('", "new_string": "y'))
    assert live.state is LiveState.AMBIGUOUS and live.count == 2 and reads == ["a"]
    missing = LiveEdit(read)
    missing.feed(PartialJSON().feed('{"path": "a", "old_string": "zz", "new_string": "n'))
    assert missing.state is LiveState.NOT_FOUND and missing.take() == []


def test_live_new_fragments_cost_one_append_each() -> None:
    big = "".join(f"line {i}\n" for i in range(50_000))
    src = source(big)
    live = LiveEdit(lambda raw: (edit.Resolved(raw, raw), src))
    parser = PartialJSON()
    # A string's end is known when the next one starts growing: here, at new_string's "n".
    live.feed(parser.feed('{"path": "big.txt", "old_string": "line 25000\\n", "new_string": "n'))
    assert rows_from_ops(live.take())[-1] == DiffRow(RowKind.ADDED, None, 25001, "n")
    for _ in range(100):
        live.feed(parser.feed("abcd"))
        assert live.take() == ["abcd"]


# --- the tool ------------------------------------------------------------------------------


def call(args: dict[str, Any]) -> ToolCall:
    return ToolCall("call_1", "edit_file", args, json.dumps(args))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def test_edit_applies_atomically_keeping_mode_and_crlf(ws: Path) -> None:
    target = ws / "w.txt"
    target.write_bytes(b"one\r\ntwo\r\n")
    os.chmod(target, 0o640)
    prepared = ToolRegistry(ws).prepare(
        call({"path": "w.txt", "old_string": "two\n", "new_string": "2\n3\n"})
    )
    assert isinstance(prepared, PreparedCall) and prepared.needs_approval
    assert prepared.title == "edit_file 'w.txt' (1 replacement, +2 -1)"
    assert prepared.preview is not None and "-two\n+2\n+3\n" in prepared.preview
    result = prepared.run()
    assert not result.is_error, result.content
    assert result.content.startswith("edited 'w.txt'")
    assert target.read_bytes() == b"one\r\n2\r\n3\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_edit_is_refused_and_marked_stale_when_the_file_changed(ws: Path) -> None:
    target = ws / "a.py"
    target.write_text("x = 1\n")
    prepared = ToolRegistry(ws).prepare(
        call({"path": "a.py", "old_string": "1", "new_string": "2"})
    )
    assert isinstance(prepared, PreparedCall)
    target.write_text("x = 1\ny = 1\n")
    result = prepared.run()
    assert result.is_error and prepared.stale
    assert "changed since the preview; not written" in result.content
    assert target.read_text() == "x = 1\ny = 1\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"path": "missing.py", "old_string": "a", "new_string": "b"}, "does not exist"),
        ({"path": "a.py", "old_string": "nope", "new_string": "b"}, "was not found"),
        ({"path": "a.py", "old_string": "x", "new_string": "b"}, "matches 2 times"),
        ({"path": "a.py", "old_string": "x"}, "missing required argument 'new_string'"),
        ({"path": "bin.dat", "old_string": "a", "new_string": "b"}, "looks binary"),
        ({"path": "latin.txt", "old_string": "a", "new_string": "b"}, "is not UTF-8 text"),
    ],
)
def test_edit_errors_write_nothing(ws: Path, args: dict[str, Any], message: str) -> None:
    (ws / "a.py").write_text("x = x\n")
    (ws / "bin.dat").write_bytes(b"a\x00b")
    (ws / "latin.txt").write_bytes(b"a \xe9\n")
    before = {p.name: p.read_bytes() for p in ws.iterdir()}
    result = ToolRegistry(ws).prepare(call(args))
    assert isinstance(result, ToolResult) and result.is_error
    assert message in result.content, result.content
    assert {p.name: p.read_bytes() for p in ws.iterdir()} == before


def test_edit_size_limit(ws: Path) -> None:
    (ws / "a.txt").write_text("x" * 100)
    registry = ToolRegistry(ws, max_write_bytes=150)
    grown = registry.prepare(
        call({"path": "a.txt", "old_string": "x" * 100, "new_string": "y" * 200})
    )
    assert isinstance(grown, ToolResult) and "over the 150 B limit" in grown.content
    (ws / "b.txt").write_text("x" * 200)
    big = registry.prepare(call({"path": "b.txt", "old_string": "x", "new_string": "y"}))
    assert isinstance(big, ToolResult) and "over the 150-byte limit" in big.content
