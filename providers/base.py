"""The shared transport: one streaming POST with retries, timeouts and error mapping.

Each wire format subclasses ``HTTPProvider`` and supplies three things: the
URL, the request body for a ``ChatRequest``, and ``parser()``, a fresh sans-IO
``StreamParser`` (``providers.parser``) that turns body chunks into events.
Everything else lives here once:

* retries before the first delta for connection errors, timeouts and
  408/409/429/5xx/529, with exponential backoff and jitter, honouring
  ``retry-after-ms`` / ``retry-after`` (and ``x-should-retry``); never after a
  delta was yielded, since a retry would duplicate output;
* httpx errors mapped into ``providers.errors`` with one-line messages that
  never contain the API key;
* the body read raw and decoded by ``providers.body`` within the provider's
  ``StreamLimits`` (decompressed size and ratio, total size, wall time; each
  parser bounds its own line and event size), an error response read only as
  far as its message needs;
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
import datetime
import email.utils
import json
import math
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
from urllib.parse import quote, quote_plus, urlsplit

from providers.body import ACCEPT_ENCODING, BodyReader
from providers.client import check_environment
from providers.conversation import ChatRequest, Reasoning
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
from providers.readahead import ReadAhead
from providers.settings import ProviderSettings

if TYPE_CHECKING:
    import httpx

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0  # a server asking for longer than this gets an error, not a hang
DRAIN_BYTES = 65536
DRAIN_SECONDS = 0.1
"""Bounds on reading past the in-band end of a stream (see ``_drain``)."""
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
                    raw = await _read_head(reader, chunks)
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
                                await _drain(reads)
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
            return BodyReader("", self.settings.limits, deadline, self._clock), _once(
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
                    raw = await _read_head(reader, chunks)
                    raise self.status_error(response.status_code, raw, response.headers)
                raw = await _read_capped(reader, chunks, max_bytes)
        except httpx.TimeoutException:
            raise Timeout(f"no answer from {self._host()} within {timeout:g} s") from None
        except httpx.InvalidURL as exc:
            raise ConnectionFailed(f"invalid API address: {self.scrub(str(exc))}") from None
        except httpx.TransportError as exc:
            raise ConnectionFailed(self._connection_message(exc)) from None
        except _TooBig:
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


class _TooBig(Exception):
    """A body passed its size cap (internal to ``get_json``)."""


async def _read_capped(body: BodyReader, chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    """The whole decoded body, or ``_TooBig`` as soon as it passes ``max_bytes``."""
    parts: list[bytes] = []
    size = 0
    async for raw in chunks:
        for piece in body.decode(raw):
            size += len(piece)
            if size > max_bytes:
                raise _TooBig
            parts.append(piece)
    return b"".join(parts)


async def _drain(reads: ReadAhead) -> None:
    """Read what follows the in-band end, within bounds, so the connection can be reused.

    After ``[DONE]`` or ``message_stop`` only the chunked terminator (or an empty line) is
    left; reading it lets httpx put the connection back in its pool, so the tool loop's next
    request skips a new TCP and TLS handshake. A server that keeps sending or stalls costs at
    most ``DRAIN_BYTES`` / ``DRAIN_SECONDS``; the connection is then closed instead. Nothing
    read here is parsed, and no error here matters: the response is already complete.
    """
    import httpx

    read = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for batch in reads:
                read += sum(map(len, batch))
                if read > DRAIN_BYTES:
                    return
    except (TimeoutError, httpx.HTTPError):
        return


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


ERROR_BODY_BYTES = 65536  # what is read of an error response: enough for any message


async def _read_head(body: BodyReader, chunks: AsyncIterator[bytes]) -> bytes:
    """The first ``ERROR_BODY_BYTES`` of an error response's decoded body (the rest unread)."""
    head = bytearray()
    async for raw in chunks:
        for piece in body.decode(raw):
            head += piece[: ERROR_BODY_BYTES - len(head)]
            if len(head) >= ERROR_BODY_BYTES:
                return bytes(head)
    return bytes(head)


