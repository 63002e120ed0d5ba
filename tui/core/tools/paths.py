"""Workspace confinement: which paths a tool may touch, decided on real paths.

Every path a model sends is untrusted. ``Workspace`` turns it into a real
(symlink-free) absolute path inside the workspace, or raises ``ToolError``
with a reason the model can read. Containment is decided with
``os.path.realpath`` and ``os.path.commonpath``, never a string prefix: a
prefix test would let ``/w/proj-evil`` pass for the root ``/w/proj``
(CVE-2025-53110).

Rules (T1-T6 in ``tests/security/test_confinement.py``):

- relative paths only: no empty path, NUL byte, absolute path or ``~``;
- the real path (after ``..`` and symlinks) must stay inside the root;
- writes never go through a symlinked leaf, even one pointing inside;
- protected paths (any ``.git`` component, plus the paths the session passes
  in: chattui's config file and data dir) are refused for every tool, reads
  included, because the config may hold API keys.

A path check alone cannot close every race (a directory swapped for a symlink
between check and write); callers re-check just before writing and open files
with ``O_NOFOLLOW``.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class ToolError(Exception):
    """A tool call failed; the message is written for the model and the user."""


class FileChanged(ToolError):
    """A file changed on disk between the preview the user approved and the write."""


def visible_path(path: str) -> str:
    r"""Escape the characters of ``path`` that could hide or disguise text.

    Bidi controls (U+202A-U+202E, U+2066-U+2069), zero-width characters
    (U+200B-U+200D, U+FEFF) and every other format, control, separator or
    surrogate character become ``\u202e``-style escapes; a backslash is
    doubled, so an escape can never be confused with a literal name.

    Args:
        path: a path as given by the model or read from a directory.

    Returns:
        The path with suspicious characters escaped; plain paths are unchanged.
    """
    return "".join(_escape_char(ch) for ch in path)


def _escape_char(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    category = unicodedata.category(ch)
    if ch == " " or category[0] not in "CZ":
        return ch
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quoted(path: str) -> str:
    """Return ``path`` escaped with :func:`visible_path`, in single quotes."""
    return "'" + visible_path(path).replace("'", "\\'") + "'"


@dataclass(frozen=True, slots=True)
class Resolved:
    """A confined path.

    Attributes:
        real: absolute path whose directories are all resolved; for writes
            the leaf itself is not followed.
        rel: the same path relative to the workspace root, ``/``-separated
            (``.`` for the root itself); use this in messages.
    """

    real: str
    rel: str


class Workspace:
    """The directory tools are confined to, plus the paths they may never touch.

    Args:
        root: the workspace directory; it must exist.
        protected: absolute paths (files or directories) refused to every tool.

    Raises:
        ValueError: the root is not a directory.
    """

    def __init__(self, root: Path, protected: Iterable[Path] = ()) -> None:
        self.root = os.path.realpath(root)
        if not os.path.isdir(self.root):
            raise ValueError(f"workspace {quoted(str(root))} is not a directory")
        self.protected = tuple(os.path.realpath(p) for p in protected)

    def resolve_read(self, raw: str) -> Resolved:
        """Confine a path to read or list: symlinks are followed, then checked.

        Raises:
            ToolError: the path is malformed, outside the root or protected.
        """
        _check_syntax(raw)
        real = os.path.realpath(os.path.join(self.root, raw))
        return self._confined(real, raw)

    def resolve_write(self, raw: str) -> Resolved:
        """Confine a path to write: the parent is resolved, the leaf is not.

        The leaf must be absent or a regular file; a symlinked leaf is refused
        even when it points inside the workspace, so a write can never land
        anywhere other than the name shown in the preview.

        Raises:
            ToolError: malformed, outside, protected, or not a regular file.
        """
        _check_syntax(raw)
        head, leaf = os.path.split(os.path.join(self.root, raw))
        if leaf in ("", ".", ".."):
            raise ToolError(f"{quoted(raw)} names a directory, not a file")
        parent = os.path.realpath(head)
        resolved = self._confined(os.path.join(parent, leaf), raw)
        check_writable_leaf(resolved)
        return resolved

    def is_protected(self, real: str) -> bool:
        """Tell whether a real absolute path is ``.git`` or a protected path."""
        rel = os.path.relpath(real, self.root)
        if any(part.casefold() == ".git" for part in rel.split(os.sep)):
            return True
        return any(_inside(real, p) for p in self.protected)

    def _confined(self, real: str, raw: str) -> Resolved:
        if not _inside(real, self.root):
            raise ToolError(
                f"{quoted(raw)} is outside the workspace; use a relative path inside it"
            )
        if self.is_protected(real):
            raise ToolError(f"{quoted(raw)} is a protected path (.git or chattui's own files)")
        rel = os.path.relpath(real, self.root).replace(os.sep, "/")
        return Resolved(real=real, rel=rel)


def check_writable_leaf(resolved: Resolved) -> None:
    """Refuse a write target that exists as anything but a regular file.

    Raises:
        ToolError: the leaf is a symlink, a directory, a FIFO, a device ...
    """
    try:
        st = os.lstat(resolved.real)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ToolError(f"cannot inspect {quoted(resolved.rel)}: {exc.strerror}") from None
    kind = file_kind(st.st_mode)
    if kind == "symbolic link":
        raise ToolError(f"{quoted(resolved.rel)} is a symbolic link; refusing to write through it")
    if kind != "regular file":
        raise ToolError(f"{quoted(resolved.rel)} is a {kind}, not a regular file")


def file_kind(mode: int) -> str:
    """Name the kind of file an ``st_mode`` describes, for messages."""
    kinds = (
        (stat.S_ISREG, "regular file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISLNK, "symbolic link"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    )
    return next((name for test, name in kinds if test(mode)), "special file")


def _check_syntax(raw: str) -> None:
    if not raw.strip():
        raise ToolError("the path is empty")
    if "\x00" in raw:
        raise ToolError(f"{quoted(raw)} contains a NUL byte")
    if raw.startswith("~"):
        raise ToolError(f"{quoted(raw)}: '~' is not expanded; use a path relative to the workspace")
    if os.path.isabs(raw):
        raise ToolError(f"{quoted(raw)} is absolute; use a path relative to the workspace")


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False
