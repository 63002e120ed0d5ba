"""Reply bodies for the loopback server that wait for the test between chunks.

``Gated`` is a sequence of body chunks the server thread iterates; before the
chunk at each gate it blocks until the test opens that gate. A test can so
hold a response open after a chosen chunk and check what the client already
did with the bytes it has (liveness: nothing held back for the next read).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import overload


class Gated(Sequence[bytes]):
    """Body chunks with gates: ``Gated([a, b, c], at=[1])`` waits before sending ``b``.

    Args:
        chunks: the HTTP chunks of the body.
        at: indexes of the chunks that wait for their gate.
        limit: seconds a gate waits at most (the response then goes on).
    """

    def __init__(self, chunks: Sequence[bytes], at: Sequence[int], limit: float = 10.0) -> None:
        self._chunks = list(chunks)
        self.gates = {index: threading.Event() for index in at}
        self.reached = {index: threading.Event() for index in at}
        self._limit = limit

    def open(self, index: int) -> None:
        """Let the chunk at ``index`` go."""
        self.gates[index].set()

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self._chunks):
            if index in self.gates:
                self.reached[index].set()
                self.gates[index].wait(self._limit)
            yield chunk

    def __len__(self) -> int:
        return len(self._chunks)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        return self._chunks[index]
