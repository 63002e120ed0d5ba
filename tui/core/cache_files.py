"""Files that only make start-up faster, in the user's cache directory.

Each holds data that runs as code once loaded (compiled methods, compiled patterns), so it is
read only when it is this user's and nobody else may write it, as Python treats a ``.pyc``;
anything else reads as no file. Written atomically, mode 0o600, in a 0o700 directory.
Deleting the directory loses nothing: the next start compiles again.
"""

from __future__ import annotations

import contextlib
import importlib.util
import marshal
import os
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from tui.core import locations

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES = 5000
"""Beyond this a run keeps nothing more (the first screen needs a few hundred)."""


def cache_path(name: str, env: Mapping[str, str] = os.environ) -> Path:
    """``<cache dir>/<name>-<interpreter tag>.bin``: one file per bytecode version."""
    tag = f"{sys.implementation.cache_tag}-{importlib.util.MAGIC_NUMBER.hex()}"
    return locations.cache_dir(env) / f"{name}-{tag}.bin"


def read_private(path: Path) -> bytes | None:
    """The file's bytes if this user owns it and only this user may write it, else None."""
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            return file.read()
    except OSError:
        return None


def write_private(path: Path, data: bytes) -> bool:
    """Replace the file with ``data`` (0o600, its directory 0o700); False if it cannot."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        locations.ensure_private_dir(path.parent)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()  # a full disk: leave no partial file behind
        return False
    return True


class KeptTable(Generic[K, V]):
    """A table kept between runs in a private cache file (``marshal``): what start-up compiled.

    ``known`` is what the file held, ``used`` what this run used (the next file's content),
    ``compiled`` how many entries this run had to make anew; ``save`` writes only then.

    Args:
        path: the file it is loaded from and saved to.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[K, V] = {}
        self.used: dict[K, V] = {}
        self.compiled = 0
        """How many entries were not in the file (made in this run)."""

    def valid(self, key: object, value: object) -> bool:
        """Whether an entry read from the file has the shape this table keeps."""
        raise NotImplementedError

    def load(self) -> None:
        """Read the file if it is ours and intact; otherwise start empty."""
        data = read_private(self.path)
        try:
            table = marshal.loads(data) if data else None
        except (EOFError, ValueError, TypeError):
            return
        if isinstance(table, dict):
            self.known = {k: v for k, v in table.items() if self.valid(k, v)}

    def keep(self, key: K, value: V) -> None:
        """Note an entry this run used (up to ``MAX_ENTRIES``)."""
        if len(self.used) < MAX_ENTRIES:
            self.used[key] = value

    def save(self) -> None:
        """Write the entries used in this run if any was made anew (atomically)."""
        try:
            data = marshal.dumps(dict(self.used))
        except ValueError:  # a value marshal cannot write: keep making it
            return
        if self.compiled and write_private(self.path, data):
            self.compiled = 0


class Attachable(Protocol):
    """A cache that start-up installs: loaded from its file, attached to what it speeds up."""

    def load(self) -> None: ...  # read the file (see ``KeptTable``)

    def attach(self) -> bool: ...  # False where the internals differ

    def detach(self) -> None: ...

    def save(self) -> None: ...


C = TypeVar("C", bound=Attachable)


class Installed(Generic[C]):
    """The one cache of its kind in use now: ``install`` loads and attaches it, ``uninstall``
    detaches it, ``save`` writes it (the TUI saves after its first screen).

    Args:
        make: the cache for a file.
        default: the file when ``install`` is given none.
    """

    def __init__(self, make: Callable[[Path], C], default: Callable[[], Path]) -> None:
        self._make, self._default = make, default
        self.cache: C | None = None

    def install(self, path: Path | None = None) -> C | None:
        """Load the cache and attach it (until ``uninstall``); None where it cannot attach."""
        self.uninstall()
        cache = self._make(self._default() if path is None else path)
        cache.load()
        if not cache.attach():
            return None
        self.cache = cache
        return cache

    def uninstall(self) -> None:
        """Detach the installed cache, if there is one."""
        if self.cache is not None:
            self.cache.detach()
        self.cache = None

    def save(self, uninstall: bool = False) -> None:
        """Save the installed cache, if there is one (then uninstall it, if asked)."""
        if self.cache is not None:
            self.cache.save()
            if uninstall:
                self.uninstall()
