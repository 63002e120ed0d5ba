"""What a server's payloads say: an event's JSON, an error body's message, when to retry.

Pure functions over what a remote party sent, shared by the transport (``providers.base``)
and every wire format:

* ``loads_event``: one event's JSON; a malformed chunk is a ``StreamError``, never skipped;
* ``error_detail`` / ``describe_error``: the human part of an error body, whatever its shape
  (``{"error": {...}}``, ``{"error": "..."}``, a list of them, a flat error event);
* ``parse_retry_after``: seconds from ``retry-after-ms`` / ``retry-after`` (or a gateway's
  prefixed copy), never NaN, infinite or negative;
* ``key_forms``: the API key as a server may echo it, to blank every form out of a message;
* ``reasoning_refused``: a rejected request that set a reasoning level says so.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from providers.conversation import Reasoning
from providers.errors import BadRequestError, ProviderError


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
    import email.utils  # here: 2 ms of imports (email, calendar) the first screen needs not

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
