"""A tool call's argument text while it streams, for its card: parsed once a frame, routed.

Fragments are pushed to ``PartialJSON`` (an append, O(1)) and parsed together once a frame
(``pull``). The growth of one long string argument (``save_file``'s ``content``, or an MCP
tool's first ``CODE_KEYS`` argument) is kept as the new characters only (``pending``), with
its size and line count; a path-like argument (``PATH_KEYS``) is kept for the header and
the code view's language. Nothing here draws: ``ToolCard`` applies it once a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tui.core.partial_json import Growth, PartialJSON, PartialJSONError
from tui.core.units import human_size

CODE_KEYS = frozenset(
    {"content", "code", "text", "body", "query", "patch", "diff", "source", "script", "sql"}
)
"""Argument names whose string value an MCP call's card shows in the code view."""
PATH_KEYS = ("path", "file_path", "filename", "file", "filepath")
"""Arguments that name a file: the code view's language is guessed from the first one."""
LANGUAGE_BY_KEY = {"query": "query.sql", "sql": "query.sql", "patch": "a.diff", "diff": "a.diff"}
"""Without a path argument, a language guessed from the long argument's name."""


class LiveArguments:
    """The streamed arguments of one call: the parser, the long argument's growth, the path.

    Args:
        name: the tool's name: ``save_file`` shows ``content``; an MCP tool (``mcp__``)
            shows its first long string argument; other tools route nothing.
        clock: seconds, for the write rate.
    """

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        self.json = PartialJSON()
        self.error: str | None = None
        """Why the text stopped being JSON (the live view stops there), or None."""
        self.raw_chars = 0
        self.code_key: str | None = "content" if name == "save_file" else None
        """The argument shown in the code view, once known."""
        self._routes = name == "save_file" or name.startswith("mcp__")
        self._clock = clock
        self._path_parts: list[str] = []
        self.path_known = False
        """The path string is complete (its language can be chosen)."""
        self.pending: list[str] = []
        """The long argument's characters not yet shown."""
        self.bytes = 0
        self.lines = 0
        self._first_content: float | None = None

    @property
    def path(self) -> str:
        """The path argument as far as it is known ("" before)."""
        if len(self._path_parts) > 1:
            self._path_parts[:] = ["".join(self._path_parts)]
        return self._path_parts[0] if self._path_parts else ""

    def push(self, fragment: str) -> None:
        """Take one raw fragment (O(1): parsed by the next ``pull``)."""
        self.raw_chars += len(fragment)
        if self.error is None:
            self.json.push(fragment)

    def pull(self) -> list[Growth] | None:
        """Parse what was pushed since the last frame; None once the text is not JSON."""
        if self.error is not None:
            return None
        try:
            return self.json.pull()
        except PartialJSONError as exc:
            self.error = exc.msg  # the live view stops here; the call fails when it ends
            return None

    def route(self, growth: list[Growth]) -> bool:
        """Keep the long argument's and the path's growth; True when the long one appears."""
        if not self._routes:
            return False
        found = False
        for path, text in growth:
            if self.code_key is None and len(path) == 1 and path[0] in CODE_KEYS:
                self.code_key = str(path[0])
                found = True
            if path == (self.code_key,):
                self._add_content(text)
            elif len(path) == 1 and path[0] in PATH_KEYS:
                self._path_parts.append(text)
                continue
            if self._path_parts:  # another value grows after the path: the path is whole
                self.path_known = True
        return found

    def _add_content(self, text: str) -> None:
        if self._first_content is None:
            self._first_content = self._clock()
        self.pending.append(text)
        self.bytes += len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
        self.lines += text.count("\n")

    def take_pending(self) -> str:
        """The long argument's new characters since the last call."""
        text = "".join(self.pending)
        self.pending.clear()
        return text

    def language_path(self) -> str:
        """What the code view's language is guessed from: the path, or the argument's name."""
        return self.path or LANGUAGE_BY_KEY.get(self.code_key or "", "")

    def rate(self) -> str:
        """The long argument's write rate so far ("" until it has run 0.2 s)."""
        if self._first_content is None:
            return ""
        elapsed = self._clock() - self._first_content
        return f"{human_size(int(self.bytes / elapsed))}/s" if elapsed >= 0.2 else ""

    def complete(self, arguments: Mapping[str, Any]) -> str | None:
        """Take the complete arguments: the whole path, and the long argument (returned)."""
        path = next((arguments[k] for k in PATH_KEYS if isinstance(arguments.get(k), str)), None)
        if isinstance(path, str):
            self._path_parts[:] = [path]
            self.path_known = True
        content = arguments.get(self.code_key or "content")
        if not isinstance(content, str):
            return None
        self.bytes = len(content.encode("utf-8", "replace"))
        return content

    def release_parser(self) -> None:
        """Drop the parser once the call holds the arguments.

        It keeps every fragment it was fed (a 200 KB file in 4-character fragments: 50,000
        strings, 3.3 MB) for as long as the card stays on screen.
        """
        self.json = PartialJSON()
