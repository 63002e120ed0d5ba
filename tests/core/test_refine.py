"""An edit's diff refined for the approval: the lines a changed block's sides share are
context (``tui.core.tools.refine``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.conversation import ToolCall
from tui.core.tools import refine as refine_module
from tui.core.tools.edit import GAP_TEXT, DiffRow, RowKind, Source, plan_edit, unified
from tui.core.tools.refine import changed_lines, refine
from tui.core.tools.registry import PreparedCall, ToolRegistry

FILE = "".join(f"line {i}\n" for i in range(1, 41))
GAP = DiffRow(RowKind.GAP, None, None, GAP_TEXT)


def source(text: str) -> Source:
    return Source(text, "digest", 0o644, crlf=False)


def rows_of(old: str, new: str, *, replace_all: bool = False, text: str = FILE) -> list[DiffRow]:
    return refine(plan_edit(source(text), old, new, replace_all, "f.txt").rows)


def kinds(rows: list[DiffRow]) -> str:
    return "".join(row.kind.value for row in rows)


def test_one_line_changed_inside_a_long_old_string_is_one_line_changed():
    old = "".join(f"line {i}\n" for i in range(10, 30))
    new = old.replace("line 20\n", "line twenty\n")
    rows = rows_of(old, new)
    # Above and below, the diff's own 3 lines: the rest of the 20 copied lines is left out.
    assert kinds(rows) == "   -+   "
    assert rows[3:5] == [
        DiffRow(RowKind.REMOVED, 20, None, "line 20"),
        DiffRow(RowKind.ADDED, None, 20, "line twenty"),
    ]
    assert rows[0] == DiffRow(RowKind.CONTEXT, 17, 17, "line 17")
    assert rows[-1] == DiffRow(RowKind.CONTEXT, 23, 23, "line 23")
    assert changed_lines(rows) == (1, 1)
    assert unified(rows, "f.txt").splitlines()[2] == "@@ -17,7 +17,7 @@"


def test_two_changes_far_apart_in_one_block_are_two_hunks():
    old = "".join(f"line {i}\n" for i in range(10, 30))
    new = old.replace("line 11\n", "eleven\n").replace("line 28\n", "twenty-eight\n")
    rows = rows_of(old, new)
    assert kinds(rows) == "   -+   ~   -+   "
    assert unified(rows, "f.txt").count("@@ -") == 2


def test_lines_added_inside_a_block_keep_their_numbers():
    rows = rows_of("line 5\nline 6\n", "line 5\nnew a\nnew b\nline 6\n")
    assert [r for r in rows if r.kind is not RowKind.CONTEXT] == [
        DiffRow(RowKind.ADDED, None, 6, "new a"),
        DiffRow(RowKind.ADDED, None, 7, "new b"),
    ]
    after = rows[rows.index(DiffRow(RowKind.ADDED, None, 7, "new b")) + 1]
    assert after == DiffRow(RowKind.CONTEXT, 6, 8, "line 6")


def test_a_block_with_nothing_shared_is_shown_as_before():
    plan = plan_edit(source(FILE), "line 10\n", "ten\nTEN\n", False, "f.txt")
    assert refine(plan.rows) == list(plan.rows)


def test_blocks_far_apart_are_each_refined_and_keep_the_gap_between_them():
    text = "a\nkeep\nz\n" + "".join(f"{i}\n" for i in range(20)) + "a\nkeep\nz\n"
    rows = rows_of("a\nkeep\nz\n", "a\nkeep\nZ\n", replace_all=True, text=text)
    assert kinds(rows) == "  -+   ~   -+"
    assert changed_lines(rows) == (2, 2)


def test_a_block_too_big_to_match_stays_whole(monkeypatch):
    old = "".join(f"line {i}\n" for i in range(10, 30))
    monkeypatch.setattr(refine_module, "MAX_PAIRS", 20 * 20 - 1)
    rows = rows_of(old, old.replace("line 20\n", "line twenty\n"))
    assert changed_lines(rows) == (20, 20)


def test_the_approval_counts_and_shows_the_refined_diff(tmp_path: Path):
    (tmp_path / "f.txt").write_text(FILE, encoding="utf-8")
    old = "".join(f"line {i}\n" for i in range(10, 30))
    arguments = {"path": "f.txt", "old_string": old, "new_string": old.replace("20", "XX")}
    prepared = ToolRegistry(tmp_path).prepare(ToolCall("c1", "edit_file", arguments))
    assert isinstance(prepared, PreparedCall)
    assert prepared.title == "edit_file 'f.txt' (1 replacement, +1 -1)"
    assert prepared.preview is not None and "-line 20\n+line XX\n" in prepared.preview
    assert prepared.diff is not None and changed_lines(list(prepared.diff)) == (1, 1)


LINES = st.lists(st.sampled_from(["a", "b", "c", "d", ""]), max_size=12)


@given(LINES, LINES)
def test_a_refined_block_still_turns_the_old_lines_into_the_new(old: list[str], new: list[str]):
    block = [DiffRow(RowKind.REMOVED, 1 + i, None, t) for i, t in enumerate(old)]
    block += [DiffRow(RowKind.ADDED, None, 1 + i, t) for i, t in enumerate(new)]
    rows = refine_module._matched(block)
    old_side = [r for r in rows if r.kind in (RowKind.CONTEXT, RowKind.REMOVED)]
    new_side = [r for r in rows if r.kind in (RowKind.CONTEXT, RowKind.ADDED)]
    assert [r.text for r in old_side] == old and [r.old for r in old_side] == list(
        range(1, len(old) + 1)
    )
    assert [r.text for r in new_side] == new and [r.new for r in new_side] == list(
        range(1, len(new) + 1)
    )


@pytest.mark.parametrize("run", [2 * 3, 2 * 3 + 1])
def test_context_between_two_changes_is_cut_only_when_longer_than_both_sides(run: int):
    context = [DiffRow(RowKind.CONTEXT, i, i, f"{i}") for i in range(2, 2 + run)]
    rows = [DiffRow(RowKind.REMOVED, 1, None, "x"), *context, DiffRow(RowKind.ADDED, None, 9, "y")]
    cut = refine(rows)
    assert (GAP in cut) == (run > 6)
    assert cut[1:4] == context[:3] and cut[-4:-1] == context[-3:]
