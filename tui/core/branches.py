"""Going back in a conversation without losing anything: edit, regenerate, switch branches.

The transcript file is the truth: each operation loads it, moves the writer's
head (the message the next one follows) and gives the session the history of
the branch it lands on. Editing a prompt and regenerating an answer only
rewind; the next message written starts the new branch. A switch writes a
``head`` record, so a resumed conversation continues the branch that was
current. None of this runs while a turn is streaming (the front end checks).
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.conversation import UserMessage
from tui.core.session import Session
from tui.core.transcript import (
    Transcript,
    TranscriptWriter,
    load,
    request_history,
)
from tui.core.transcript.replay import on_branch

__all__ = [
    "Branch",
    "BranchError",
    "branch_list",
    "Prompt",
    "current",
    "edit",
    "prompts",
    "regenerate",
    "request_history",
    "step",
    "switch",
]


class BranchError(Exception):
    """The operation does not apply here (no such message, nothing to regenerate...)."""


@dataclass(frozen=True)
class Prompt:
    """A prompt of the current branch: its message id, its number there, its text."""

    node: str
    number: int
    text: str


@dataclass(frozen=True)
class Branch:
    """One branch of the conversation, for a list: where it ends and what it asked last."""

    leaf: str
    number: int
    last_prompt: str
    length: int
    current: bool


def branch_list(writer: TranscriptWriter) -> list[Branch]:
    """Every branch, oldest first; ``current`` marks the one the writer continues."""
    tree = load(writer.path).tree
    on_path = {entry.id for entry in tree.path(writer.head)} if writer.head else set()
    out: list[Branch] = []
    for number, leaf in enumerate(tree.leaves(), 1):
        path = tree.path(leaf)
        asked = [e.message.text for e in path if isinstance(e.message, UserMessage)]
        last = asked[-1] if asked else ""
        out.append(Branch(leaf, number, last, len(path), leaf in on_path))
    return out


def current(writer: TranscriptWriter) -> Transcript:
    """The conversation as saved, on its current branch."""
    return on_branch(load(writer.path), writer.head)


def prompts(writer: TranscriptWriter) -> list[Prompt]:
    """The user's prompts on the current branch, first to last."""
    found: list[Prompt] = []
    for entry in current(writer).entries:
        if isinstance(entry.message, UserMessage):
            found.append(Prompt(entry.id, len(found) + 1, entry.message.text))
    return found


def edit(writer: TranscriptWriter, session: Session, node: str) -> tuple[Transcript, str]:
    """Go back to just before the prompt ``node``; the next prompt sent is its new version.

    Returns:
        The conversation up to that point, and the prompt's old text (to edit).

    Raises:
        BranchError: ``node`` is not a prompt of this conversation.
    """
    saved = load(writer.path)
    entry = saved.tree.nodes.get(node)
    if entry is None or not isinstance(entry.message, UserMessage):
        raise BranchError("no such prompt in this conversation")
    return _move(writer, session, saved, entry.parent), entry.message.text


def regenerate(writer: TranscriptWriter, session: Session) -> Transcript:
    """Go back to the last prompt of the current branch; the next answer is a new version.

    Raises:
        BranchError: the branch has no prompt yet.
    """
    saved = on_branch(load(writer.path), writer.head)
    last = next((e for e in reversed(saved.entries) if isinstance(e.message, UserMessage)), None)
    if last is None:
        raise BranchError("nothing to regenerate yet")
    return _move(writer, session, saved, last.id)


def switch(writer: TranscriptWriter, session: Session, node: str) -> Transcript:
    """Make the branch through ``node`` current (down to its newest message), and record it.

    Raises:
        BranchError: ``node`` is not a message of this conversation.
    """
    saved = load(writer.path)
    if node not in saved.tree.nodes:
        raise BranchError("no such message in this conversation")
    leaf = saved.tree.leaf(node)
    writer.select(leaf)
    return _move(writer, session, saved, leaf)


def step(writer: TranscriptWriter, session: Session, delta: int) -> Transcript:
    """Show the previous (-1) or next (+1) version at the last fork of the current branch.

    Raises:
        BranchError: the branch has no fork, or it is already the first or last version.
    """
    saved = on_branch(load(writer.path), writer.head)
    forks = saved.tree.forks(writer.head)
    if not forks:
        raise BranchError("this conversation has no other branch here")
    fork = forks[-1]
    target = fork.index - 1 + delta
    if not 0 <= target < fork.count:
        raise BranchError(f"already at version {fork.index} of {fork.count}")
    return switch(writer, session, saved.tree.siblings(fork.node)[target])


def _move(
    writer: TranscriptWriter, session: Session, saved: Transcript, head: str | None
) -> Transcript:
    writer.rewind(head)
    view = on_branch(saved, head)
    session.history[:] = list(request_history(view.entries))
    return view
