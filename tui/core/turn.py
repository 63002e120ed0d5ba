"""What one turn of the session yields, besides the provider's own events: ``SessionEvent``.

A turn (``Session.send``) yields, in order: ``StepStarted`` before every model request;
the provider's events (sanitized); ``CallReady`` when a call's arguments are complete;
``ApprovalNeeded``, ``ToolProgress`` and ``ToolOutput`` while calls are approved and run;
``ToolRan`` after each; one ``Usage`` per request (and ``PriceUnknown`` once);
``RequestFailed`` when a request fails; and finally ``TurnEnded`` with a ``TurnStatus``.
Pipe mode and the TUI both render from this union with ``match``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeAlias, get_args

from providers.conversation import AssistantMessage, ToolCall, ToolResult
from providers.errors import ProviderError
from providers.events import FinishReason, StreamEvent
from tui.core.tools.prepared import PreparedCall


@dataclass(frozen=True, slots=True)
class Approval:
    """The user's answer to an approval prompt."""

    decision: Literal["yes", "no", "always"]
    reason: str | None = None


Approver: TypeAlias = Callable[[PreparedCall], Awaitable[Approval]]
"""Asked for every call that needs approval; answers with the user's ``Approval``."""


@dataclass(frozen=True, slots=True)
class StepStarted:
    """A model request is about to go out (step 1 is the user's prompt)."""

    step: int


@dataclass(frozen=True, slots=True)
class CallReady:
    """A call's arguments are complete: parsed, or marked invalid with ``call.error``."""

    index: int
    call: ToolCall


@dataclass(frozen=True, slots=True)
class ApprovalNeeded:
    """A call waits for the user's approval (the approver is being asked)."""

    index: int
    prepared: PreparedCall


@dataclass(frozen=True, slots=True)
class ToolRan:
    """A call was run, refused or rejected; ``result`` goes back to the model."""

    index: int
    call: ToolCall
    result: ToolResult


@dataclass(frozen=True, slots=True)
class ToolProgress:
    """A running call reported progress (MCP ``notifications/progress``)."""

    index: int
    progress: float
    total: float | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """Output of a running command, as it arrives (decoded, not yet sanitized)."""

    index: int
    call_id: str
    text: str


@dataclass(frozen=True, slots=True)
class RequestFailed:
    """A request failed; ``partial`` is what arrived before (kept, marked failed)."""

    error: ProviderError
    partial: AssistantMessage


class TurnStatus(StrEnum):
    """How a turn ended: the model's finish reason, or why the loop stopped it."""

    STOP = "stop"
    TOOL_CALLS = "tool_calls"
    LENGTH = "length"
    CONTENT_FILTER = "content_filter"
    REFUSAL = "refusal"
    PAUSE = "pause"
    OTHER = "other"
    INCOMPLETE = "incomplete"
    """The answer arrived without a finish reason."""
    MAX_STEPS = "max_steps"
    """The loop made ``max_steps`` requests and stopped."""
    FAILED = "failed"
    """A request failed (a provider error)."""
    CANCELLED = "cancelled"
    """The user stopped the turn (set by the front end)."""
    ERROR = "error"
    """An unexpected exception ended the turn (set by the front end)."""

    @classmethod
    def finished(cls, reason: FinishReason | None) -> TurnStatus:
        """The status for an answer that finished with ``reason``."""
        return cls.INCOMPLETE if reason is None else cls(reason)

    @property
    def model_finished(self) -> bool:
        """The model ended the answer itself (any finish reason)."""
        return self.value in get_args(FinishReason)

    @property
    def ran_to_an_end(self) -> bool:
        """The turn ended on its own: the model finished, or the loop reached ``max_steps``."""
        return self.model_finished or self is TurnStatus.MAX_STEPS

    @property
    def cut_short(self) -> bool:
        """A failure, the user or a bug ended the turn; its last request may be sent again."""
        return self in (TurnStatus.FAILED, TurnStatus.CANCELLED, TurnStatus.ERROR)


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The turn is over: ``status`` says how."""

    status: TurnStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PriceUnknown:
    """Costs cannot be shown for this model; ``reason`` says why (given once)."""

    reason: str


SessionEvent: TypeAlias = (
    StreamEvent
    | StepStarted
    | CallReady
    | ApprovalNeeded
    | ToolProgress
    | ToolOutput
    | ToolRan
    | RequestFailed
    | TurnEnded
    | PriceUnknown
)
