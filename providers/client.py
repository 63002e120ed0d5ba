"""The httpx client for one provider, set up from the environment without surprises.

httpx reads ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY`` and
``SSL_CERT_FILE``/``SSL_CERT_DIR`` from the environment. Three things follow here:

* a plain-``http`` request to a loopback server (a local model server) goes
  straight to it, never through an environment proxy, which would otherwise
  receive the API key in clear text (and cannot reach this machine's loopback);
* a plain-``http`` request that carries a key and that an environment proxy
  would carry to another host is refused (``SetupError``): the proxy would read
  the key. ``https`` is tunnelled (the proxy never sees headers), so it is fine;
* an environment the client cannot be built from (a SOCKS proxy without the
  ``socksio`` package, an unreadable ``SSL_CERT_FILE``) is a one-line
  ``SetupError`` naming the variables to check, not a traceback.
"""

from __future__ import annotations

import ipaddress
import ssl
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from providers.errors import SetupError
from providers.settings import ProviderSettings

if TYPE_CHECKING:
    import httpx

PROXY_VARIABLES = "HTTP_PROXY, HTTPS_PROXY, ALL_PROXY"
KEEPALIVE_SECONDS = 60.0
"""How long an idle connection is kept for the next request (httpx's default: 5 s). A prompt
typed after reading an answer comes tens of seconds later; with 5 s its request opened a new
connection, for a cloud API a TLS handshake (50-300 ms) before the first token. A connection
the server closed meanwhile is noticed before it is used (httpcore checks it), and a request
that still meets one is retried (the error comes before any output)."""


def check_environment(settings: ProviderSettings, transport: object | None) -> None:
    """Refuse an environment proxy that would carry the key in clear text to another host.

    Cheap (no httpx): the provider calls it when it is made, so the refusal comes at
    start-up, though the client itself is made on first use (``make_client``).

    Raises:
        SetupError: a plain-``http`` base_url with a key, through a proxy.
    """
    parts = urlsplit(settings.base_url)
    if transport is None and parts.scheme == "http" and parts.hostname and settings.api_key:
        if not is_loopback(parts.hostname):
            _refuse_clear_text_proxy(parts.hostname)


def make_client(
    settings: ProviderSettings, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """The client for ``settings`` (``transport``: a test's, used as given).

    Raises:
        SetupError: the environment sends the key to a proxy in clear text, or the client
            cannot be built from it.
    """
    import httpx

    check_environment(settings, transport)
    timeout = httpx.Timeout(
        connect=settings.connect_timeout, read=settings.timeout, write=30.0, pool=10.0
    )
    parts = urlsplit(settings.base_url)
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    if transport is None and parts.scheme == "http" and parts.hostname:
        if is_loopback(parts.hostname):
            mounts[f"http://{parts.netloc}"] = None  # direct: no environment proxy
    try:
        limits = httpx.Limits(
            max_connections=100, max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_SECONDS
        )
        return httpx.AsyncClient(
            timeout=timeout, limits=limits, transport=transport, mounts=mounts or None
        )
    except ImportError as exc:  # a SOCKS proxy without socksio
        raise SetupError(f"cannot use the proxy in {PROXY_VARIABLES}: {exc}") from None
    except (OSError, ssl.SSLError, ValueError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise SetupError(
            f"cannot set up HTTPS from the environment (check SSL_CERT_FILE, SSL_CERT_DIR"
            f" and {PROXY_VARIABLES}): {detail}"
        ) from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refuse_clear_text_proxy(host: str) -> None:
    # Imported here: urllib.request brings http.client and email (~7 ms), and only a plain
    # http base_url on another host with a key comes here.
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get("http") or proxies.get("all")
    # proxy_bypass_environment applies NO_PROXY as urllib does (typeshed omits it).
    bypass = urllib.request.proxy_bypass_environment(host, proxies)  # type: ignore[attr-defined]
    if proxy and not bypass:
        where = urlsplit(proxy)
        port = f":{where.port}" if where.port else ""
        shown = f"{where.scheme}://{where.hostname}{port}"  # never its user:password
        raise SetupError(
            f"refusing to send the API key in clear text through the proxy {shown}"
            f" (from {PROXY_VARIABLES}): use an https base_url, or add {host} to NO_PROXY"
        )
