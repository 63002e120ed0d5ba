"""One test (or table) per file-tool threat, T1-T10 (each section below names its threat).

Layout for every test: ``tmp_path/outer/ws`` is the workspace, so ``../..``
lands in ``tmp_path`` where the test can look for escaped files, and
``tmp_path/outer/ws-evil`` is the sibling that a string-prefix check would
wrongly accept.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from providers.conversation import ToolCall, ToolResult
from tui.core.tools import files
from tui.core.tools.registry import PreparedCall, ToolRegistry


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "outer" / "ws"
    root.mkdir(parents=True)
    return root


def registry(ws: Path, **kwargs: Any) -> ToolRegistry:
    # "auto" is the policy that asks nothing, so confinement alone must hold.
    kwargs.setdefault("approval", "auto")
    return ToolRegistry(ws, **kwargs)


def prepare(reg: ToolRegistry, name: str, **args: Any) -> PreparedCall | ToolResult:
    return reg.prepare(ToolCall(id="c1", name=name, arguments=args))


def refusal(reg: ToolRegistry, name: str, **args: Any) -> str:
    result = prepare(reg, name, **args)
    assert isinstance(result, ToolResult) and result.is_error, result
    return result.content


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def finishes(fn: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Run ``fn`` in a daemon thread; fail (not hang) if it does not return in time."""
    box: list[Any] = []
    worker = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "the tool call blocked"
    return box[0]


# --- T1: traversal


@pytest.mark.parametrize("path", ["../../x", "../x", "a/../../x", "./../x", "a/b/../../../x"])
def test_t1_dotdot_escape_is_refused_and_nothing_is_written(
    ws: Path, tmp_path: Path, path: str
) -> None:
    before = tree(tmp_path)
    message = refusal(registry(ws), "save_file", path=path, content="pwned")
    assert "is outside the workspace" in message
    assert tree(tmp_path) == before
    assert not list(tmp_path.rglob("x"))


def test_t1_reads_and_listings_cannot_climb_out(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("s3cret")
    reg = registry(ws)
    assert "outside the workspace" in refusal(reg, "read_file", path="../../secret.txt")
    assert "outside the workspace" in refusal(reg, "list_files", path="..")


# --- T2: absolute and home paths


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/x", "is absolute"),
        ("//etc/x", "is absolute"),
        ("~/.bashrc", "'~' is not expanded"),
        ("~user/x", "'~' is not expanded"),
        ("~", "'~' is not expanded"),
    ],
)
def test_t2_absolute_and_home_paths_are_refused(ws: Path, path: str, reason: str) -> None:
    for tool in ("save_file", "read_file"):
        args = {"path": path, "content": "x"} if tool == "save_file" else {"path": path}
        assert reason in refusal(registry(ws), tool, **args)


def test_t2_absolute_path_inside_the_workspace_is_refused_too(ws: Path) -> None:
    # Path(root) / "/abs" would silently drop the root; we never build such a path.
    target = ws / "a.txt"
    assert "is absolute" in refusal(registry(ws), "save_file", path=str(target), content="x")
    assert not target.exists()


# --- T3: sibling directory sharing the root as a string prefix


def test_t3_sibling_prefix_directory_is_outside(ws: Path) -> None:
    evil = ws.parent / "ws-evil"
    evil.mkdir()
    (evil / "secret").write_text("s")
    (ws / "to-evil").symlink_to(evil, target_is_directory=True)
    reg = registry(ws)
    for path in ("../ws-evil/a.txt", "to-evil/a.txt"):
        assert "outside the workspace" in refusal(reg, "save_file", path=path, content="x")
    assert "outside the workspace" in refusal(reg, "read_file", path="../ws-evil/secret")
    assert "outside the workspace" in refusal(reg, "list_files", path="to-evil")
    assert sorted(p.name for p in evil.iterdir()) == ["secret"]


# --- T4: symlinked leaf


