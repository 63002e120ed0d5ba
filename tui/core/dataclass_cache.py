"""Compiled dataclass methods kept between runs, so start-up does not compile them again.

``dataclasses`` writes the source of each method it generates (``__init__``, ``__repr__``,
``__eq__``, ``__setattr__`` of a frozen class...) and compiles it with ``exec``. About 120
dataclasses (Textual's and ours) are made before the TUI's first screen: some 520
compilations, 35-40 ms of CPU on every start, a tenth of it. That source is the same on every
run, so the TUI keeps the compiled code objects in a file in the user's cache directory
(``tui.core.cache_files``; ``marshal``, keyed by the exact source text; a different text is
a different key, so a stale entry is never used, it only drops out at the next save).

``collections.namedtuple`` does the same for each named tuple's ``__new__`` (a ``lambda``
compiled with ``eval``): about 55 before the first screen (Textual's, Rich's), 2.5 ms. Those
are kept in the same file, under a key no source text can have (``EVAL`` and the source).

``install`` makes ``dataclasses`` and ``collections`` compile through the cache (their
module-level names ``exec`` and ``eval`` are pointed at ``CodeCache.exec`` and
``CodeCache.eval``); ``save_installed`` writes the entries used in this run when some were
compiled anew. A file that is not this user's, is writable by others, or
does not read back as code is ignored: the methods are compiled as without the cache.
"""

from __future__ import annotations

import builtins
import collections
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from types import CodeType
from typing import Any

from tui.core.cache_files import Installed, KeptTable, cache_path

_builtin_exec = builtins.exec
_builtin_eval = builtins.eval
EVAL = "\0eval\0"
"""Prefix of an ``eval`` entry's key: compile refuses a source with a NUL character, so no
``exec`` entry's key starts with it."""


def cache_file(env: Mapping[str, str] = os.environ) -> Path:
    """The cache file for this interpreter's bytecode version."""
    return cache_path("dataclasses", env)


class CodeCache(KeptTable[str, CodeType]):
    """Code objects compiled from ``dataclasses``' generated source, by source text."""

    def valid(self, key: object, value: object) -> bool:
        """A source text and its code."""
        return isinstance(key, str) and isinstance(value, CodeType)

    def code_for(self, source: str, mode: str = "exec") -> CodeType:
        """The code of ``source``, from the file or compiled now, as ``exec`` (or ``eval``,
        with ``mode="eval"``) would."""
        key = source if mode == "exec" else f"{EVAL}{source}"
        code = self.known.get(key)
        if code is None:
            # dont_inherit: exec of a string in ``dataclasses`` (no __future__ imports) would
            # not get this module's ``annotations`` future either.
            code = compile(source, "<string>", mode, dont_inherit=True)
            self.compiled += 1
        self.keep(key, code)
        return code

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:  # noqa: A002
        """``exec`` for ``dataclasses``: a source string runs as its cached code."""
        if isinstance(source, str):
            source = self.code_for(source)
        _builtin_exec(source, globals, locals)

    def attach(self) -> bool:
        """Make ``dataclasses`` and ``collections`` compile through this cache."""
        dataclasses.exec = self.exec  # type: ignore[attr-defined]
        collections.eval = self.eval  # type: ignore[attr-defined]
        return True

    def detach(self) -> None:
        """Give ``dataclasses`` and ``collections`` the builtins back (if still ours)."""
        if getattr(dataclasses, "exec", None) == self.exec:
            del dataclasses.exec  # type: ignore[attr-defined]
        if getattr(collections, "eval", None) == self.eval:
            del collections.eval  # type: ignore[attr-defined]

    def eval(self, source: Any, globals: Any = None, locals: Any = None) -> Any:  # noqa: A002
        """``eval`` for ``collections``: a source string is evaluated as its cached code."""
        if isinstance(source, str):
            source = self.code_for(source, "eval")
        return _builtin_eval(source, globals, locals)


_installed: Installed[CodeCache] = Installed(CodeCache, cache_file)
install = _installed.install
"""Load the cache and make ``dataclasses`` and ``collections`` compile through it (until
``uninstall``)."""
uninstall = _installed.uninstall
"""``dataclasses`` and ``collections`` compile with the builtins again."""
save_installed = _installed.save
"""Save the installed cache, if there is one (the TUI calls it after its first screen)."""
