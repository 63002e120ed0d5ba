"""The tool registry: schemas, policy, and each tool's happy paths and errors.

Threat-by-threat confinement tests live in tests/security/test_confinement.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from providers.conversation import ToolCall, ToolResult
from tui.core.tools import files, listing
from tui.core.tools.listing import glob_regex
from tui.core.tools.paths import quoted, visible_path
from tui.core.tools.registry import PreparedCall, ToolRegistry
from tui.core.tools.schema import validate


def make_call(name: str, args: Any = None, *, error: str | None = None) -> ToolCall:
    args = {} if args is None else args
    return ToolCall(
        id="call_1", name=name, arguments=args, raw_arguments=json.dumps(args), error=error
    )


def prepared(registry: ToolRegistry, name: str, **args: Any) -> PreparedCall:
    result = registry.prepare(make_call(name, args))
    assert isinstance(result, PreparedCall), result
    return result


def refused(registry: ToolRegistry, name: str, **args: Any) -> str:
    result = registry.prepare(make_call(name, args))
    assert isinstance(result, ToolResult), result
    assert result.is_error and result.call_id == "call_1" and result.name == name
    return result.content


def run(registry: ToolRegistry, name: str, **args: Any) -> ToolResult:
    return prepared(registry, name, **args).run()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def reg(ws: Path) -> ToolRegistry:
    return ToolRegistry(ws)


def numbered(count: int) -> str:
    return "".join(f"{n}\n" for n in range(1, count + 1))


# --- schema validation

SCHEMA_ERRORS = [
    ("save_file", {"path": "a"}, "save_file: missing required argument 'content'"),
    ("save_file", {"path": 3, "content": ""}, "save_file: 'path' must be a string"),
    ("read_file", {"path": "a", "limit": "10"}, "read_file: 'limit' must be an integer"),
    ("read_file", {"path": "a", "limit": True}, "read_file: 'limit' must be an integer"),
    ("read_file", {"path": "a", "limit": 1.5}, "read_file: 'limit' must be an integer"),
    ("read_file", {"path": "a", "offset": 0}, "read_file: 'offset' must be >= 1"),
    ("read_file", {}, "read_file: missing required argument 'path'"),
    ("list_files", {"recursive": True}, "list_files: unexpected argument 'recursive'"),
    ("list_files", ["."], "list_files: arguments must be a JSON object"),
]


@pytest.mark.parametrize(("name", "args", "message"), SCHEMA_ERRORS)
def test_schema_errors_become_error_results(
    reg: ToolRegistry, ws: Path, name: str, args: Any, message: str
) -> None:
    result = reg.prepare(make_call(name, args))
    assert isinstance(result, ToolResult) and result.is_error
    assert message in result.content
    assert list(ws.iterdir()) == []


def test_schema_reports_every_problem_at_once() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "boolean"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    with pytest.raises(ValueError) as info:
        validate("t", schema, {"b": 1})
    assert str(info.value) == "t: missing required argument 'a'; t: unexpected argument 'b'"
    with pytest.raises(ValueError, match="'a' must be a boolean"):
        validate("t", schema, {"a": 1})


def test_schema_fills_defaults_and_accepts_integral_floats() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "default": 7}}}
    assert validate("t", schema, {}) == {"n": 7}
    assert validate("t", schema, {"n": 2.0}) == {"n": 2}
    assert type(validate("t", schema, {"n": 2.0})["n"]) is int


def test_invalid_json_call_is_not_run(reg: ToolRegistry, ws: Path) -> None:
    call = make_call("save_file", {}, error="Expecting ',' delimiter: line 1 column 9")
    result = reg.prepare(call)
    assert isinstance(result, ToolResult) and result.is_error
    assert result.content == (
        "save_file: arguments were not valid JSON: Expecting ',' delimiter: line 1 column 9; "
        "the call was not run"
    )
    assert list(ws.iterdir()) == []


def test_unknown_and_disabled_tools(ws: Path) -> None:
    reg = ToolRegistry(ws, enabled=("read_file", "list_files"))
    assert [spec.name for spec in reg.specs()] == ["read_file", "list_files"]
    expected = "unknown tool 'save_file'; available: read_file, list_files"
    assert refused(reg, "save_file", path="a", content="x") == expected
    assert refused(reg, "rm_rf") == "unknown tool 'rm_rf'; available: read_file, list_files"
    assert not (ws / "a").exists()


def test_specs_are_consistent_json_schemas(reg: ToolRegistry) -> None:
    specs = reg.specs()
    assert [s.name for s in specs] == ["save_file", "edit_file", "read_file", "list_files"]
    for spec in specs:
        params = spec.parameters
        assert params["type"] == "object" and params["additionalProperties"] is False
        assert set(params.get("required", ())) <= set(params["properties"])
        assert spec.description
        json.dumps(params)  # adapters serialise it as is


@pytest.mark.parametrize(
    "kwargs",
    [{"approval": "sometimes"}, {"enabled": ("shell",)}, {"max_write_bytes": 0}],
)
def test_bad_configuration_is_rejected_up_front(ws: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ToolRegistry(ws, **kwargs)


def test_missing_workspace_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a directory"):
        ToolRegistry(tmp_path / "nope")


# --- approval policy

POLICY_TABLE = [
    # approval, tool, allowed always, expected
    ("ask", "save_file", False, "ask"),
    ("ask", "save_file", True, "run"),
    ("auto", "save_file", False, "run"),
    ("deny", "save_file", False, "refused"),
    ("deny", "save_file", True, "refused"),
    ("ask", "read_file", False, "run"),
    ("auto", "read_file", False, "run"),
    ("deny", "read_file", False, "run"),
    ("ask", "list_files", False, "run"),
    ("deny", "list_files", False, "run"),
]


@pytest.mark.parametrize(("approval", "tool", "always", "expected"), POLICY_TABLE)
def test_policy_table(ws: Path, approval: str, tool: str, always: bool, expected: str) -> None:
    (ws / "a.txt").write_text("old\n")
    reg = ToolRegistry(ws, approval=approval)
    if always:
        reg.allow_always(tool)
    args = {
        "save_file": {"path": "a.txt", "content": "new\n"},
        "read_file": {"path": "a.txt"},
        "list_files": {},
    }[tool]
    result = reg.prepare(make_call(tool, args))
    if expected == "refused":
        assert isinstance(result, ToolResult) and result.is_error
        assert "refused by policy" in result.content
        assert (ws / "a.txt").read_text() == "old\n"
    else:
        assert isinstance(result, PreparedCall)
        assert result.needs_approval is (expected == "ask")


def test_allow_always_is_per_tool_and_checks_the_name(ws: Path) -> None:
    reg = ToolRegistry(ws, enabled=("save_file", "read_file"))
    reg.allow_always("read_file")
    assert prepared(reg, "save_file", path="a", content="").needs_approval
    reg.allow_always("save_file")
    assert not prepared(reg, "save_file", path="a", content="").needs_approval
    with pytest.raises(ValueError):
        reg.allow_always("list_files")


def test_refuse_reports_the_reason_and_never_writes(reg: ToolRegistry, ws: Path) -> None:
    call = prepared(reg, "save_file", path="a.txt", content="x")
    result = call.refuse("not now")
    text = "the user refused this call: not now"
    assert result == ToolResult("call_1", "save_file", text, is_error=True, refused=True)
    assert call.refuse().content == "the user refused this call"
    assert call.run().is_error
    assert not (ws / "a.txt").exists()


def test_a_prepared_call_runs_only_once(reg: ToolRegistry, ws: Path) -> None:
    call = prepared(reg, "save_file", path="a.txt", content="x")
    assert not call.run().is_error
    second = call.run()
    assert second.is_error and "already run" in second.content


def test_unexpected_exceptions_become_error_results(
    reg: ToolRegistry, ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ws / "a.txt").write_text("a\n")
    call = prepared(reg, "read_file", path="a.txt")

    def boom(*_: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(files, "take_snapshot", boom)
    monkeypatch.setattr(call, "action", boom)
    assert call.run() == ToolResult(
        "call_1", "read_file", "read_file failed: RuntimeError: disk on fire", True
    )
    assert "RuntimeError: disk on fire" in refused(reg, "save_file", path="a.txt", content="")


# --- save_file


def test_save_new_file_creates_parents(reg: ToolRegistry, ws: Path) -> None:
    call = prepared(reg, "save_file", path="src/pkg/app.py", content="print(1)\nx\n")
    assert call.title == "save_file 'src/pkg/app.py' (new file, 2 lines, 11 B)"
    assert call.preview is None and call.needs_approval
    assert not (ws / "src").exists(), "prepare must not touch the disk"
    result = call.run()
    assert result == ToolResult(
        "call_1", "save_file", "created 'src/pkg/app.py' (2 lines, 11 bytes)"
    )
    assert (ws / "src/pkg/app.py").read_bytes() == b"print(1)\nx\n"


def test_save_writes_utf8_bytes_verbatim(reg: ToolRegistry, ws: Path) -> None:
    content = "héllo ✓\r\nno final newline"
    result = run(reg, "save_file", path="u.txt", content=content)
    data = content.encode("utf-8")
    assert (ws / "u.txt").read_bytes() == data
    assert f"(2 lines, {len(data)} bytes)" in result.content


def test_new_file_mode_follows_the_umask(reg: ToolRegistry, ws: Path) -> None:
    old = os.umask(0o027)
    try:
        run(reg, "save_file", path="tool.txt", content="x")
        (ws / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    tool_mode = stat.S_IMODE((ws / "tool.txt").stat().st_mode)
    assert tool_mode == stat.S_IMODE((ws / "plain.txt").stat().st_mode) == 0o640


def test_overwrite_keeps_mode_but_drops_set_id_bits(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.sh").write_text("old\n")
    (ws / "b.sh").write_text("old\n")
    os.chmod(ws / "a.sh", 0o751)
    os.chmod(ws / "b.sh", 0o4755)
    assert run(reg, "save_file", path="a.sh", content="new\n").content.startswith(
        "overwrote 'a.sh'"
    )
    run(reg, "save_file", path="b.sh", content="new\n")
    assert stat.S_IMODE((ws / "a.sh").stat().st_mode) == 0o751
    assert stat.S_IMODE((ws / "b.sh").stat().st_mode) == 0o755
    assert (ws / "a.sh").read_text() == "new\n"


def test_diff_preview_has_headers_and_three_lines_of_context(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.txt").write_text(numbered(10))
    call = prepared(reg, "save_file", path="a.txt", content=numbered(10).replace("5\n", "five\n"))
    assert call.title == "save_file 'a.txt' (overwrite, +1 -1, 10 lines, 24 B)"
    assert call.preview == (
        "--- a/a.txt\n+++ b/a.txt\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
    )


def test_diff_preview_marks_a_missing_final_newline(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.txt").write_text("x\n")
    preview = prepared(reg, "save_file", path="a.txt", content="x").preview
    assert (
        preview == "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-x\n+x\n\\ No newline at end of file\n"
    )


def test_unchanged_content_has_an_empty_diff(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.txt").write_text("same\n")
    call = prepared(reg, "save_file", path="a.txt", content="same\n")
    assert call.title == "save_file 'a.txt' (no changes, 1 line, 5 B)"
    assert call.preview == ""


def test_binary_or_huge_existing_files_get_a_note_instead_of_a_diff(
    reg: ToolRegistry, ws: Path
) -> None:
    (ws / "bin").write_bytes(b"\xff\xfe\x00")
    (ws / "big").write_bytes(b"y\n" * (files.DIFF_LIMIT // 2 + 1))
    assert "not UTF-8 text" in (prepared(reg, "save_file", path="bin", content="t").preview or "")
    assert "too large to diff" in (
        prepared(reg, "save_file", path="big", content="t").preview or ""
    )


def test_size_cap_counts_utf8_bytes(ws: Path) -> None:
    reg = ToolRegistry(ws, max_write_bytes=10)
    assert not run(reg, "save_file", path="ok.txt", content="x" * 10).is_error
    message = refused(reg, "save_file", path="big.txt", content="é" * 6)
    assert message == "save_file: content is 12 B, over the 10 B limit; not written"
    assert not (ws / "big.txt").exists()


def test_lone_surrogate_content_is_refused(reg: ToolRegistry, ws: Path) -> None:
    assert "lone surrogate" in refused(reg, "save_file", path="s.txt", content="a\ud800")
    assert not (ws / "s.txt").exists()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("sub", "'sub' is a directory, not a regular file"),
        ("sub/", "'sub/' names a directory, not a file"),
        (".", "'.' names a directory, not a file"),
        ("", "the path is empty"),
    ],
)
def test_save_to_a_directory_is_refused(
    reg: ToolRegistry, ws: Path, path: str, message: str
) -> None:
    (ws / "sub").mkdir()
    assert refused(reg, "save_file", path=path, content="x") == f"save_file: {message}"


def test_save_below_a_file_fails_cleanly(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.txt").write_text("keep")
    message = refused(reg, "save_file", path="a.txt/b.txt", content="x")
    assert message == "save_file: cannot inspect 'a.txt/b.txt': Not a directory"
    assert (ws / "a.txt").read_text() == "keep"


def test_save_fails_cleanly_when_a_parent_cannot_be_created(reg: ToolRegistry, ws: Path) -> None:
    (ws / "d").mkdir()
    call = prepared(reg, "save_file", path="d/new/b.txt", content="x")
    (ws / "d/new").write_text("now a file")
    result = call.run()
    assert result.is_error and result.content.startswith("save_file: ")
    assert (ws / "d/new").read_text() == "now a file"


def test_dot_segments_inside_the_workspace_are_normalised(reg: ToolRegistry, ws: Path) -> None:
    (ws / "d").mkdir()
    call = prepared(reg, "save_file", path="./d/../e.txt", content="x")
    assert call.title.startswith("save_file 'e.txt' ")
    call.run()
    assert (ws / "e.txt").read_text() == "x"


# --- read_file


def test_read_whole_file_has_no_header(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.txt").write_text("alpha\nbeta")
    call = prepared(reg, "read_file", path="a.txt")
    assert not call.needs_approval and call.preview is None
    assert call.title == "read_file 'a.txt' (lines 1-2000)"
    assert call.run() == ToolResult("call_1", "read_file", "alpha\nbeta")


@pytest.mark.parametrize(
    ("offset", "limit", "expected"),
    [
        (3, 2, "[lines 3-4 of 10; continue with offset=5]\n3\n4\n"),
        (9, 5, "[lines 9-10 of 10]\n9\n10\n"),
        (1, 1, "[lines 1-1 of 10; continue with offset=2]\n1\n"),
        (10, 1, "[lines 10-10 of 10]\n10\n"),
    ],
)
def test_read_offset_and_limit(
    reg: ToolRegistry, ws: Path, offset: int, limit: int, expected: str
) -> None:
    (ws / "n.txt").write_text(numbered(10))
    assert run(reg, "read_file", path="n.txt", offset=offset, limit=limit).content == expected


def test_read_past_the_end_and_empty_file(reg: ToolRegistry, ws: Path) -> None:
    (ws / "n.txt").write_text("a\nb")
    (ws / "e.txt").write_text("")
    result = run(reg, "read_file", path="n.txt", offset=3)
    assert result.is_error
    assert result.content == "read_file: offset 3 is past the end of 'n.txt' (2 lines)"
    assert run(reg, "read_file", path="e.txt").content == "[empty file]"


def test_read_refuses_binary_even_when_the_nul_is_late(reg: ToolRegistry, ws: Path) -> None:
    (ws / "late.bin").write_bytes(b"text\n" * 40_000 + b"\x00")
    result = run(reg, "read_file", path="late.bin")
    assert result.is_error
    assert result.content == "read_file: 'late.bin' looks binary (it contains NUL bytes); not shown"


def test_read_cuts_huge_lines(reg: ToolRegistry, ws: Path) -> None:
    (ws / "min.js").write_text("a\n" + "x" * 100_000 + "\nb\n")
    content = run(reg, "read_file", path="min.js").content
    header, first, second, third = content.splitlines()
    assert header == f"[lines 1-3 of 3; 1 long line(s) cut at {files.MAX_LINE_BYTES} bytes]"
    assert first == "a" and third == "b"
    assert second == "x" * files.MAX_LINE_BYTES + " … [line cut: 100001 bytes]"


def test_a_cut_never_splits_a_character(reg: ToolRegistry, ws: Path) -> None:
    (ws / "e.txt").write_text("é" * files.MAX_LINE_BYTES + "\n")
    content = run(reg, "read_file", path="e.txt").content
    assert "\ufffd" not in content and "UTF-8" not in content
    assert "é" * (files.MAX_LINE_BYTES // 2) + " … [line cut:" in content


def test_read_output_is_capped(reg: ToolRegistry, ws: Path) -> None:
    (ws / "wide.txt").write_text(("y" * 2999 + "\n") * 200)
    content = run(reg, "read_file", path="wide.txt").content
    header, body = content.split("\n", 1)
    shown = body.count("\n")
    assert header == (
        f"[lines 1-{shown} of 200; output capped at 256 KB; continue with offset={shown + 1}]"
    )
    assert len(body.encode()) <= files.MAX_READ_BYTES < len(body.encode()) + 3000


def test_read_invalid_utf8_is_shown_with_replacement_chars(reg: ToolRegistry, ws: Path) -> None:
    (ws / "l1.txt").write_bytes(b"caf\xe9\n")
    content = run(reg, "read_file", path="l1.txt").content
    assert content == "[lines 1-1 of 1; not valid UTF-8, bad bytes shown as U+FFFD]\ncaf\ufffd\n"


def test_read_missing_file_and_directory(reg: ToolRegistry, ws: Path) -> None:
    (ws / "d").mkdir()
    assert refused(reg, "read_file", path="nope.txt") == "read_file: 'nope.txt' does not exist"
    assert refused(reg, "read_file", path="d") == (
        "read_file: 'd' is a directory, not a regular file; use list_files for directories"
    )


def test_read_file_that_vanished_after_prepare(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.txt").write_text("a")
    call = prepared(reg, "read_file", path="a.txt")
    (ws / "a.txt").unlink()
    assert call.run().content == "read_file: 'a.txt' does not exist"


# --- list_files


@pytest.fixture
def tree(ws: Path) -> Path:
    for rel in ["top.py", "a.txt", "b.txt", ".hidden", "b/c.py", "b/d/e.py", ".git/config"]:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(rel)
    return ws


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, [".hidden", "a.txt", "b.txt", "b/", "top.py"]),
        ({"pattern": "*.py"}, ["top.py"]),
        ({"pattern": "**/*.py"}, ["b/c.py", "b/d/e.py", "top.py"]),
        ({"pattern": "*/*.py"}, ["b/c.py"]),
        (
            {"pattern": "**"},
            [".hidden", "a.txt", "b.txt", "b/", "b/c.py", "b/d/", "b/d/e.py", "top.py"],
        ),
        ({"path": "b"}, ["b/c.py", "b/d/"]),
        ({"path": "b/", "pattern": "**/*.py"}, ["b/c.py", "b/d/e.py"]),
        ({"pattern": "?.txt"}, ["a.txt", "b.txt"]),
        ({"pattern": "[!a].txt"}, ["b.txt"]),
        ({"pattern": "[a-b].*"}, ["a.txt", "b.txt"]),
    ],
)
def test_list_patterns(tree: Path, args: dict[str, str], expected: list[str]) -> None:
    reg = ToolRegistry(tree)
    call = prepared(reg, "list_files", **args)
    assert not call.needs_approval
    assert call.run().content == "\n".join(expected)


def test_list_with_no_match(tree: Path) -> None:
    assert run(ToolRegistry(tree), "list_files", pattern="*.rs").content == (
        "no entries in '.' match '*.rs'"
    )


def test_list_is_capped_with_a_count_of_the_rest(reg: ToolRegistry, ws: Path) -> None:
    for n in range(listing.MAX_ENTRIES + 3):
        (ws / f"f{n:05d}").touch()
    lines = run(reg, "list_files").content.splitlines()
    assert len(lines) == listing.MAX_ENTRIES + 1
    assert lines[0] == "f00000" and lines[-2] == f"f{listing.MAX_ENTRIES - 1:05d}"
    assert lines[-1] == "… 3 more (narrow the path or pattern)"


def test_list_stops_walking_a_huge_tree(
    reg: ToolRegistry, ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "MAX_VISITED", 5)
    monkeypatch.setattr(listing, "MAX_ENTRIES", 3)
    for n in range(8):
        (ws / f"f{n}").touch()
    lines = run(reg, "list_files").content.splitlines()
    assert len(lines) == 5
    # Which 5 were seen is up to the file system: the output must not pass for the first.
    assert lines[-2] == "… 2 more of those seen (narrow the path or pattern)"
    assert lines[-1] == (
        "… listing stopped after 5 entries; the ones above are sorted among those,"
        " not among all (narrow the path or pattern)"
    )


@pytest.mark.parametrize("pattern", ["", "../*", "/etc/*", "a/../../*"])
def test_list_refuses_bad_patterns(reg: ToolRegistry, pattern: str) -> None:
    assert "must be a relative glob" in refused(reg, "list_files", pattern=pattern)


def test_list_a_file_or_missing_dir(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.txt").touch()
    assert refused(reg, "list_files", path="a.txt") == (
        "list_files: 'a.txt' is a regular file, not a directory"
    )
    assert refused(reg, "list_files", path="nope") == "list_files: 'nope' does not exist"


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*", "a", True),
        ("*", "a/b", False),
        ("**", "a/b/c", True),
        ("**/x", "x", True),
        ("**/x", "a/b/x", True),
        ("a/**/x", "a/x", True),
        ("a/**/x", "ab/x", False),
        ("*.py", ".py", True),
        ("?", "/", False),
        ("[!a]", "/", False),
        ("[]]", "]", True),
        ("[", "[", True),
        ("a+b(c)", "a+b(c)", True),
        ("a.b", "aXb", False),
    ],
)
def test_glob_regex(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).fullmatch(path)) is matches


# --- visible paths


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("src/app.py", "src/app.py"),
        ("naïve 日本.txt", "naïve 日本.txt"),
        ("a\u202eb", "a\\u202eb"),
        ("\u2066x\u2069", "\\u2066x\\u2069"),
        ("a\u200b\u200c\u200db", "a\\u200b\\u200c\\u200db"),
        ("\ufeffbom", "\\ufeffbom"),
        ("tab\there\nnl", "tab\\x09here\\x0anl"),
        ("esc\x1b[2J", "esc\\x1b[2J"),
        ("c1\x9b", "c1\\x9b"),
        ("nbsp\u00a0", "nbsp\\xa0"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("back\\u202e", "back\\\\u202e"),
    ],
)
def test_visible_path(raw: str, shown: str) -> None:
    assert visible_path(raw) == shown


def test_quoted_escapes_quotes() -> None:
    assert quoted("it's") == "'it\\'s'"


def test_listing_shows_odd_names_escaped(reg: ToolRegistry, ws: Path) -> None:
    (ws / "evil\u202etxt.exe").touch()
    assert run(reg, "list_files").content == "evil\\u202etxt.exe"


def test_sha256_fingerprint_matches_hashlib(reg: ToolRegistry, ws: Path) -> None:
    (ws / "a.txt").write_bytes(b"x" * 200_000)
    target = reg.workspace.resolve_write("a.txt")
    snap = files.take_snapshot(target)
    assert snap.digest == hashlib.sha256(b"x" * 200_000).hexdigest()
    assert snap.size == 200_000 and snap.text == "x" * 200_000
    assert files.take_snapshot(reg.workspace.resolve_write("new.txt")).digest is None
