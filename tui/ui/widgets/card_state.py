"""Where a tool card is in its life: ``CardState``, the word its header shows, which are open.

The states (``ToolCard.state``; each is also a ``-state`` CSS class)::

    receiving --first argument bytes--> streaming --CallReady--> ready
    ready --ApprovalNeeded--> approval --y/a--> running --ToolRan--> done | failed
                                       --n----> refused --ToolRan--> refused
    ready --(no approval needed)--> running --ToolRan--> done | failed
    ready (call.error) --> invalid --ToolRan--> failed
    any state before a result --Escape--> cancelled
    (from a transcript) a call cut short by its turn's end --> cancelled, its arguments so far shown
"""

from __future__ import annotations

from enum import StrEnum


class CardState(StrEnum):
    """Where a card is in its life (see the module docstring); also its ``-state`` CSS class."""

    RECEIVING = "receiving"
    STREAMING = "streaming"
    READY = "ready"
    APPROVAL = "approval"
    RUNNING = "running"
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"
    INVALID = "invalid"
    CANCELLED = "cancelled"


LABELS = {
    CardState.RECEIVING: "receiving…",
    CardState.STREAMING: "streaming",
    CardState.READY: "complete",
    CardState.APPROVAL: "waiting for approval",
    CardState.RUNNING: "running",
    CardState.DONE: "done",
    CardState.REFUSED: "refused",
    CardState.FAILED: "failed",
    CardState.INVALID: "invalid arguments",
    CardState.CANCELLED: "cancelled",
}
"""The word the header shows for each state."""
OPEN_STATES = frozenset(
    {
        CardState.RECEIVING,
        CardState.STREAMING,
        CardState.READY,
        CardState.APPROVAL,
        CardState.RUNNING,
    }
)
"""States in which the call may still change: a cancelled turn marks them cancelled."""
