"""Compiled regular expressions kept between runs, so start-up does not compile them again.

``re`` parses and compiles each pattern in Python before handing the program to the C
engine (``_sre.compile``). About 120 patterns are compiled before the TUI's first screen
(Textual's CSS tokenizer, Rich, ours): 15-18 ms of CPU on every start. The engine's
arguments for a pattern (its program, a list of numbers, and its group names) are the same
on every run, so the TUI keeps them in a file (``tui.core.cache_files``; ``marshal``, keyed
by the pattern and its flags, per bytecode version and ``_sre.MAGIC``) and gives them
straight to the engine, which checks every program it is given. A pattern not in the file
is compiled by ``re`` as always (its arguments recorded on the way).

``install`` points ``re._compiler.compile`` at ``RegexCache.compile`` and ``_sre`` (as
``re._compiler`` sees it) at a recorder; ``uninstall`` puts both back. Where those internals
differ (another Python), ``install`` does nothing.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tui.core.cache_files import Installed, KeptTable, cache_path

Key = tuple[str | bytes, int]
Arguments = tuple[Any, ...]
"""What ``_sre.compile`` takes after the pattern: flags, code, groups, groupindex, indexgroup."""

try:  # the internals this works through (CPython 3.11+); absent: no cache
    import _sre  # type: ignore[import-not-found]
    from re import _compiler  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python
    _sre = _compiler = None


def cache_file(env: Mapping[str, str] = os.environ) -> Path:
    """The cache file for this interpreter and regular-expression engine."""
    magic = getattr(_sre, "MAGIC", 0)
    return cache_path(f"regex-{magic}", env)


class _Recorder:
    """``_sre`` as ``re._compiler`` sees it: its ``compile`` hands the arguments over."""

    def __init__(self, engine: Any, record: Callable[[Arguments], None]) -> None:
        self._engine = engine
        self._record = record

    def compile(self, pattern: Any, *arguments: Any) -> re.Pattern[Any]:
        self._record(arguments)
        return self._engine.compile(pattern, *arguments)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


class RegexCache(KeptTable[Key, Arguments]):
    """The engine's arguments for each pattern compiled, by pattern and flags.

    Args:
        path: the file it is loaded from and saved to.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._original: Callable[..., re.Pattern[Any]] | None = None
        self._seen = threading.local()

    def valid(self, key: object, value: object) -> bool:
        """A (pattern, flags) key and the engine's five arguments."""
        return isinstance(key, tuple) and isinstance(value, tuple) and len(value) == 5

    def compile(self, pattern: Any, flags: int = 0) -> re.Pattern[Any]:
        """``re._compiler.compile``: a known pattern goes to the engine at once."""
        assert self._original is not None and _sre is not None
        if not isinstance(pattern, str | bytes) or flags & re.DEBUG:
            return self._original(pattern, flags)
        key = (pattern, int(flags))  # marshal writes plain ints, not RegexFlag
        arguments = self.known.get(key)
        if arguments is not None:
            try:
                compiled: re.Pattern[Any] = _sre.compile(pattern, *arguments)
            except (RuntimeError, TypeError, ValueError):  # not a program the engine takes
                del self.known[key]
            else:
                self.keep(key, arguments)
                return compiled
        self._seen.arguments = None
        compiled = self._original(pattern, flags)
        recorded = self._seen.arguments
        if recorded is not None:
            self.compiled += 1
            self.keep(key, recorded)
        return compiled

    def _record(self, arguments: Arguments) -> None:
        # As plain numbers: the program holds int subclasses (re's named opcodes), which
        # marshal cannot write and the engine reads as the numbers they are.
        flags, code, groups, groupindex, indexgroup = arguments
        numbers = [int(op) for op in code]
        self._seen.arguments = (int(flags), numbers, int(groups), dict(groupindex), indexgroup)

    def attach(self) -> bool:
        """Make ``re`` compile through this cache; False where its internals differ."""
        original = getattr(_compiler, "compile", None)
        if _sre is None or original is None or getattr(_compiler, "_sre", None) is not _sre:
            return False
        self._original = original
        _compiler._sre = _Recorder(_sre, self._record)
        _compiler.compile = self.compile
        return True

    def detach(self) -> None:
        """Give ``re`` its own compile and engine back."""
        if self._original is not None and _compiler.compile == self.compile:
            _compiler.compile = self._original
            _compiler._sre = _sre
        self._original = None


_installed: Installed[RegexCache] = Installed(RegexCache, cache_file)
install = _installed.install
"""Load the cache and make ``re`` compile through it (until ``uninstall``)."""
uninstall = _installed.uninstall
"""``re`` compiles on its own again."""
save_installed = _installed.save
"""Save the installed cache, if there is one (the TUI calls it after its first screen)."""
