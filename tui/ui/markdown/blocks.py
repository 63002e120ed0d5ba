"""Cutting streamed Markdown into top-level blocks, a complete line at a time.

A blank line outside a fenced code block ends a block, unless the next line is indented
(list continuations, nested lists, indented code stay with their block). A fence (backticks
or tildes, closed by the same character at least as long) or an ATX heading at column 0 is
a block of its own. Tables and tight lists have no blank lines, so they stay whole. Each
append costs O(len(fragment)). Used by ``markdown.document``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PIECE_CHARS = 2_000
"""Size of a preview piece of the open block (rendered once when full)."""
EXACT_CHARS = 16_000
"""Largest block rendered whole when it ends; a bigger one keeps its preview pieces."""
PARTIAL_CHARS = 8_000
"""Most characters of an unfinished line previewed (its tail)."""

FENCE_OPEN = re.compile(r"([ \t]*)(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*")
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
TABLE_RULE = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")


# -- splitting --------------------------------------------------------------------------------


@dataclass
class _Cut:
    """Where a preview piece of the open block starts, with the context it needs."""

    line: int
    close_before: str = ""  # appended to the previous piece (a fence closer)
    prefix: str = ""  # prepended to this piece (the fence opener, a table's header)


class BlockSplitter:
    """Cuts Markdown into top-level blocks incrementally (see the module docstring).

    ``blocks`` holds the finished blocks' sources; ``pieces()`` gives the open block's
    preview pieces. Only complete lines are classified, so the result does not depend on
    how the text was cut into fragments.
    """

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.block_pieces: list[list[str] | None] = []
        """Per finished block: its pieces if bigger than ``EXACT_CHARS``, else None."""
        self._partial: list[str] = []  # fragments of the unfinished line
        self._reset()

    def _reset(self) -> None:
        self._lines: list[str] = []  # complete lines of the open block
        self._fence: tuple[str, int, bool, str] | None = None  # char, length, column 0, opener
        self._blanks = 0  # blank lines seen after the open block's last line
        self._cuts: list[_Cut] = [_Cut(0)]
        self._piece_chars = 0
        self._table: str | None = None  # header and rule of the table being read
        self._previous = ""

    def feed(self, text: str) -> None:
        """Take the next fragment (any size, cut anywhere): O(len(text))."""
        if "\n" not in text:
            if text:
                self._partial.append(text)
                if self._blanks and len(self._partial) == 1 and text[0] not in " \t":
                    self._end()
            return
        lines = text.split("\n")
        self._partial.append(lines[0])
        self._line("".join(self._partial))
        for line in lines[1:-1]:
            self._line(line)
        self._partial = [lines[-1]] if lines[-1] else []
        if self._blanks and self._partial and self._partial[0][0] not in " \t":
            self._end()  # a blank line, then column 0: the block is over, whatever follows

    def close(self) -> None:
        """The source ended: the unfinished line and the open block are finished."""
        partial = "".join(self._partial)
        self._partial = []
        if partial.strip():
            self._line(partial)
        self._end()

    def pieces(self) -> list[str]:
        """The open block's preview pieces; the last one holds the unfinished line."""
        partial = "".join(self._partial)
        if len(partial) > PARTIAL_CHARS:
            partial = partial[-PARTIAL_CHARS:]
        return self._pieces(partial if partial.strip() else "")

    def _pieces(self, partial: str = "") -> list[str]:
        lines, cuts = self._lines, self._cuts
        out: list[str] = []
        for index, cut in enumerate(cuts):
            last = index + 1 == len(cuts)
            body = "\n".join(lines[cut.line : len(lines) if last else cuts[index + 1].line])
            if last and partial:
                gap = "\n" * (self._blanks + 1) if body else ""
                body = f"{body}{gap}{partial}"
            if body:
                out.append(cut.prefix + body + ("" if last else cuts[index + 1].close_before))
        return out

    def _line(self, line: str) -> None:
        fence = self._fence
        if fence is not None:
            closing = _FENCE_CLOSE.fullmatch(line)
            if closing and closing[1][0] == fence[0] and len(closing[1]) >= fence[1]:
                self._fence = None
                self._add(line)
                if fence[2]:
                    self._end()
            else:
                self._add(line)
            return
        if not line.strip():
            if self._lines:
                self._blanks += 1
            self._table = None
            return
        opening = FENCE_OPEN.fullmatch(line)
        if opening and opening[2][0] == "`" and "`" in opening[3]:
            opening = None  # a backtick fence's info string has no backtick
        heading = _HEADING.match(line) is not None
        alone = heading or (opening is not None and not opening[1])
        if self._blanks:
            if line[0] in " \t" and not alone:  # an indented line continues the block
                for _ in range(self._blanks):
                    self._add("")
            else:
                self._end()
            self._blanks = 0
        elif alone:
            self._end()
        if opening is not None:
            self._fence = (opening[2][0], len(opening[2]), not opening[1], line.lstrip())
        self._add(line)
        if heading:
            self._end()

    def _add(self, line: str) -> None:
        """Append a line to the open block; start a new preview piece when one is full."""
        if self._fence is None:
            if "|" in line and "|" in self._previous and TABLE_RULE.fullmatch(line):
                self._table = f"{self._previous}\n{line}\n"
            elif "|" not in line:
                self._table = None
        self._previous = line
        self._lines.append(line)
        self._piece_chars += len(line) + 1
        if self._piece_chars >= PIECE_CHARS:
            self._piece_chars = 0
            cut = _Cut(len(self._lines))
            if self._fence is not None:
                char, length, _, opener = self._fence
                cut.close_before, cut.prefix = "\n" + char * length, opener + "\n"
            elif self._table is not None:
                cut.prefix = self._table
            self._cuts.append(cut)

    def _end(self) -> None:
        if self._lines:
            source = "\n".join(self._lines)
            self.blocks.append(source)
            self.block_pieces.append(None if len(source) <= EXACT_CHARS else self._pieces())
        self._reset()
