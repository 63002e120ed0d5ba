"""Model-facing names of MCP tools (tui/core/mcp/naming.py)."""

from __future__ import annotations

import re

import pytest

from tui.core.mcp.naming import MAX_NAME, is_mcp_name, split_name, tool_name

SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def test_a_plain_name_is_kept_and_read_back() -> None:
    assert tool_name("git", "git_status") == "mcp__git__git_status"
    assert split_name("mcp__git__git_status") == ("git", "git_status")
    assert is_mcp_name("mcp__git__git_status") and not is_mcp_name("save_file")


@pytest.mark.parametrize(
    ("server", "tool"),
    [
        ("fs", "read.file"),
        ("fs", "read file/ü"),
        ("s", "x" * 100),
        ("a-b", "émoji 🎉"),
        ("s", "[@click=app.quit]"),
    ],
)
def test_reduced_names_are_safe_short_and_stable(server: str, tool: str) -> None:
    name = tool_name(server, tool)
    assert SAFE.fullmatch(name) and len(name) <= MAX_NAME
    assert name == tool_name(server, tool)
    assert name.startswith(f"mcp__{server}__")


def test_names_that_reduce_alike_stay_distinct() -> None:
    names = {tool_name("s", t) for t in ("a.b", "a b", "a/b", "a_b")}
    assert len(names) == 4
    long = {tool_name("s", "x" * 80 + suffix) for suffix in ("1", "2", "3")}
    assert len(long) == 3 and all(len(n) == MAX_NAME for n in long)


def test_a_long_server_and_tool_pair_does_not_collide_with_a_shifted_split() -> None:
    assert tool_name("ab", "c" * 70) != tool_name("a", "b" + "c" * 70)
