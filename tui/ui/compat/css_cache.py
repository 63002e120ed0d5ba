"""Textual's parsed stylesheets kept between runs, so start-up does not parse them again.

Textual parses every stylesheet a first screen uses on every start (``app.tcss`` and the
default CSS of each widget class mounted, Textual's own among them): about 16 sources, 10 ms
of CPU before the first frame, the same text giving the same rules each time. The TUI keeps
the parsed rules (``pickle``) in a private file in the user's cache directory
(``tui.core.cache_files``), keyed by everything the parse reads: Textual's modules, the theme's
variables, the CSS text, where it came from, whether it is default CSS, its tie breaker and
scope. A changed file, theme or Textual is another key: it is parsed and the new entry kept.

``install`` points ``Stylesheet._parse_rules`` at ``CssCache.parse_rules``; a key in the file
gives its rules as Textual's own in-memory parse cache would, anything else is parsed as
always. ``save_installed`` writes the entries used in this run when some were parsed anew, and
gives Textual its own parse back.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from textual.css import model, parse, styles
from textual.css.stylesheet import Stylesheet

from tui.core.cache_files import Installed, KeptTable, cache_path

Key = tuple[Any, ...]
"""Textual's modules, the variables, and ``_parse_rules``'s own cache key (all plain data)."""


def cache_file(env: Mapping[str, str] = os.environ) -> Path:
    """The cache file for this interpreter."""
    return cache_path("css", env)


def textual_files() -> tuple[tuple[str, int, int], ...]:
    """Path, size and modification time of the Textual modules that parse and hold rules.

    Another Textual (an upgrade rewrites them) is another key. Not ``textual.__version__``:
    Textual reads it from its package metadata, 5 ms of imports (``importlib.metadata``).
    """
    found = []
    for module in (model, parse, styles):
        path = str(getattr(module, "__file__", ""))
        try:
            info = os.stat(path)
        except OSError:
            return ()
        found.append((path, info.st_size, info.st_mtime_ns))
    return tuple(found)


class CssCache(KeptTable[Key, bytes]):
    """Parsed rules (pickled), by what the parse reads.

    Args:
        path: the file it is loaded from and saved to.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._original: Callable[..., list[Any]] | None = None
        self._variables: tuple[object, str] = (None, "")
        self._textual = textual_files()

    def valid(self, key: object, value: object) -> bool:
        """A key tuple and pickled rules."""
        return isinstance(key, tuple) and isinstance(value, bytes)

    def _variables_key(self, stylesheet: Stylesheet) -> str:
        # Textual replaces the dict when the variables change (a new theme).
        variables = getattr(stylesheet, "_variables", None)
        if variables is not self._variables[0]:
            text = repr(sorted(variables.items())) if isinstance(variables, dict) else ""
            self._variables = (variables, text)
        return self._variables[1]

    def parse_rules(
        self,
        stylesheet: Stylesheet,
        css: str,
        read_from: tuple[str, str],
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[Any]:
        """``Stylesheet._parse_rules``: known CSS comes from the file, the rest is parsed."""
        assert self._original is not None
        parse = self._original
        own_key = (css, read_from, is_default_rules, tie_breaker, scope)
        memo = getattr(stylesheet, "_parse_cache", None)
        if memo is None or own_key in memo:  # parsed (or read) in this run already
            return parse(stylesheet, css, read_from, is_default_rules, tie_breaker, scope)
        variables = self._variables_key(stylesheet)
        key = (self._textual, variables, *own_key)
        data = self.known.get(key)
        if data is not None:
            try:
                rules: list[Any] = pickle.loads(data)
            except Exception:  # noqa: BLE001 - any unreadable entry is parsed instead
                del self.known[key]
            else:
                memo[own_key] = rules
                self.keep(key, data)
                return rules
        rules = parse(stylesheet, css, read_from, is_default_rules, tie_breaker, scope)
        if variables and self._textual:  # else not a parse this knows how to key
            try:
                self.keep(key, pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL))
            except Exception:  # noqa: BLE001 - rules pickle cannot write: parsed every time
                return rules
            self.compiled += 1
        return rules

    def attach(self) -> bool:
        """Make Textual parse stylesheets through this cache; False where it cannot."""
        original = getattr(Stylesheet, "_parse_rules", None)
        if original is None or self._original is not None:
            return False
        self._original = original
        cache = self

        def _parse_rules(stylesheet: Stylesheet, *args: Any, **kwargs: Any) -> list[Any]:
            return cache.parse_rules(stylesheet, *args, **kwargs)

        Stylesheet._parse_rules = _parse_rules  # type: ignore[method-assign, assignment]
        return True

    def detach(self) -> None:
        """Give Textual its own parse back."""
        if self._original is not None:
            Stylesheet._parse_rules = self._original  # type: ignore[method-assign]
        self._original = None


_installed: Installed[CssCache] = Installed(CssCache, cache_file)
install = _installed.install
"""Load the cache and make Textual parse stylesheets through it (until ``uninstall``)."""
uninstall = _installed.uninstall
"""Textual parses on its own again."""


def save_installed() -> None:
    """Save the installed cache, if there is one, and uninstall it (the TUI calls it after its
    first screen: a later parse, of another theme say, need not be pickled for nothing)."""
    _installed.save(uninstall=True)
