"""Branches: the messages of a transcript as a tree, and the path that is current.

Every message record names its ``parent`` (the message it follows). Editing an
earlier prompt or regenerating an answer adds a sibling, never rewrites: each
version stays in the file. A ``head`` record says which message the user went
back to; without one, the head is the newest message. Records written before
branches existed have no ``id``/``parent``: each then follows the one before
it and gets the id ``#n`` (its place in the file), so old files read as one
branch and keep the same ids every time they are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the codec holds a Tree: importing it here at run time would be a cycle
    from tui.core.transcript.codec import Entry, Note

LEGACY_ID = "#{}"
"""The id of the n-th message of a file written before messages had ids."""


@dataclass(frozen=True)
class Fork:
    """Where the current path has siblings: at ``node``, version ``index`` of ``count``."""

    node: str
    index: int
    count: int


@dataclass
class Tree:
    """All messages of a conversation, each with its parent; ``head`` ends the current path."""

    nodes: dict[str, Entry] = field(default_factory=dict)
    """Every message by id, in file order (a dict keeps insertion order)."""
    children: dict[str | None, list[str]] = field(default_factory=dict)
    """Ids of each message's children, oldest first (key None: the first messages)."""
    head: str | None = None
    notes: list[Note] = field(default_factory=list)
    """Every note, each with the id of the message it follows (``Note.after``)."""

    def add(self, entry: Entry) -> None:
        """Add a new message (its ``id`` unseen so far); it becomes the head."""
        self.nodes[entry.id] = entry
        self.children.setdefault(entry.parent, []).append(entry.id)
        self.head = entry.id

    def replace(self, node: str, entry: Entry) -> None:
        """Swap the stored entry of ``node`` (a streamed answer finalized); same place."""
        old = self.nodes[node]
        entry.id, entry.parent = old.id, old.parent
        self.nodes[node] = entry

    def path(self, head: str | None = None) -> list[Entry]:
        """The messages from the first one down to ``head`` (default: the current head)."""
        out: list[Entry] = []
        node = self.head if head is None else head
        seen: set[str] = set()
        while node is not None and node in self.nodes and node not in seen:
            seen.add(node)  # a hand-edited file could hold a cycle
            entry = self.nodes[node]
            out.append(entry)
            node = entry.parent
        out.reverse()
        return out

    def siblings(self, node: str) -> list[str]:
        """The versions at ``node``'s place (itself included), oldest first."""
        entry = self.nodes.get(node)
        return list(self.children.get(entry.parent, [])) if entry is not None else []

    def leaf(self, node: str) -> str:
        """The newest message below ``node`` following the newest child at each step."""
        seen = {node}
        while kids := [k for k in self.children.get(node, []) if k not in seen]:
            node = kids[-1]
            seen.add(node)
        return node

    def forks(self, head: str | None = None) -> list[Fork]:
        """Every message on the path that has siblings, top down."""
        out: list[Fork] = []
        for entry in self.path(head):
            versions = self.siblings(entry.id)
            if len(versions) > 1:
                out.append(Fork(entry.id, versions.index(entry.id) + 1, len(versions)))
        return out

    def leaves(self) -> list[str]:
        """Ids of every branch's last message, in file order."""
        return [node for node in self.nodes if not self.children.get(node)]

    def notes_on(self, path: list[Entry]) -> list[Note]:
        """The notes that follow a message of ``path`` (or none), positioned on it."""
        place: dict[str | None, int] = {None: 0}  # None: a note before the first message
        place.update((entry.id, i + 1) for i, entry in enumerate(path))
        return [replace(n, position=place[n.after]) for n in self.notes if n.after in place]

    @property
    def branched(self) -> bool:
        """Whether any message has more than one version."""
        return any(len(kids) > 1 for kids in self.children.values())
