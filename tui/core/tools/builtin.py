"""The built-in file tools, from checked arguments to what the user approves and what runs.

``FileTools.plan(name, args)`` confines the path (``tui.core.tools.paths``), reads what it
must (the file's fingerprint, an edit's source) and returns a ``Plan``: the one-line title,
the preview (a diff for an overwrite or an edit) and the action that makes the change once
approved. Writes re-check the fingerprint when they run: a file that changed after its
preview raises ``FileChanged`` and nothing is written.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from tui.core.tools import edit, files, listing
from tui.core.tools.paths import FileChanged, Resolved, ToolError, Workspace, file_kind, quoted
from tui.core.tools.refine import changed_lines, refine
from tui.core.units import human_size


@dataclass(frozen=True)
class Plan:
    """What a prepared built-in call shows and does."""

    title: str
    """One line naming the tool, the (escaped) path and what will happen."""
    preview: str | None
    """A unified diff (or why there is none) for an overwrite or an edit; None otherwise."""
    action: Callable[[], str]
    """Makes the change (or reads); returns the result text; raises ``ToolError``."""
    diff: tuple[edit.DiffRow, ...] | None = None
    """An edit's diff as rows, for a diff view."""


@dataclass(frozen=True)
class FileTools:
    """save_file, edit_file, read_file and list_files, confined to ``workspace``.

    Args:
        workspace: the confinement every path goes through.
        max_write_bytes: the largest file a write may leave behind, in bytes.
    """

    workspace: Workspace
    max_write_bytes: int

    def plan(self, name: str, args: dict[str, Any]) -> Plan:
        """The plan for a call to the file tool ``name`` with validated ``args``.

        Raises:
            ToolError: refused path, wrong kind of file, too large, or not applicable.
        """
        planners = {
            "save_file": self._save_plan,
            "edit_file": self._edit_plan,
            "read_file": self._read_plan,
            "list_files": self._list_plan,
        }
        return planners[name](args)

    def read_for_edit(self, raw: str) -> tuple[Resolved, edit.Source]:
        """Confine a path as ``edit_file`` does and read the file (for the live diff).

        Raises:
            ToolError: refused path, or not a readable text file within the size limit.
        """
        return edit.open_for_edit(self.workspace, raw, self.max_write_bytes)

    def _edit_plan(self, args: dict[str, Any]) -> Plan:
        target, source = self.read_for_edit(args["path"])
        plan = edit.plan_edit(
            source, args["old_string"], args["new_string"], args["replace_all"], target.rel
        )
        data = source.encode(plan.text)
        self._check_size(data, "the edited file would be")
        what = _plural(plan.count, "replacement")
        shown = refine(plan.rows)
        added, removed = changed_lines(shown)
        title = f"edit_file {quoted(target.rel)} ({what}, +{added} -{removed})"
        before = files.Snapshot(source.digest, len(data), source.mode)
        lines = _plural(_count_lines(plan.text), "line")
        action = partial(self._save, args["path"], target, before, data, lines, "edited")
        return Plan(title, edit.unified(shown, target.rel), action, diff=tuple(shown))

    def _save_plan(self, args: dict[str, Any]) -> Plan:
        data = _encode(args["content"])
        self._check_size(data, "content is")
        target = self.workspace.resolve_write(args["path"])
        before = files.take_snapshot(target)
        lines = _plural(_count_lines(args["content"]), "line")
        what, preview = "new file", None
        if before.digest is not None:
            what, preview = _overwrite_preview(before, args["content"], data, target.rel)
        title = f"save_file {quoted(target.rel)} ({what}, {lines}, {human_size(len(data))})"
        return Plan(title, preview, partial(self._save, args["path"], target, before, data, lines))

    def _check_size(self, data: bytes, what: str) -> None:
        if len(data) > self.max_write_bytes:
            size, cap = human_size(len(data)), human_size(self.max_write_bytes)
            raise ToolError(f"{what} {size}, over the {cap} limit; not written")

    def _save(
        self,
        raw: str,
        target: Resolved,
        before: files.Snapshot,
        data: bytes,
        lines: str,
        verb: str = "",
    ) -> str:
        now = self.workspace.resolve_write(raw)
        current = files.take_snapshot(now)
        if now.real != target.real or current.digest != before.digest:
            raise FileChanged(f"{quoted(target.rel)} changed since the preview; not written")
        # Writing to a file clears its set-id bits on Linux; model text must not keep them.
        set_id = stat.S_ISUID | stat.S_ISGID
        mode = files.new_file_mode() if current.mode is None else current.mode & ~set_id
        _write(target, data, mode)
        verb = verb or ("created" if before.digest is None else "overwrote")
        return f"{verb} {quoted(target.rel)} ({lines}, {len(data)} bytes)"

    def _read_plan(self, args: dict[str, Any]) -> Plan:
        target = self.workspace.resolve_read(args["path"])
        _require_kind(target, "regular file")
        offset, limit = args["offset"], args["limit"]
        title = f"read_file {quoted(target.rel)} (lines {offset}-{offset + limit - 1})"
        return Plan(title, None, partial(files.read_text, target, offset, limit))

    def _list_plan(self, args: dict[str, Any]) -> Plan:
        target = self.workspace.resolve_read(args["path"])
        _require_kind(target, "directory")
        listing.glob_regex(args["pattern"])  # refuse a bad pattern before any approval
        title = f"list_files {quoted(target.rel)} {quoted(args['pattern'])}"
        skip = self.workspace.is_protected
        return Plan(title, None, partial(listing.list_files, target, args["pattern"], skip))


def _write(target: Resolved, data: bytes, mode: int) -> None:
    parent = os.path.dirname(target.real)
    try:
        os.makedirs(parent, exist_ok=True)
        if os.path.realpath(parent) != parent:  # a directory was swapped for a link
            raise ToolError(f"the directory of {quoted(target.rel)} changed; not written")
        files.atomic_write(target.real, data, mode)
    except OSError as exc:
        raise ToolError(f"could not write {quoted(target.rel)}: {exc.strerror}") from None


def _overwrite_preview(before: files.Snapshot, new: str, data: bytes, rel: str) -> tuple[str, str]:
    if before.digest == hashlib.sha256(data).hexdigest():
        return "no changes", ""
    if before.text is None:
        why = "not UTF-8 text" if before.size <= files.DIFF_LIMIT else "too large to diff"
        return "overwrite", f"(no diff: the existing file is {why}; it will be replaced)"
    if len(data) > files.DIFF_LIMIT:
        return "overwrite", "(no diff: the new content is too large to diff)"
    diff = files.unified_diff(before.text, new, rel)
    body = [line for line in diff.splitlines()[2:] if line[:1] in "+-"]
    added = sum(line.startswith("+") for line in body)
    return f"overwrite, +{added} -{len(body) - added}", diff


def _require_kind(target: Resolved, kind: str) -> None:
    try:
        actual = file_kind(os.lstat(target.real).st_mode)
    except FileNotFoundError:
        raise ToolError(f"{quoted(target.rel)} does not exist") from None
    if actual != kind:
        hint = "; use list_files for directories" if actual == "directory" else ""
        raise ToolError(f"{quoted(target.rel)} is a {actual}, not a {kind}{hint}")


def _encode(content: str) -> bytes:
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError:
        raise ToolError("content is not valid Unicode text (lone surrogate); not written") from None


def _count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
