"""Conway's Game of Life in the terminal.

Run it with ``python life.py`` and watch a random colony evolve. Press
Ctrl+C to stop. Everything here uses only the standard library.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

Cell = tuple[int, int]

ALIVE = "█"
DEAD = " "
NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]

PATTERNS: dict[str, list[str]] = {
    "glider": [
        ".#.",
        "..#",
        "###",
    ],
    "pulsar": [
        "..###...###..",
        ".............",
        "#....#.#....#",
        "#....#.#....#",
        "#....#.#....#",
        "..###...###..",
        ".............",
        "..###...###..",
        "#....#.#....#",
        "#....#.#....#",
        "#....#.#....#",
        ".............",
        "..###...###..",
    ],
    "acorn": [
        ".#.....",
        "...#...",
        "##..###",
    ],
}


@dataclass
class Board:
    """A finite board that wraps around at the edges (a torus)."""

    width: int
    height: int
    alive: set[Cell] = field(default_factory=set)
    generation: int = 0

    @classmethod
    def random(cls, width: int, height: int, density: float = 0.25) -> "Board":
        """A board where each cell is alive with probability ``density``."""
        cells = {
            (x, y)
            for y in range(height)
            for x in range(width)
            if random.random() < density
        }
        return cls(width, height, cells)

    @classmethod
    def from_pattern(cls, name: str, width: int, height: int) -> "Board":
        """A board with a named pattern placed in the middle."""
        rows = PATTERNS[name]
        top = (height - len(rows)) // 2
        left = (width - len(rows[0])) // 2
        cells = {
            (left + x, top + y)
            for y, row in enumerate(rows)
            for x, char in enumerate(row)
            if char == "#"
        }
        return cls(width, height, cells)

    def wrap(self, cell: Cell) -> Cell:
        """The cell's position on the torus."""
        x, y = cell
        return x % self.width, y % self.height

    def neighbours(self, cell: Cell) -> Iterator[Cell]:
        """The eight cells around ``cell``."""
        x, y = cell
        for dx, dy in NEIGHBOURS:
            yield self.wrap((x + dx, y + dy))

    def step(self) -> None:
        """Advance one generation by the classic B3/S23 rules."""
        counts = Counter(n for cell in self.alive for n in self.neighbours(cell))
        self.alive = {
            cell
            for cell, count in counts.items()
            if count == 3 or (count == 2 and cell in self.alive)
        }
        self.generation += 1

    def rows(self) -> Iterable[str]:
        """The board as lines of text."""
        for y in range(self.height):
            yield "".join(
                ALIVE if (x, y) in self.alive else DEAD for x in range(self.width)
            )

    @property
    def population(self) -> int:
        """How many cells are alive."""
        return len(self.alive)


def terminal_size() -> tuple[int, int]:
    """Columns and rows available for the board (leaving a status line)."""
    size = shutil.get_terminal_size((80, 24))
    return max(size.columns, 10), max(size.lines - 2, 5)


def render(board: Board) -> str:
    """One frame: move home, draw the board and a status line."""
    status = f" generation {board.generation}  population {board.population} "
    return "\x1b[H" + "\n".join(board.rows()) + "\n" + status.ljust(board.width)


def run(board: Board, delay: float, generations: int | None) -> None:
    """Animate ``board`` until Ctrl+C or ``generations`` have passed."""
    sys.stdout.write("\x1b[2J\x1b[?25l")
    try:
        while generations is None or board.generation < generations:
            sys.stdout.write(render(board))
            sys.stdout.flush()
            board.step()
            time.sleep(delay)
    except KeyboardInterrupt:
        pass
    finally:
        sys.stdout.write("\x1b[?25h\n")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pattern", choices=sorted(PATTERNS), help="start from a pattern")
    parser.add_argument("--density", type=float, default=0.25, help="random fill (0-1)")
    parser.add_argument("--delay", type=float, default=0.08, help="seconds per frame")
    parser.add_argument("--generations", type=int, help="stop after this many")
    parser.add_argument("--seed", type=int, help="random seed, for repeatable runs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.seed is not None:
        random.seed(args.seed)
    width, height = terminal_size()
    if args.pattern:
        board = Board.from_pattern(args.pattern, width, height)
    else:
        board = Board.random(width, height, args.density)
    if os.name == "nt":
        os.system("")  # enables escape sequences in the Windows console
    run(board, args.delay, args.generations)
    return 0


if __name__ == "__main__":
    sys.exit(main())
