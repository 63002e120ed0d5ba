"""One small error hierarchy for everything that can go wrong talking to a model.

::

    ProviderError                  base; ``str(err)`` is one line a person understands
    ├── APIStatusError             the API answered with an HTTP error status
    │   ├── AuthError              401/403: check the key (names its source, never its value)
    │   ├── RateLimitError         429: rate limited (retryable)
    │   ├── BadRequestError        other 4xx: the request itself is wrong (not retried)
    │   └── ServerError            5xx/529: the service failed or is overloaded (retryable)
    ├── ConnectionFailed           could not connect, or the connection dropped (retryable)
    ├── Timeout                    no byte for longer than the read timeout (retryable)
    └── StreamError                the response stream itself went wrong after HTTP 200
        ├── IncompleteResponse     the stream ended without its terminal marker
        └── LimitExceeded          the response passed a size or time limit (not retried)

``retryable`` says whether a retry could help; the transport only retries
before the first delta has been yielded (a later retry would duplicate output).
No message ever contains the API key: messages are built from status codes,
the API's own error text (with the key scrubbed) and the key's *source*.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every model-layer error.

    Args:
        message: one line for a person.
        retryable: whether retrying the same request could succeed.
        retry_after: seconds the server asked us to wait, if it said.
    """

    retryable: bool = False

    def __init__(
        self, message: str, *, retryable: bool | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class SetupError(ProviderError):
    """The HTTP client cannot be set up safely from the environment (a proxy, TLS files)."""


class APIStatusError(ProviderError):
    """The API answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.status = status


class AuthError(APIStatusError):
    """401/403: the key is missing, wrong or lacks permission."""


class RateLimitError(APIStatusError):
    """429: too many requests."""

    retryable = True


class BadRequestError(APIStatusError):
    """Any other 4xx: retrying the same request will not help."""


class ServerError(APIStatusError):
    """5xx or 529: the service failed or is overloaded."""

    retryable = True


class ConnectionFailed(ProviderError):
    """Could not connect, or the connection dropped mid-response."""

    retryable = True


class Timeout(ProviderError):
    """No data arrived within the read (idle) timeout, or connecting took too long."""

    retryable = True


class StreamError(ProviderError):
    """The stream went wrong after HTTP 200: an error event or a malformed chunk."""


class LimitExceeded(StreamError):
    """The response passed one of ``providers.settings.StreamLimits``; it was cut off there.

    Retrying would only receive the same oversized response again.
    """


class IncompleteResponse(StreamError):
    """The stream ended without its terminal marker: the answer is cut short."""

    retryable = True
