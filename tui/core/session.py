"""The conversation and its tool loop, shared by pipe mode and the TUI.

``Session.send(prompt)`` runs one user turn as an async generator of ``SessionEvent``
(``tui.core.turn`` lists them in the order they come): the provider's own events, already
sanitized, with the session's own events between them. The UI decides nothing about
execution: calls are validated, approved (through the ``approver`` callback) and run here.

Durability: the user's message reaches the transcript before the request goes
out; the streaming answer is checkpointed about once a second and finalized
as complete, failed or cancelled, so nothing typed or streamed is lost.

The pieces: ``tui.core.turn`` (the events a turn yields), ``tui.core.response`` (one
response: sanitize, accumulate, bound, checkpoint) and this module (the request/tool loop).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Protocol

from providers.conversation import (
    AssistantMessage,
    ChatRequest,
    ImagePart,
    Message,
    Reasoning,
    TextPart,
    ToolCall,
    ToolResult,
    UserMessage,
)
from providers.errors import ProviderError
from providers.events import StreamEvent
from tui.core.pricing import Pricer
from tui.core.response import ResponseStream, TranscriptSink, argument_limit
from tui.core.tools.prepared import PreparedCall
from tui.core.tools.registry import ToolRegistry
from tui.core.transcript.codec import EntryStatus
from tui.core.turn import (
    Approval,
    ApprovalNeeded,
    Approver,
    CallReady,
    PriceUnknown,
    RequestFailed,
    SessionEvent,
    StepStarted,
    ToolOutput,
    ToolProgress,
    ToolRan,
    TurnEnded,
    TurnStatus,
)

# The events and the transcript protocol live in their own modules; callers may keep
# importing them from here.
__all__ = [
    "Approval",
    "ApprovalNeeded",
    "Approver",
    "CallReady",
    "PriceUnknown",
    "RequestFailed",
    "Session",
    "SessionEvent",
    "StepStarted",
    "StreamingProvider",
    "ToolOutput",
    "ToolProgress",
    "ToolRan",
    "TranscriptSink",
    "TurnEnded",
    "TurnStatus",
    "argument_limit",
    "merged_prompts",
    "refuse_all",
]

MAX_PREPARES = 3
"""Times a call whose file keeps changing under it is prepared before its error stands."""


class StreamingProvider(Protocol):
    """What the session needs from a provider adapter."""

    @property
    def kind(self) -> str:
        """The wire format's name (an adapter's class attribute)."""
        ...

    def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]: ...


def merged_prompts(history: Sequence[Message]) -> tuple[Message, ...]:
    """The history as sent: prompts left without an answer join the next one.

    A turn cancelled or failed before any output leaves its prompt unanswered;
    APIs expect user and assistant turns to alternate, so consecutive prompts
    are sent as one (the transcript keeps them apart).
    """
    out: list[Message] = []
    for message in history:
        last = out[-1] if out else None
        if isinstance(message, UserMessage) and isinstance(last, UserMessage):
            out[-1] = UserMessage(f"{last.text}\n\n{message.text}", last.images + message.images)
        else:
            out.append(message)
    return tuple(out)


async def refuse_all(prepared: PreparedCall) -> Approval:
    """The approver with nobody to ask: fail closed."""
    return Approval("no", "no one was available to approve it (run with --yes to allow)")


@dataclass
class Session:
    """One conversation: its history, its provider and its tools.

    Args:
        provider: the adapter requests go to (may be swapped between turns).
        tools: the registry that validates, confines and runs calls.
        transcript: where everything is saved as it happens (None: not saved).
        approver: asked for every call that needs approval.
        system: the system prompt.
        max_steps: model requests per user turn before the loop stops.
        history: earlier messages (a resumed transcript).
        max_tokens: the output token cap sent with each request, or None.
        reasoning: the reasoning effort sent with each request, or None.
        pricer: prices each request's usage (None: no costs).
    """

    provider: StreamingProvider
    tools: ToolRegistry
    transcript: TranscriptSink | None = None
    approver: Approver = refuse_all
    system: str | None = None
    max_steps: int = 25
    history: list[Message] = field(default_factory=list)
    max_tokens: int | None = None
    reasoning: Reasoning | None = None
    pricer: Pricer | None = None

    async def send(
        self, prompt: str, images: Sequence[ImagePart] = ()
    ) -> AsyncIterator[SessionEvent]:
        """Run one user turn: save the prompt (and its images), then the request/tool loop."""
        message = UserMessage(prompt, tuple(images))
        self.history.append(message)
        if self.transcript is not None:
            self.transcript.append_user(message)
        async with aclosing(self._loop()) as events:
            async for event in events:
                yield event

    async def retry(self) -> AsyncIterator[SessionEvent]:
        """Run the last turn's request again (after a failure or cancel)."""
        while self.history and isinstance(self.history[-1], AssistantMessage):
            self.history.pop()  # the kept partial of the failed attempt
        async with aclosing(self._loop()) as events:
            async for event in events:
                yield event

    async def _loop(self) -> AsyncGenerator[SessionEvent, None]:
        # Each inner generator is closed by ``aclosing`` the moment this one is: a turn closed
        # from outside (the UI's own ``aclosing``) finalizes its answer now, not whenever the
        # garbage collector gets to the abandoned generator.
        for step in range(1, self.max_steps + 1):
            yield StepStarted(step)
            outcome: list[AssistantMessage | None] = [None]
            async with aclosing(self._request(outcome)) as events:
                async for event in events:
                    yield event
            message = outcome[0]
            if message is None:
                return  # failed or cancelled: _request said so
            if not message.tool_calls:
                yield TurnEnded(TurnStatus.finished(message.finish_reason))
                return
            async with aclosing(self._run_calls(message.tool_calls)) as ran:
                async for event in ran:
                    yield event
        self._note("error", f"stopped after {self.max_steps} model requests (max_steps)")
        yield TurnEnded(TurnStatus.MAX_STEPS, f"stopped after {self.max_steps} model requests")

    async def _request(
        self, outcome: list[AssistantMessage | None]
    ) -> AsyncGenerator[SessionEvent, None]:
        await self.tools.refresh()
        request = self._chat_request()
        stream = ResponseStream(self.provider.kind, self.transcript, self.max_arguments)
        if self.pricer is not None:
            self.pricer.warm()
        try:
            async with aclosing(self.provider.stream(request)) as events:
                async for event in events:
                    for clean in stream.add(event):
                        yield clean
        except ProviderError as err:
            # A failed attempt may be billed (OpenRouter reports it).
            partial = await self._priced_close(stream, "failed", str(err))
            self._keep_partial(partial)
            for note in self._usage_events(partial):
                yield note
            yield RequestFailed(err, partial)
            yield TurnEnded(TurnStatus.FAILED, str(err))
            return
        except (asyncio.CancelledError, GeneratorExit):  # cancelled, or closed from outside
            self._keep_partial(stream.close("cancelled", None))
            raise
        message = await self._priced_close(stream, "complete", None)
        self.history.append(message)
        for note in self._usage_events(message):
            yield note
        outcome[0] = message

    def _chat_request(self) -> ChatRequest:
        """The next request: the history as sent, and this session's settings."""
        return ChatRequest(
            messages=merged_prompts(self.history),
            system=self.system,
            tools=self.tools.specs(),
            max_tokens=self.max_tokens,
            reasoning=self.reasoning,
        )

    async def _priced_close(
        self, stream: ResponseStream, status: EntryStatus, error: str | None
    ) -> AssistantMessage:
        """Price the request, then finalize its answer (also when cancelled while pricing)."""
        try:
            await self._price(stream)
        except asyncio.CancelledError:
            self._keep_partial(stream.close("cancelled" if status == "complete" else status, error))
            raise
        return stream.close(status, error)

    async def _price(self, stream: ResponseStream) -> None:
        """Put the request's cost on its folded usage (off the loop: the table loads once)."""
        usage = stream.acc.usage
        if usage is None or self.pricer is None:
            return
        if self.pricer.needs_table:
            cost = await asyncio.to_thread(self.pricer.cost, usage)
        else:  # known without the table: a thread hop would let a frame in before the end
            cost = self.pricer.cost(usage)
        stream.acc.usage = replace(usage, cost_usd=cost)

    def _usage_events(self, message: AssistantMessage) -> list[SessionEvent]:
        """The request's one ``Usage``, and the price notice the first time one is missing."""
        if message.usage is None:
            return []
        notice = self.pricer.take_notice() if self.pricer is not None else None
        return [message.usage] if notice is None else [message.usage, PriceUnknown(notice)]

    def _keep_partial(self, partial: AssistantMessage) -> None:
        """Keep a cut-short answer's text in the history (never its dangling calls)."""
        text = partial.text
        if text:
            self.history.append(AssistantMessage((TextPart(text),), partial.provider))

    async def _run_calls(self, calls: Sequence[ToolCall]) -> AsyncGenerator[SessionEvent, None]:
        done = 0
        try:
            for index, call in enumerate(calls):
                for _attempt in range(MAX_PREPARES):
                    # A write whose file changed after its preview is prepared (and shown
                    # for approval) again, with the new diff.
                    prepared = self.tools.prepare(call)
                    if isinstance(prepared, ToolResult):
                        result = prepared
                        break
                    outcome: list[ToolResult] = []
                    async for event in self._approve_and_run(index, prepared, outcome):
                        yield event
                    result = outcome[0]
                    if not prepared.stale:
                        break
                self._record(result)
                done += 1
                yield ToolRan(index, call, result)
        except (asyncio.CancelledError, GeneratorExit):
            # Every call needs a result, or the next request is rejected by the API.
            for call in calls[done:]:
                self._record(ToolResult(call.id, call.name, "cancelled by the user; not run", True))
            raise

    @property
    def max_arguments(self) -> int:
        """The most argument text one tool call may stream (see ``argument_limit``)."""
        return argument_limit(self.tools.max_write_bytes)

    def _record(self, result: ToolResult) -> None:
        self.history.append(result)
        if self.transcript is not None:
            self.transcript.append(result)

    async def _ask(self, prepared: PreparedCall) -> ToolResult | None:
        """Ask the approver: the refusal's result, or None when the call may run."""
        try:
            answer = await self.approver(prepared)
        except (EOFError, OSError):
            answer = Approval("no", "no answer to the approval prompt")
        if answer.decision == "no":
            return prepared.refuse(answer.reason)
        if answer.decision == "always" and prepared.stream is None:  # never for commands
            self.tools.allow_always(prepared.call.name)
        return None

    async def _approve_and_run(
        self, index: int, prepared: PreparedCall, outcome: list[ToolResult]
    ) -> AsyncIterator[ApprovalNeeded | ToolProgress | ToolOutput]:
        """Ask when the policy says so, then run; the result is appended to ``outcome``."""
        if prepared.needs_approval:
            yield ApprovalNeeded(index, prepared)
            refused = await self._ask(prepared)
            if refused is not None:
                outcome.append(refused)
                return
        if prepared.stream is not None:
            async for output in self._stream(index, prepared, outcome):
                yield output
            return
        async for progress in self._execute(index, prepared, outcome):
            yield progress

    async def _execute(
        self, index: int, prepared: PreparedCall, outcome: list[ToolResult]
    ) -> AsyncIterator[ToolProgress]:
        """Run an approved call; its progress reports are passed on as they come."""
        if not prepared.reports_progress:
            outcome.append(await prepared.run_async())
            return
        loop = asyncio.get_running_loop()
        reports: asyncio.Queue[ToolProgress] = asyncio.Queue()

        def progress(done: float, total: float | None, message: str | None) -> None:
            report = ToolProgress(index, done, total, message)
            loop.call_soon_threadsafe(reports.put_nowait, report)

        task = asyncio.ensure_future(prepared.run_async(progress))
        try:
            while not task.done():
                waiter = asyncio.ensure_future(reports.get())
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if waiter.done():
                    yield waiter.result()
                else:
                    waiter.cancel()
            outcome.append(task.result())
        finally:
            task.cancel()  # a cancelled turn cancels the call on its server

    async def _stream(
        self, index: int, prepared: PreparedCall, outcome: list[ToolResult]
    ) -> AsyncIterator[ToolOutput]:
        """Run a command; its output is passed on as ``ToolOutput`` while it runs."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        task = asyncio.create_task(prepared.run_streaming(queue.put_nowait))
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (text := await queue.get()) is not None:
                while not queue.empty():  # what arrived meanwhile goes out as one event
                    more = queue.get_nowait()
                    if more is None:
                        queue.put_nowait(None)
                        break
                    text += more
                yield ToolOutput(index, prepared.call.id, text)
        finally:
            if not task.done():  # cancelled (Escape) or closed: stop the command first
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        outcome.append(task.result())

    def _note(self, kind: str, text: str) -> None:
        if self.transcript is not None:
            self.transcript.note(kind, text)
