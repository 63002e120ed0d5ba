"""list_files: walk a confined directory and match a glob, without following links.

The walk uses ``os.scandir`` and never descends into a symlink, so a link to
``/`` inside the workspace lists as one entry and leads nowhere. ``.git`` and
protected paths are skipped entirely. Work is bounded twice: at most
``MAX_VISITED`` entries are looked at, at most ``MAX_ENTRIES`` are returned.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from tui.core.tools.paths import Resolved, ToolError, quoted, visible_path

#: Entries returned by one call; the rest is summarised as "… N more".
MAX_ENTRIES = 1000
#: Entries looked at by one call, so a huge tree cannot stall the session.
MAX_VISITED = 50_000


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob matched against ``/``-separated relative paths.

    ``*`` and ``?`` stay within one path segment, ``**`` spans segments
    (``**/`` also matches no directory at all), ``[...]`` and ``[!...]`` are
    character classes. Unlike a shell glob, ``*`` also matches dot files.

    Raises:
        ToolError: the pattern is empty, absolute or climbs out with ``..``.
    """
    if not pattern or pattern.startswith("/") or ".." in pattern.split("/"):
        raise ToolError(f"pattern {quoted(pattern)} must be a relative glob such as '*.py'")
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            piece, i = _class_or_literal(pattern, i)
            out.append(piece)
    return re.compile("".join(out), re.DOTALL)


def _class_or_literal(pattern: str, i: int) -> tuple[str, int]:
    close = pattern.find("]", i + 2) if pattern[i] == "[" else -1
    if close == -1:
        return re.escape(pattern[i]), i + 1
    body = pattern[i + 1 : close]
    negate = body.startswith("!")
    body = re.escape(body[1:] if negate else body).replace("\\-", "-")
    return f"[{'^/' if negate else ''}{body}]", close + 1


def list_files(base: Resolved, pattern: str, skip: Callable[[str], bool]) -> str:
    """List entries under ``base`` whose path relative to it matches ``pattern``.

    Args:
        base: the confined directory.
        pattern: a glob (see :func:`glob_regex`); without ``**`` the walk
            goes only as deep as the pattern has segments.
        skip: tells, for a real absolute path, whether to leave it out.

    Returns:
        Workspace-relative paths, sorted, one per line; directories end in
        ``/``, symbolic links in ``@``; notes about caps come last. When the walk
        stopped at ``MAX_VISITED``, only the entries it saw were sorted, and the
        note says so.

    Raises:
        ToolError: ``base`` is not a directory, or the pattern is invalid.
    """
    if not os.path.isdir(base.real):
        raise ToolError(f"{quoted(base.rel)} is not a directory")
    regex = glob_regex(pattern)
    depth = None if "**" in pattern else pattern.count("/") + 1
    prefix = "" if base.rel == "." else base.rel + "/"
    matches: list[str] = []
    visited = 0
    for rel, suffix in _walk(base.real, depth, skip):
        visited += 1
        if visited > MAX_VISITED:
            break
        if regex.fullmatch(rel):
            matches.append(visible_path(prefix + rel) + suffix)
    return _render(sorted(matches), visited > MAX_VISITED, base, pattern)


def _walk(
    top: str, max_depth: int | None, skip: Callable[[str], bool]
) -> Iterator[tuple[str, str]]:
    stack = [("", top, 1)]
    while stack:
        prefix, directory, depth = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError:
            continue  # unreadable directory: list what can be listed
        for entry in entries:
            if skip(entry.path):
                continue
            rel = prefix + entry.name
            if entry.is_symlink():
                yield rel, "@"
            elif entry.is_dir(follow_symlinks=False):
                yield rel, "/"
                if max_depth is None or depth < max_depth:
                    stack.append((rel + "/", entry.path, depth + 1))
            else:
                yield rel, ""


def _render(matches: list[str], stopped: bool, base: Resolved, pattern: str) -> str:
    lines = matches[:MAX_ENTRIES]
    if not lines:
        lines.append(f"no entries in {quoted(base.rel)} match {quoted(pattern)}")
    seen = " of those seen" if stopped else ""
    if len(matches) > MAX_ENTRIES:
        lines.append(f"… {len(matches) - MAX_ENTRIES} more{seen} (narrow the path or pattern)")
    if stopped:
        # The walk order is the file system's: what was seen is no prefix of the sorted whole.
        lines.append(
            f"… listing stopped after {MAX_VISITED} entries; the ones above are sorted among"
            " those, not among all (narrow the path or pattern)"
        )
    if any(m.endswith("@") for m in matches[:MAX_ENTRIES]):
        lines.append("(@ marks a symbolic link; links are not followed)")
    return "\n".join(lines)