def test_t4_writing_through_a_symlink_leaf_is_refused(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("original")
    digest = sha256(outside)
    (ws / "link").symlink_to(outside)
    (ws / "dangling").symlink_to(tmp_path / "not-yet")
    (ws / "real.txt").write_text("inside")
    (ws / "alias").symlink_to(ws / "real.txt")
    reg = registry(ws)
    for leaf in ("link", "dangling", "alias"):
        message = refusal(reg, "save_file", path=leaf, content="pwned")
        assert message == f"save_file: '{leaf}' is a symbolic link; refusing to write through it"
    assert sha256(outside) == digest
    assert not (tmp_path / "not-yet").exists()
    assert (ws / "real.txt").read_text() == "inside"


def test_t4_reading_through_a_symlink_only_when_it_stays_inside(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    (ws / "link").symlink_to(tmp_path / "outside.txt")
    (ws / "real.txt").write_text("inside\n")
    (ws / "alias").symlink_to("real.txt")
    reg = registry(ws)
    assert "outside the workspace" in refusal(reg, "read_file", path="link")
    call = prepare(reg, "read_file", path="alias")
    assert isinstance(call, PreparedCall)
    assert call.title == "read_file 'real.txt' (lines 1-2000)"
    assert call.run().content == "inside\n"


def test_t4_hard_link_to_an_outside_file_is_not_written_through(ws: Path, tmp_path: Path) -> None:
    # A hard link cannot be told apart from a regular file, but the atomic
    # rename gives the workspace name a new inode, so the outside file keeps its bytes.
    outside = tmp_path / "outside.txt"
    outside.write_text("original")
    os.link(outside, ws / "hard.txt")
    call = prepare(registry(ws), "save_file", path="hard.txt", content="new")
    assert isinstance(call, PreparedCall) and not call.run().is_error
    assert outside.read_text() == "original"
    assert (ws / "hard.txt").read_text() == "new"


# --- T5: symlinked directory


def test_t5_symlinked_directory_leading_outside(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "o"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (ws / "sub").symlink_to(outside, target_is_directory=True)
    reg = registry(ws)
    for path in ("sub/f", "sub/new/deep/f", "sub/./f"):
        assert "outside the workspace" in refusal(reg, "save_file", path=path, content="x")
    assert "outside the workspace" in refusal(reg, "read_file", path="sub/secret")
    assert "outside the workspace" in refusal(reg, "list_files", path="sub")
    assert tree(outside) == ["secret"]


def test_t5_listing_never_descends_into_links(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "o"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (ws / "sub").symlink_to(outside, target_is_directory=True)
    (ws / "loop").symlink_to(ws, target_is_directory=True)
    call = prepare(registry(ws), "list_files", pattern="**")
    assert isinstance(call, PreparedCall)
    assert call.run().content == "loop@\nsub@\n(@ marks a symbolic link; links are not followed)"


def test_t5_parent_swapped_for_a_link_after_the_preview(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "o"
    outside.mkdir()
    (ws / "sub").mkdir()
    call = prepare(registry(ws), "save_file", path="sub/f", content="x")
    assert isinstance(call, PreparedCall)
    (ws / "sub").rmdir()
    (ws / "sub").symlink_to(outside, target_is_directory=True)
    result = call.run()
    assert result.is_error and "outside the workspace" in result.content
    assert list(outside.iterdir()) == []


# --- T6: protected paths


@pytest.mark.parametrize(
    "path",
    [".git/hooks/pre-commit", ".git/config", ".GIT/hooks/x", "vendor/lib/.git/config", ".git"],
)
def test_t6_git_is_protected_even_under_auto(ws: Path, path: str) -> None:
    (ws / ".git/hooks").mkdir(parents=True)
    (ws / ".git/config").write_text("[core]\n")
    before = tree(ws)
    reg = registry(ws, approval="auto")
    assert "is a protected path" in refusal(reg, "save_file", path=path, content="#!/bin/sh\n")
    assert "is a protected path" in refusal(reg, "read_file", path=".git/config")
    assert tree(ws) == before
    assert (ws / ".git/config").read_text() == "[core]\n"


def test_t6_config_and_data_dir_are_protected_for_every_tool(ws: Path) -> None:
    config = ws / "chattui.toml"
    config.write_text('api_key = "sk-secret"\n')
    data = ws / "data"  # not created yet: still protected
    (ws / "cfg-link").symlink_to(config)
    (ws / "notes.txt").write_text("n")
    reg = registry(ws, protected=[config, data])
    for path in ("chattui.toml", "data/t.jsonl", "data/sub/x", "data"):
        assert "is a protected path" in refusal(reg, "save_file", path=path, content="x")
    assert "is a protected path" in refusal(reg, "read_file", path="chattui.toml")
    assert "is a protected path" in refusal(reg, "read_file", path="cfg-link")
    assert config.read_text() == 'api_key = "sk-secret"\n' and not data.exists()
    listed = prepare(reg, "list_files")
    assert isinstance(listed, PreparedCall)
    assert (
        listed.run().content
        == "cfg-link@\nnotes.txt\n(@ marks a symbolic link; links are not followed)"
    )


def test_t6_protected_path_given_through_a_symlinked_alias(ws: Path, tmp_path: Path) -> None:
    # The session may pass the config path through a symlinked home directory.
    (ws / "conf").mkdir()
    alias = tmp_path / "alias"
    alias.symlink_to(ws / "conf", target_is_directory=True)
    reg = registry(ws, protected=[alias])
    assert "is a protected path" in refusal(reg, "save_file", path="conf/c.toml", content="x")


# --- T7: overwrite shows a diff


def test_t7_overwrite_shows_a_diff_and_asks(ws: Path) -> None:
    (ws / "a.txt").write_text("keep\nold\n")
    call = prepare(registry(ws, approval="ask"), "save_file", path="a.txt", content="keep\nnew\n")
    assert isinstance(call, PreparedCall) and call.needs_approval
    assert "overwrite" in call.title
    assert call.preview is not None
    assert call.preview.splitlines()[:2] == ["--- a/a.txt", "+++ b/a.txt"]
    assert {" keep", "-old", "+new"} <= set(call.preview.splitlines())
    assert (ws / "a.txt").read_text() == "keep\nold\n"
    assert call.refuse().is_error
    assert (ws / "a.txt").read_text() == "keep\nold\n"


# --- T8: changed between preview and write


@pytest.mark.parametrize(
    "outside_edit",
    [
        lambda p: p.write_text("edited elsewhere\n"),
        lambda p: p.write_text("old\n" + "x"),
        lambda p: p.unlink(),
    ],
)
def test_t8_change_after_preview_aborts_the_write(
    ws: Path, outside_edit: Callable[[Path], None]
) -> None:
    target = ws / "a.txt"
    target.write_text("old\n")
    call = prepare(registry(ws, approval="ask"), "save_file", path="a.txt", content="model\n")
    assert isinstance(call, PreparedCall)
    outside_edit(target)
    after_edit = target.read_bytes() if target.exists() else None
    result = call.run()
    assert result.is_error
    assert result.content == "save_file: 'a.txt' changed since the preview; not written"
    assert (target.read_bytes() if target.exists() else None) == after_edit


def test_t8_file_created_after_a_new_file_preview(ws: Path) -> None:
    call = prepare(registry(ws), "save_file", path="new.txt", content="model\n")
    assert isinstance(call, PreparedCall) and call.preview is None
    (ws / "new.txt").write_text("user\n")
    assert "changed since the preview" in call.run().content
    assert (ws / "new.txt").read_text() == "user\n"


# --- T9: crash during the write


@pytest.mark.parametrize("fail_in", ["replace", "fsync", "fchmod"])
def test_t9_failed_write_leaves_the_original_and_no_temp(
    ws: Path, monkeypatch: pytest.MonkeyPatch, fail_in: str
) -> None:
    target = ws / "a.txt"
    target.write_bytes(b"original bytes\n")
    os.chmod(target, 0o640)
    call = prepare(registry(ws), "save_file", path="a.txt", content="new content\n")
    assert isinstance(call, PreparedCall)

    def boom(*_: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files.os, fail_in, boom)
    result = call.run()
    monkeypatch.undo()
    assert result.is_error
    assert result.content == "save_file: could not write 'a.txt': Input/output error"
    assert target.read_bytes() == b"original bytes\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(os.listdir(ws)) == ["a.txt"]


def test_t9_failed_create_leaves_nothing(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    call = prepare(registry(ws), "save_file", path="new.txt", content="x")
    assert isinstance(call, PreparedCall)
    monkeypatch.setattr(files.os, "replace", lambda *_: (_ for _ in ()).throw(OSError(28, "full")))
    assert call.run().is_error
    monkeypatch.undo()
    assert os.listdir(ws) == []


def test_t9_successful_write_leaves_no_temp_and_keeps_mode(ws: Path) -> None:
    (ws / "a.txt").write_text("old")
    os.chmod(ws / "a.txt", 0o600)
    call = prepare(registry(ws), "save_file", path="a.txt", content="new")
    assert isinstance(call, PreparedCall) and not call.run().is_error
    assert os.listdir(ws) == ["a.txt"]
    assert stat.S_IMODE((ws / "a.txt").stat().st_mode) == 0o600


# --- T10: non-regular files, NUL bytes, oversized content


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_t10_fifo_is_refused_without_hanging(ws: Path) -> None:
    os.mkfifo(ws / "p")
    reg = registry(ws)
    save = finishes(lambda: prepare(reg, "save_file", path="p", content="x"))
    assert save.content == "save_file: 'p' is a FIFO, not a regular file"
    read = finishes(lambda: prepare(reg, "read_file", path="p"))
    assert read.content == "read_file: 'p' is a FIFO, not a regular file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_t10_fifo_swapped_in_after_prepare_does_not_hang(ws: Path) -> None:
    (ws / "a.txt").write_text("a")
    reg = registry(ws)
    read = prepare(reg, "read_file", path="a.txt")
    save = prepare(reg, "save_file", path="a.txt", content="b")
    assert isinstance(read, PreparedCall) and isinstance(save, PreparedCall)
    (ws / "a.txt").unlink()
    os.mkfifo(ws / "a.txt")
    assert "is a FIFO, not a regular file" in finishes(read.run).content
    assert "is a FIFO, not a regular file" in finishes(save.run).content
    assert stat.S_ISFIFO(os.lstat(ws / "a.txt").st_mode)


def test_t10_nul_in_path_is_refused(ws: Path) -> None:
    reg = registry(ws)
    assert refusal(reg, "save_file", path="a\x00b", content="x") == (
        "save_file: 'a\\x00b' contains a NUL byte"
    )
    assert "contains a NUL byte" in refusal(reg, "list_files", path="\x00")
    assert os.listdir(ws) == []


def test_t10_content_over_the_default_cap_is_refused(ws: Path) -> None:
    content = "x" * (10 * 1024 * 1024 + 1)
    message = refusal(registry(ws), "save_file", path="big.txt", content=content)
    assert message == "save_file: content is 10.0 MB, over the 10.0 MB limit; not written"
    assert os.listdir(ws) == []


# --- spoofed names


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("invoice\u202etxt.exe", "invoice\\u202etxt.exe"),
        ("a\u200bb.py", "a\\u200bb.py"),
        ("\u2066safe\u2069.sh", "\\u2066safe\\u2069.sh"),
        ("\ufeffx", "\\ufeffx"),
    ],
)
def test_bidi_and_zero_width_chars_are_visible_in_title_and_errors(
    ws: Path, path: str, shown: str
) -> None:
    call = prepare(registry(ws), "save_file", path=path, content="x")
    assert isinstance(call, PreparedCall)
    assert call.title.startswith(f"save_file '{shown}' (new file")
    assert call.title.isprintable()
    error = refusal(registry(ws), "save_file", path="../" + path, content="x")
    assert f"'../{shown}'" in error and error.isprintable()


# --- edit_file: the same confinement as save_file


@pytest.mark.parametrize("path", ["../outside.txt", "../../x.txt", "/etc/passwd", "~/.bashrc"])
def test_edit_file_cannot_reach_outside(ws: Path, tmp_path: Path, path: str) -> None:
    (ws.parent / "outside.txt").write_text("keep\n")
    message = refusal(registry(ws), "edit_file", path=path, old_string="keep", new_string="x")
    assert "outside the workspace" in message or "absolute" in message or "'~'" in message
    assert (ws.parent / "outside.txt").read_text() == "keep\n"


def test_edit_file_through_a_symlink_or_sibling_is_refused(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "target.txt"
    outside.write_text("keep\n")
    (ws / "link.txt").symlink_to(outside)
    evil = ws.parent / "ws-evil"
    evil.mkdir()
    (evil / "a.txt").write_text("keep\n")
    reg = registry(ws)
    link = refusal(reg, "edit_file", path="link.txt", old_string="keep", new_string="x")
    assert "symbolic link" in link
    sibling = refusal(reg, "edit_file", path="../ws-evil/a.txt", old_string="keep", new_string="x")
    assert "outside the workspace" in sibling
    assert outside.read_text() == "keep\n" and (evil / "a.txt").read_text() == "keep\n"


def test_edit_file_protected_paths(ws: Path) -> None:
    (ws / ".git").mkdir()
    (ws / ".git/config").write_text("[core]\n")
    config = ws / "chattui.toml"
    config.write_text('api_key = "sk-secret"\n')
    reg = registry(ws, protected=[config])
    for path, old in ((".git/config", "[core]"), ("chattui.toml", "sk-secret")):
        assert "is a protected path" in refusal(
            reg, "edit_file", path=path, old_string=old, new_string="x"
        )
    assert config.read_text() == 'api_key = "sk-secret"\n'
    assert (ws / ".git/config").read_text() == "[core]\n"


def test_edit_file_fifo_does_not_hang(ws: Path) -> None:
    os.mkfifo(ws / "pipe")
    message = finishes(
        lambda: refusal(registry(ws), "edit_file", path="pipe", old_string="a", new_string="b")
    )
    assert "FIFO" in message