def key_forms(key: str) -> list[str]:
    """``key`` as a server may echo it: as is, URL-encoded (both ways), JSON-escaped.

    Longest first, so that no form is left half replaced by a shorter one.
    """
    if not key:
        return []
    forms = {key, quote(key, safe=""), quote_plus(key), json.dumps(key)[1:-1]}
    return sorted(forms, key=len, reverse=True)


def reasoning_refused(err: ProviderError, reasoning: Reasoning | None) -> ProviderError:
    """A rejected request that set a reasoning level names the setting (else ``err``).

    A model without reasoning control answers the field with a bare 400, which
    would not tell the user that their own setting caused it.
    """
    if reasoning is None or not isinstance(err, BadRequestError):
        return err
    return BadRequestError(
        f'{err} (the request set reasoning = "{reasoning}": change or remove the'
        " provider's reasoning setting, or --reasoning, if this model does not take it)",
        status=err.status,
    )


def error_detail(raw: bytes) -> str:
    """The human part of an API error body, whatever its shape."""
    text = raw[:65536].decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    return describe_error(data) or text[:300]


def describe_error(data: Any) -> str:
    """Find the message in ``{"error": {...}}``, ``{"error": "..."}``, lists of them, etc."""
    if isinstance(data, list) and data:
        return describe_error(data[0])
    if not isinstance(data, dict):
        return str(data) if data else ""
    error = data.get("error", data)
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = error.get("message") or data.get("message") or ""
        kinds = (error.get("type"), error.get("status"), error.get("code"))
        # A flat error event ({"type": "error", "code", "message"}) names its event type,
        # not the kind of error: skip it.
        kind = next((k for k in kinds if k and k != "error"), "")
        if kind and message and str(kind) not in str(message):
            return f"{message} ({kind})"
        return str(message or kind)
    return ""


# Gateways relay the upstream header under their own prefix (LiteLLM proxy:
# ``llm_provider-retry-after``); it is read only when the plain header is absent.
_RETRY_AFTER_PREFIXES = ("", "llm_provider-")


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` (preferred) or ``retry-after`` (seconds or a date).

    Either may carry a gateway's ``llm_provider-`` prefix; the plain headers win.
    """
    for prefix in _RETRY_AFTER_PREFIXES:
        value = headers.get(f"{prefix}retry-after-ms")
        if value:
            millis = _finite(value)
            if millis is not None:
                return max(millis / 1000, 0.0)
        seconds = _retry_after_seconds(headers.get(f"{prefix}retry-after"))
        if seconds is not None:
            return seconds
    return None


def _retry_after_seconds(value: str | None) -> float | None:
    """``retry-after`` in seconds: a number or an HTTP date (None if neither)."""
    if not value:
        return None
    seconds = _finite(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are always UTC
        when = when.replace(tzinfo=datetime.UTC)
    return max(when.timestamp() - time.time(), 0.0)


def _finite(value: str) -> float | None:
    """``value`` as a finite number; None for dates, garbage, "nan" and "inf"."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_raw_decode = json.JSONDecoder().raw_decode


def loads_event(data: str, error: Callable[[str], ProviderError]) -> Any:
    """Parse one event's JSON; a malformed chunk is a stream error, never ignored."""
    # For a payload of ~100 bytes, json.loads spends about half its time in its
    # wrapper (two whitespace regexes, three Python frames): go straight to the
    # scanner, and leave anything unusual (surrounding whitespace, extra data,
    # errors and their messages) to json.loads.
    try:
        value, end = _raw_decode(data)
        if end == len(data):
            return value
    except ValueError:
        pass
    try:
        return json.loads(data)
    except ValueError:
        snippet = data[:60] + ("…" if len(data) > 60 else "")
        raise error(f"malformed chunk from the server: {snippet!r}") from None
