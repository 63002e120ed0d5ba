"""An edit's diff refined to the lines that changed, for the approval.

``tui.core.tools.edit.diff_rows`` shows each changed block whole: every line ``old_string``
touches removed, then every line of the result added. That is what can be drawn while
``new_string`` streams, but a model copies lines around its change into ``old_string`` to make
it unique, so a one-line change often shows as 20 lines removed and 20 added. Once the call is
complete, ``refine`` matches each block's removed lines against its added lines
(``difflib.SequenceMatcher``): lines both sides share become context, and runs of context
longer than the diff's own (``CONTEXT`` lines either side of a change) are cut to a gap row,
as between two blocks. The line numbers are the block's.

Cost: bounded. A block whose removed x added lines exceed ``MAX_PAIRS`` (the matcher is
quadratic in the worst case) stays whole.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

from tui.core.tools.edit import CONTEXT, DiffRow, RowKind, around_gap

MAX_PAIRS = 1_000_000
"""Removed x added lines of one block beyond which it is not refined."""


def refine(rows: Sequence[DiffRow]) -> list[DiffRow]:
    """``rows`` with each removed-then-added block matched line by line (see the module)."""
    matched: list[DiffRow] = []
    for run in _runs(rows):
        matched += _matched(run) if _is_block(run) else run
    return _cut_context(matched)


def changed_lines(rows: Sequence[DiffRow]) -> tuple[int, int]:
    """The lines a diff adds and removes."""
    added = sum(row.kind is RowKind.ADDED for row in rows)
    return added, sum(row.kind is RowKind.REMOVED for row in rows)


def _runs(rows: Sequence[DiffRow]) -> Iterator[list[DiffRow]]:
    """Consecutive rows grouped: each changed block (removed and added rows) is one run."""
    run: list[DiffRow] = []
    for row in rows:
        changed = row.kind in (RowKind.REMOVED, RowKind.ADDED)
        if run and changed != _is_block(run):
            yield run
            run = []
        run.append(row)
    if run:
        yield run


def _is_block(run: Sequence[DiffRow]) -> bool:
    return run[0].kind in (RowKind.REMOVED, RowKind.ADDED)


def _matched(block: Sequence[DiffRow]) -> list[DiffRow]:
    removed = [row for row in block if row.kind is RowKind.REMOVED]
    added = [row for row in block if row.kind is RowKind.ADDED]
    if not removed or not added or len(removed) * len(added) > MAX_PAIRS:
        return list(block)
    matcher = difflib.SequenceMatcher(
        None, [row.text for row in removed], [row.text for row in added], autojunk=False
    )
    out: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [
                DiffRow(RowKind.CONTEXT, old.old, new.new, old.text)
                for old, new in zip(removed[i1:i2], added[j1:j2], strict=True)
            ]
        else:  # replace, delete, insert
            out += removed[i1:i2] + added[j1:j2]
    return out


def _cut_context(rows: Sequence[DiffRow]) -> list[DiffRow]:
    """Context runs longer than the diff shows elsewhere cut to ``CONTEXT`` lines around a
    change, the rest a gap row (a run at either end, or next to a gap, keeps only its side
    next to a change)."""
    out: list[DiffRow] = []
    start = 0
    while start < len(rows):
        stop = start
        while stop < len(rows) and rows[stop].kind is RowKind.CONTEXT:
            stop += 1
        if stop == start:
            out.append(rows[start])
            start += 1
            continue
        run = rows[start:stop]
        # Next to the diff's start or end, or to a gap, a run has a change on one side only.
        first = start == 0 or rows[start - 1].kind is RowKind.GAP
        last = stop == len(rows) or rows[stop].kind is RowKind.GAP
        if first and last:  # no change on either side (not made by an edit): left as it is
            out += run
        elif first:
            out += run[-CONTEXT:]
        elif last:
            out += run[:CONTEXT]
        else:
            out += around_gap(run)
        start = stop
    return out
