"""File IO for the tools: safe opening, fingerprints, atomic writes, reading.

Everything here works on paths already confined by ``tui.core.tools.paths``; the
functions still open with ``O_NOFOLLOW`` and ``O_NONBLOCK`` and check the
file type first, so a leaf swapped for a symlink or a FIFO after the check
fails instead of escaping or hanging.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import BinaryIO

from tui.core.tools.paths import Resolved, ToolError, file_kind, quoted, visible_path

_CHUNK = 64 * 1024
#: Existing files larger than this are fingerprinted but not diffed.
DIFF_LIMIT = 512 * 1024
#: read_file cuts longer lines, so one minified line cannot fill the context.
MAX_LINE_BYTES = 4000
#: read_file stops adding lines once its output reaches this size.
MAX_READ_BYTES = 256 * 1024
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def open_regular(resolved: Resolved) -> BinaryIO:
    """Open an existing regular file for reading, refusing anything else.

    The type is checked with ``lstat`` before opening (opening a FIFO would
    block) and again with ``fstat`` on the open descriptor (the name may have
    been swapped in between).

    Raises:
        ToolError: missing, unreadable, or not a regular file.
    """
    try:
        before = os.lstat(resolved.real)
        if not stat.S_ISREG(before.st_mode):
            kind = file_kind(before.st_mode)
            raise ToolError(f"{quoted(resolved.rel)} is a {kind}, not a regular file")
        fd = os.open(resolved.real, _OPEN_FLAGS)
    except FileNotFoundError:
        raise ToolError(f"{quoted(resolved.rel)} does not exist") from None
    except OSError as exc:
        raise ToolError(f"cannot open {quoted(resolved.rel)}: {exc.strerror}") from None
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (
        before.st_dev,
        before.st_ino,
    ):
        os.close(fd)
        raise ToolError(f"{quoted(resolved.rel)} changed while it was being opened")
    return os.fdopen(fd, "rb")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a file held when it was looked at, to detect later changes.

    Attributes:
        digest: sha256 hex digest of the bytes; None when the file did not exist.
        size: size in bytes.
        mode: permission bits, None when the file did not exist.
        text: the content when it is UTF-8 and at most ``DIFF_LIMIT`` bytes.
    """

    digest: str | None
    size: int = 0
    mode: int | None = None
    text: str | None = None


def take_snapshot(resolved: Resolved) -> Snapshot:
    """Fingerprint a write target (which may not exist yet).

    Raises:
        ToolError: the target exists but is not a readable regular file.
    """
    if not os.path.lexists(resolved.real):
        return Snapshot(digest=None)
    with open_regular(resolved) as f:
        mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
        sha, kept, size = hashlib.sha256(), bytearray(), 0
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            if size <= DIFF_LIMIT:
                kept += chunk
    text = None
    if size <= DIFF_LIMIT:
        with suppress(UnicodeDecodeError):
            text = kept.decode("utf-8")
    return Snapshot(digest=sha.hexdigest(), size=size, mode=mode, text=text)


def new_file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give: 0o666 minus the umask."""
    return 0o666 & ~_current_umask()


def _current_umask() -> int:
    # Reading the umask with os.umask() means setting it for a moment, which
    # races with threads creating files; Linux exposes it read-only instead.
    with suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` so that readers see old or new, never half.

    Writes a temp file in the same directory, fsyncs it, gives it ``mode``,
    renames it over ``path`` and fsyncs the directory. On any failure the temp
    file is removed and the original is untouched.

    Args:
        path: real absolute path; its directory must exist.
        data: the new bytes.
        mode: permission bits for the new file.
    """
    directory, name = os.path.split(path)
    # Keep the temp name under NAME_MAX (255) even for very long file names.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name[:100]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    # Makes the rename durable; the data is already in place, so a platform
    # that cannot fsync a directory (or an odd filesystem) is not an error.
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def unified_diff(old: str, new: str, rel: str) -> str:
    """A unified diff (3 lines of context, headers ``a/<rel>`` and ``b/<rel>``).

    Lines are split on ``\\n`` only, and a missing final newline is marked the
    way git marks it, so a newline-only change still shows up.
    """
    name = visible_path(rel)
    diff = difflib.unified_diff(_diff_lines(old), _diff_lines(new), f"a/{name}", f"b/{name}", n=3)
    return "".join(diff)


