"""Compiled dataclass methods kept between runs, so start-up does not compile them again.

``dataclasses`` writes the source of each method it generates (``__init__``, ``__repr__``,
``__eq__``, ``__setattr__`` of a frozen class...) and compiles it with ``exec``. About 120
dataclasses (Textual's and ours) are made before the TUI's first screen: some 520
compilations, 35-40 ms of CPU on every start, a tenth of it. That source is the same on every
run, so the TUI keeps the compiled code objects in a file in the user's cache directory
(``tui.core.cache_files``; ``marshal``, keyed by the exact source text; a different text is
a different key, so a stale entry is never used, it only drops out at the next save).

``install`` makes ``dataclasses`` compile through the cache (its module-level name ``exec``
is pointed at ``CodeCache.exec``); ``save_installed`` writes the entries used in this run
when some were compiled anew. A file that is not this user's, is writable by others, or
does not read back as code is ignored: the methods are compiled as without the cache.
"""

from __future__ import annotations

import builtins
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from types import CodeType
from typing import Any

from tui.core.cache_files import KeptTable, cache_path

_builtin_exec = builtins.exec


def cache_file(env: Mapping[str, str] = os.environ) -> Path:
    """The cache file for this interpreter's bytecode version."""
    return cache_path("dataclasses", env)


class CodeCache(KeptTable[str, CodeType]):
    """Code objects compiled from ``dataclasses``' generated source, by source text."""

    def valid(self, key: object, value: object) -> bool:
        """A source text and its code."""
        return isinstance(key, str) and isinstance(value, CodeType)

    def code_for(self, source: str) -> CodeType:
        """The code of ``source``, from the file or compiled now, as ``exec`` would."""
        code = self.known.get(source)
        if code is None:
            # dont_inherit: exec of a string in ``dataclasses`` (no __future__ imports) would
            # not get this module's ``annotations`` future either.
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self.compiled += 1
        self.keep(source, code)
        return code

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:  # noqa: A002
        """``exec`` for ``dataclasses``: a source string runs as its cached code."""
        if isinstance(source, str):
            source = self.code_for(source)
        _builtin_exec(source, globals, locals)


_installed: CodeCache | None = None


def install(path: Path | None = None) -> CodeCache:
    """Load the cache and make ``dataclasses`` compile through it (until ``uninstall``)."""
    global _installed
    cache = CodeCache(cache_file() if path is None else path)
    cache.load()
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]
    _installed = cache
    return cache


def uninstall() -> None:
    """``dataclasses`` compiles with the builtin ``exec`` again."""
    global _installed
    if _installed is not None and getattr(dataclasses, "exec", None) == _installed.exec:
        del dataclasses.exec  # type: ignore[attr-defined]
    _installed = None


def save_installed() -> None:
    """Save the installed cache, if there is one (the TUI calls it after its first screen)."""
    if _installed is not None:
        _installed.save()
