"""How the key reaches a request: an ``httpx.Auth`` that adds the provider's headers.

Imported when the first request is sent (it imports httpx, which the first screen does not
need).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import httpx

from providers.settings import HEADER_VALUE

if TYPE_CHECKING:
    from providers.base import HTTPProvider


class SendHeaders(httpx.Auth):
    """Puts ``provider.headers()`` (the key among them) on the request as it is sent.

    Crash screens print every frame's local variables.
    Passed as ``client.stream(headers=...)``, the header dict is a local of
    httpx frames for as long as the request is in flight, so any unexpected
    exception would print the key. Here only the request object holds it, and
    its repr shows no header. A value that cannot be sent (a pasted key with a
    curly quote or a newline) is refused by name: httpx would raise with the
    key in its locals, h11 with the key in its message.
    """

    def __init__(self, provider: HTTPProvider) -> None:
        self._provider = provider

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        bad = next(
            (k for k, v in self._provider.headers().items() if not HEADER_VALUE.fullmatch(v)), None
        )
        if bad is not None:
            raise self._provider.unsendable_header(bad)
        request.headers.update(self._provider.headers())
        yield request
