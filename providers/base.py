"""The shared transport: one streaming POST with retries, timeouts and error mapping.

Each wire format subclasses ``HTTPProvider`` and supplies three things: the
URL, the request body for a ``ChatRequest``, and ``parser()``, a fresh sans-IO
``StreamParser`` (``providers.parser``) that turns body chunks into events.
Everything else lives here once:

* retries before the first delta for connection errors, timeouts and
  408/409/429/5xx/529, with exponential backoff and jitter, honouring
  ``retry-after-ms`` / ``retry-after`` (and ``x-should-retry``; read by
  ``providers.payloads``); never after a delta was yielded, since a retry would
  duplicate output;
* httpx errors and error statuses mapped into ``providers.errors`` with one-line
  messages that never contain the API key;
* the body read raw and decoded by ``providers.body`` within the provider's
  ``StreamLimits`` (decompressed size and ratio, total size, wall time; each
  parser bounds its own line and event size), an error response read only as
  far as its message needs (``providers.body_reads``);
* the body read a network read at a time (``providers.readahead``: the HTTP
  chunks that arrived together, joined): each read is fed to the parser and
  what it produced is yielded before the next read is awaited (never held
  back); an error the read raised comes after the events it produced;
  reading stops as soon as the parser is ``done`` (the stream ended in band);
* the response closed as soon as the consumer stops (``aclose()`` of the
  generator, or cancellation of the task holding it inside ``aclosing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
)
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlsplit

from providers.body import ACCEPT_ENCODING, BodyReader
from providers.body_reads import TooBig, drain, read_capped, read_head, whole
from providers.client import check_environment
from providers.conversation import ChatRequest
from providers.errors import (
    APIStatusError,
    AuthError,
    BadRequestError,
    ConnectionFailed,
    ProviderError,
    RateLimitError,
    ServerError,
    SetupError,
    StreamError,
    Timeout,
)
from providers.events import Retrying, StreamEvent, Usage
from providers.parser import StreamParser
from providers.payloads import error_detail, key_forms, parse_retry_after, reasoning_refused
from providers.readahead import ReadAhead
from providers.settings import ProviderSettings

if TYPE_CHECKING:
    import httpx

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0  # a server asking for longer than this gets an error, not a hang
GET_TIMEOUT = 15.0
"""Seconds a one-off GET (a model list) may take to connect, and between bytes."""
WARM_TIMEOUT = 10.0
"""Seconds ``warm_connection`` waits for the host to connect and answer."""
GET_MAX_BYTES = 8 * 1024 * 1024
"""Largest body a one-off GET reads (a model list is a few hundred KB at most)."""
_RETRY_STATUSES = {408, 409, 429}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]+")


class HTTPProvider(ABC):
    """A streaming chat API reached over HTTP.

    Args:
        settings: endpoint, model, key, timeouts and retries.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        sleep: awaited between retries (tests pass a recorder).
        clock: the monotonic clock the response time limit is measured on.
    """

    kind: ClassVar[str]
    accepts_images: ClassVar[bool] = True
    """Whether image input can be sent (every API here takes it; a given model may not)."""

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        check_environment(settings, transport)  # a proxy that would read the key: refused now
        self._transport = transport
        self._made: httpx.AsyncClient | None = None
        self._making = threading.Lock()

    @property
    def _client(self) -> httpx.AsyncClient:
        """The connection pool, made on first use (or by ``prepare``).

        Importing httpx and loading the CA bundle take tens of milliseconds, which the
        first screen does not need: the TUI makes the pool in a thread after it.
        """
        client = self._made
        if client is None:
            with self._making:
                if self._made is None:
                    from providers.client import make_client

                    self._made = make_client(self.settings, self.default_transport())
                client = self._made
        return client

    def prepare(self) -> None:
        """Make the connection pool now (safe from another thread).

        Raises:
            SetupError: the TLS or proxy environment cannot be used.
        """
        self._client  # noqa: B018 - made as a side effect

    async def warm_connection(self) -> bool:
        """Open a connection to the API's host before the request needs one.

        A ``HEAD`` of the host's root, without this provider's credentials, its answer
        (whatever its status) read and dropped: the connection stays in the pool
        (``providers.client.KEEPALIVE_SECONDS``), so the next request skips the TCP and TLS
        handshakes (tens to hundreds of ms before a cloud API's first token). Best effort:
        nothing happens with a given transport (the demo, tests), and any failure is ignored,
        the request that follows reports its own.

        Returns:
            Whether the server answered.
        """
        if self._transport is not None:
            return False
        import httpx

        try:
            endpoint = httpx.URL(self.url())  # the root: no path, query (a key) or user info
            root = httpx.URL(scheme=endpoint.scheme, host=endpoint.host, port=endpoint.port)
            response = await self._client.head(root.copy_with(path="/"), timeout=WARM_TIMEOUT)
            await response.aclose()
        except (httpx.HTTPError, SetupError, OSError, ValueError):
            return False
        return True

    def default_transport(self) -> httpx.AsyncBaseTransport | None:
        """The transport the pool uses: the one given, else httpx's own (None)."""
        return self._transport

    @property
    def model(self) -> str:
        """The model name requests are sent for."""
        return self.settings.model

    async def aclose(self) -> None:
        """Close the connection pool (if it was ever made)."""
        if self._made is not None:
            await self._made.aclose()

    # -- what each wire format supplies -------------------------------------------------

    @abstractmethod
    def url(self) -> str:
        """The full URL of the streaming endpoint."""

    @abstractmethod
    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON request body for this API."""

    @abstractmethod
    def parser(self) -> StreamParser:
        """A fresh parser for one response body (raises ``StreamError`` on error events)."""

    def auth_headers(self) -> dict[str, str]:
        """Headers that carry the key (Bearer by default)."""
        key = self.settings.api_key
        return {"Authorization": f"Bearer {key.reveal()}"} if key else {}

    def headers(self) -> dict[str, str]:
        """All request headers: content type, auth, then the user's extras."""
        return {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "Accept-Encoding": ACCEPT_ENCODING,
            **self.auth_headers(),
            **dict(self.settings.headers),
        }

    # -- the shared streaming loop -------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Send ``request`` and yield its events, retrying only before output began."""
        body = self.build_body(request)
        attempt = 0
        while True:
            produced = False
            try:
                # aclosing: when the consumer stops, the response closes now, not at GC
                async with contextlib.aclosing(self._attempt(body)) as batches:
                    async for batch in batches:
                        if not produced:
                            produced = any(not isinstance(e, Usage) for e in batch)
                        for event in batch:
                            yield event
                return
            except ProviderError as err:
                delay = self._retry_delay(err, attempt) if not produced else None
                if delay is None:
                    named = reasoning_refused(err, request.reasoning)
                    if named is err:
                        raise
                    raise named from err
                reason = str(err)  # ``err`` is unbound once the except block ends
            attempt += 1
            yield Retrying(attempt, delay, reason)
            await self._sleep(delay)

    def _retry_delay(self, err: ProviderError, attempt: int) -> float | None:
        if not err.retryable or attempt >= self.settings.max_retries:
            return None
        if err.retry_after is not None:
            return err.retry_after if err.retry_after <= MAX_RETRY_AFTER else None
        delay = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
        return delay * (1 - 0.25 * random.random())

    async def _attempt(self, body: dict[str, Any]) -> AsyncGenerator[list[StreamEvent], None]:
        """One request: the events of each body chunk, as one list per chunk."""
        import httpx

        from providers.auth import SendHeaders

        deadline = self._clock() + self.settings.limits.max_seconds
        try:
            async with self._client.stream(
                "POST", self.url(), json=body, auth=SendHeaders(self)
            ) as response:
                reader, chunks = self._body(response, deadline)
                if response.status_code >= 300:  # redirects are not followed: say where
                    raw = await read_head(reader, chunks)
                    raise self.status_error(response.status_code, raw, response.headers)
                parser = self.parser()
                parser.limit_events(self.settings.limits.max_event_bytes)
                async with contextlib.aclosing(ReadAhead(chunks)) as reads:
                    async for batch in reads:
                        raw = batch[0] if len(batch) == 1 else b"".join(batch)
                        for chunk in reader.decode(raw):
                            events, error = parser.push(chunk)
                            if events:
                                yield events  # before the next read: nothing is held back
                            if error is not None:
                                raise error
                            if parser.done:
                                await drain(reads)
                                return
                events, error = parser.push(None)
                if events:
                    yield events
                if error is not None:
                    raise error
        except httpx.TimeoutException as exc:
            raise Timeout(self._timeout_message(exc)) from None
        except httpx.UnsupportedProtocol as exc:  # a bad base_url: retrying cannot help
            raise ConnectionFailed(self._connection_message(exc), retryable=False) from None
        except httpx.InvalidURL as exc:  # not an httpx.HTTPError: would escape unmapped
            message = f"invalid API address: {self.scrub(str(exc))}"
            raise ConnectionFailed(message, retryable=False) from None
        except httpx.TransportError as exc:
            raise ConnectionFailed(self._connection_message(exc)) from None
        except httpx.DecodingError as exc:  # e.g. a corrupt gzip body; not a TransportError
            detail = self.scrub(str(exc))
            raise StreamError(
                f"could not decode the response from {self._host()}: {detail}"
            ) from None

    def _body(
        self, response: httpx.Response, deadline: float
    ) -> tuple[BodyReader, AsyncIterator[bytes]]:
        """The reader that decodes and bounds the body, and the body's raw reads."""
        if response.is_stream_consumed:  # given whole, already decoded (httpx.MockTransport)
            return BodyReader("", self.settings.limits, deadline, self._clock), whole(
                response.content
            )
        encoding = response.headers.get("content-encoding", "")
        reader = BodyReader(encoding, self.settings.limits, deadline, self._clock)
        # The body's stream itself, not ``aiter_raw``: that wraps each HTTP chunk once more
        # (a generator step and a list), and a server that writes one event per write sends
        # thousands a second (6 ms of the 60 KB answer's 12,000; ``client.stream`` closes it).
        return reader, aiter(cast("httpx.AsyncByteStream", response.stream))

    # -- one bounded GET (model lists) -------------------------------------------------------

    async def get_json(
        self, url: str, *, timeout: float = GET_TIMEOUT, max_bytes: int = GET_MAX_BYTES
    ) -> Any:
        """GET ``url`` with this provider's headers and return its JSON body.

        Sent once (no retries): it answers a person waiting on a list. Errors are
        mapped like a streaming request's, and a body over ``max_bytes`` or that is
        not JSON is a ``StreamError``, never a hang or a crash.

        Raises:
            ProviderError: the server failed, refused, timed out or sent garbage.
        """
        import httpx

        from providers.auth import SendHeaders

        limit = httpx.Timeout(min(timeout, self.settings.timeout), connect=timeout)
        try:
            async with self._client.stream(
                "GET", url, auth=SendHeaders(self), timeout=limit
            ) as response:
                reader, chunks = self._body(response, self._clock() + timeout)
                if response.status_code >= 300:
                    raw = await read_head(reader, chunks)
                    raise self.status_error(response.status_code, raw, response.headers)
                raw = await read_capped(reader, chunks, max_bytes)
        except httpx.TimeoutException:
            raise Timeout(f"no answer from {self._host()} within {timeout:g} s") from None
        except httpx.InvalidURL as exc:
            raise ConnectionFailed(f"invalid API address: {self.scrub(str(exc))}") from None
        except httpx.TransportError as exc:
            raise ConnectionFailed(self._connection_message(exc)) from None
        except TooBig:
            raise StreamError(
                f"the answer from {self._host()} is over {max_bytes:,} bytes"
            ) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise StreamError(f"the answer from {self._host()} is not JSON") from None

    # -- error mapping ---------------------------------------------------------------------

    def _timeout_message(self, exc: httpx.TimeoutException) -> str:
        import httpx

        if isinstance(exc, httpx.ConnectTimeout):
            return f"could not connect to {self._host()} within {self.settings.connect_timeout:g} s"
        if isinstance(exc, httpx.ReadTimeout):
            return f"no data from {self._host()} for {self.settings.timeout:g} s (read timeout)"
        what = "sending the request" if isinstance(exc, httpx.WriteTimeout) else "waiting"
        return f"timed out {what} to {self._host()} ({type(exc).__name__})"

    def _connection_message(self, exc: httpx.TransportError) -> str:
        import httpx

        if isinstance(exc, httpx.ConnectError):
            return f"could not connect to {self._host()}: {self.scrub(str(exc)) or 'refused'}"
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            return f"connection to {self._host()} dropped mid-response"
        return f"connection to {self._host()} failed: {self.scrub(str(exc))}"

    def _host(self) -> str:
        try:
            return urlsplit(self.url()).hostname or self.url()
        except ValueError:  # an unparsable address (a bad port, an unclosed bracket)
            return "the server"

    def status_error(self, status: int, raw: bytes, headers: Mapping[str, str]) -> APIStatusError:
        """Map an HTTP error status (or a redirect) and its body to the error hierarchy."""
        key = self.settings.api_key.reveal() if self.settings.api_key else ""
        for form in key_forms(key):  # before error_detail truncates: a cut-off key would escape
            raw = raw.replace(form.encode(), b"***")
        detail = self.scrub(error_detail(raw))
        retry_after = parse_retry_after(headers)
        kwargs: dict[str, Any] = {"status": status, "retry_after": retry_after}
        should = headers.get("x-should-retry", "").lower()
        if should in ("true", "false"):
            kwargs["retryable"] = should == "true"
        suffix = f": {detail}" if detail else ""
        if status < 400:
            where = self.scrub(headers.get("location", "")) or "another address"
            message = f"redirected (HTTP {status}) to {where}; set base_url to the final address"
            return BadRequestError(message, **kwargs)
        if status in (401, 403):
            source = self.settings.key_source or "no key configured"
            what = "authentication failed" if status == 401 else "permission denied"
            return AuthError(
                f"{what} (HTTP {status}){suffix}; check the API key ({source})", **kwargs
            )
        if status == 429:
            return RateLimitError(f"rate limited (HTTP 429){suffix}", **kwargs)
        if status >= 500:
            what = "overloaded" if status == 529 else "server error"
            return ServerError(f"{what} (HTTP {status}){suffix}", **kwargs)
        if status in _RETRY_STATUSES:
            kwargs.setdefault("retryable", True)
        return BadRequestError(f"request rejected (HTTP {status}){suffix}", **kwargs)

    def scrub(self, text: str) -> str:
        """One printable line, at most 300 characters, with the key blanked out."""
        key = self.settings.api_key.reveal() if self.settings.api_key else ""
        for form in key_forms(key):
            text = text.replace(form, "***")
        text = " ".join(_CONTROL.sub(" ", text).split())
        return text if len(text) <= 300 else text[:299] + "…"

    def unsendable_header(self, name: str) -> ProviderError:
        """The error for a header value HTTP cannot carry; names the key's source, not the key."""
        if name.lower() in {k.lower() for k in self.auth_headers()}:
            what = f"the API key ({self.settings.key_source or 'as configured'})"
        else:
            what = f"the configured header {name!r}"
        return ProviderError(f"{what} cannot be sent: it contains a control or non-ASCII character")

    def stream_error(self, detail: str, *, retryable: bool = False) -> StreamError:
        """An error reported inside a 200 response, scrubbed.

        ``retryable`` marks transient errors (overloaded, rate limited); they
        are retried only if nothing was yielded yet.
        """
        return StreamError(self.scrub(detail), retryable=retryable)