def _diff_lines(text: str) -> list[str]:
    *full, tail = text.split("\n")
    lines = [line + "\n" for line in full]
    if tail:
        lines.append(tail + "\n\\ No newline at end of file\n")
    return lines


def read_text(resolved: Resolved, offset: int, limit: int) -> str:
    """Return lines ``offset``.. of a text file, with a header when partial.

    The header looks like ``[lines 5-9 of 120; continue with offset=10]``; it
    is left out when the whole file is returned unchanged.

    Args:
        resolved: the confined file.
        offset: first line, 1-based.
        limit: maximum number of lines.

    Raises:
        ToolError: not a regular file, binary, or offset past the end.
    """
    with open_regular(resolved) as f:
        total = _count_lines(f, resolved)
        if total == 0:
            return "[empty file]"
        if offset > total:
            where = f"{quoted(resolved.rel)} ({total} lines)"
            raise ToolError(f"offset {offset} is past the end of {where}")
        f.seek(0)
        page = _Page(offset)
        for number, (head, size) in enumerate(_iter_lines(f), 1):
            if number >= offset and (number >= offset + limit or not page.add(head, size)):
                break
    return page.render(total)


def _count_lines(f: BinaryIO, resolved: Resolved) -> int:
    count, last = 0, b""
    while chunk := f.read(_CHUNK):
        if b"\x00" in chunk:
            raise ToolError(
                f"{quoted(resolved.rel)} looks binary (it contains NUL bytes); not shown"
            )
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count + (1 if last not in (b"", b"\n") else 0)


def _iter_lines(f: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Yield (first MAX_LINE_BYTES bytes, full size) per line, in bounded memory."""
    head, size = bytearray(), 0
    while chunk := f.read(_CHUNK):
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            stop = len(chunk) if end == -1 else end + 1
            if len(head) < MAX_LINE_BYTES:
                head += chunk[start : min(stop, start + MAX_LINE_BYTES - len(head))]
            size += stop - start
            start = stop
            if end != -1:
                yield bytes(head), size
                head.clear()
                size = 0
    if size:
        yield bytes(head), size


class _Page:
    """The lines read_file returns, and the notes its header needs."""

    def __init__(self, offset: int) -> None:
        self.offset, self.last = offset, offset - 1
        self.parts: list[str] = []
        self.size = 0
        self.capped = self.replaced = False
        self.cut = 0

    def add(self, head: bytes, size: int) -> bool:
        """Append one line; False (and nothing added) once the byte cap is hit."""
        cut = size > len(head)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        try:
            text = decoder.decode(head, final=not cut)
        except UnicodeDecodeError:
            self.replaced = True
            text = codecs.getincrementaldecoder("utf-8")("replace").decode(head, final=not cut)
        if cut:
            self.cut += 1
            text += f" … [line cut: {size} bytes]\n"
        size = len(text.encode())
        if self.parts and self.size + size > MAX_READ_BYTES:
            self.capped = True
            return False
        self.parts.append(text)
        self.size += size
        self.last += 1
        return True

    def render(self, total: int) -> str:
        """The text with its header; no header for a whole, untouched file."""
        body = "".join(self.parts)
        notes = []
        if self.capped:
            notes.append(f"output capped at {MAX_READ_BYTES // 1024} KB")
        if self.cut:
            notes.append(f"{self.cut} long line(s) cut at {MAX_LINE_BYTES} bytes")
        if self.replaced:
            notes.append("not valid UTF-8, bad bytes shown as U+FFFD")
        if self.last < total:
            notes.append(f"continue with offset={self.last + 1}")
        if not notes and self.offset == 1:
            return body
        header = "; ".join([f"lines {self.offset}-{self.last} of {total}", *notes])
        return f"[{header}]\n{body}"
