"""The offline demo's transport: answers the Anthropic adapter's requests in-process.

``DemoTransport`` reads the request body the adapter built and answers with the scripted
Messages-API server-sent events of ``providers.demo``, paced like a real model. It is an
httpx transport, so it is imported with httpx, when the demo's first request is sent
(``Demo.default_transport``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx


class _Paced(httpx.AsyncByteStream):
    def __init__(self, events: list[bytes], delay: float) -> None:
        self._events = events
        self._delay = delay

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in self._events:
            if self._delay:
                await asyncio.sleep(self._delay)
            yield event


class DemoTransport(httpx.AsyncBaseTransport):
    """Answers requests in-process with scripted, paced SSE.

    Args:
        answer: the SSE events that answer a request body (``providers.demo``'s script).
        delay: seconds between two events.
    """

    def __init__(self, answer: Callable[[dict[str, Any]], list[bytes]], delay: float) -> None:
        self.answer = answer
        self.delay = delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve the scripted reply for the request's conversation."""
        events = self.answer(json.loads(await request.aread()))
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=_Paced(events, self.delay),
        )
