"""What a request costs, in US dollars, and how token counts and prices are shown.

Prices come from one of two places, never from a guess:

* a ``price = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }``
  table in the provider's config (USD per million tokens; the cache prices
  default to the input price), for local models or anything the table lacks;
* else the ``genai-prices`` package's bundled table (maintained upstream, read
  offline: chattui never asks it to download updates), looked up by the
  provider's ``base_url`` and the model name. A server it does not know (a
  local one) or a model it does not list has no price: no cost is shown and
  the session says so once.

A request's price is ``uncached input × input + cache reads × cache_read +
cache writes × cache_write + output × output`` (output includes reasoning),
where ``input_tokens`` is the whole prompt (``providers.events.Usage``). The
package also applies a model's long-context tiers and dated price changes.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from providers.conversation import AssistantMessage, Message
from providers.events import Usage

PER_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    """A configured price, in US dollars per million tokens.

    Attributes:
        input: uncached prompt tokens.
        output: answer tokens, reasoning included.
        cache_read: prompt tokens read from the cache (default: ``input``).
        cache_write: prompt tokens written to the cache (default: ``input``).
    """

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(self, usage: Usage) -> float | None:
        """The price of ``usage``, or None when it lacks the input or output count."""
        if usage.input_tokens is None or usage.output_tokens is None:
            return None
        read, written = usage.cached_tokens or 0, usage.cache_write_tokens or 0
        fresh = max(0, usage.input_tokens - read - written)
        read_price = self.input if self.cache_read is None else self.cache_read
        write_price = self.input if self.cache_write is None else self.cache_write
        total = (
            fresh * self.input
            + read * read_price
            + written * write_price
            + usage.output_tokens * self.output
        )
        return round(total / PER_MILLION, 10)  # no float noise in --json


class Pricer:
    """Prices the requests of one provider and model.

    Args:
        model: the model name sent in requests.
        base_url: the provider's API root, which tells the table whose prices apply.
        price: the configured price, which wins over the table; None to look it up.
    """

    def __init__(self, model: str, base_url: str, price: Price | None = None) -> None:
        self.model = model
        self.base_url = base_url
        self.price = price
        self._unknown: str | None = None
        self._told = False
        self._warming = False
        self._local = price is None and bool(base_url) and local_server(base_url)
        if self._local:  # the table lists vendors' https APIs only: never load it for this
            self._unknown = f"no price is known for model {model!r} at {base_url} (a local server)"

    def warm(self) -> None:
        """Start loading the price table in a thread, once, if requests will need it.

        Called as a request starts: the table then loads while the model answers. Loaded
        when the first answer ended, it held back that answer's end (measured under load: the
        finish line of a 20 KB answer 1.2-1.6 s after the request, against 0.05 s).
        """
        if self._warming or self.price is not None or not self.base_url or self._local:
            return
        self._warming = True
        threading.Thread(target=_load_table, name="price-table", daemon=True).start()

    @property
    def needs_table(self) -> bool:
        """Whether ``cost`` may consult the price table (whose first use imports it: call
        ``cost`` off the event loop then). False for a configured price and once the answer
        is known to be none (a local server, an unknown model): ``cost`` is then immediate."""
        return self.price is None and self._unknown is None and bool(self.base_url)

    def cost(self, usage: Usage) -> float | None:
        """The price of one request's ``usage`` in dollars, or None when unknown.

        The first call may import the price table (about 0.2 s): call it off
        the event loop.
        """
        if self.price is not None:
            return self.price.cost(usage)
        if self._unknown is not None or not self.base_url:
            return None
        if usage.input_tokens is None or usage.output_tokens is None:
            return None
        try:
            return _table_cost(usage, self.model, self.base_url)
        except ImportError:
            self._unknown = "the genai-prices package is not installed"
        except LookupError:
            self._unknown = f"no price is known for model {self.model!r} at {self.base_url}"
        except (ValueError, ArithmeticError) as exc:  # counts the table cannot price
            self._unknown = f"the price of {self.model!r} could not be computed ({exc})"
        return None

    def take_notice(self) -> str | None:
        """Why costs are not shown, the first time it is asked after one went unpriced."""
        if self._unknown is None or self._told:
            return None
        self._told = True
        return f"{self._unknown}: no cost is shown (set price = {{ input = …, output = … }})"


def local_server(base_url: str) -> bool:
    """Whether ``base_url`` names a server on this machine or a private network.

    Every API in the price table is a vendor's public https address, so such a server
    never has a price there; knowing it without loading the table (0.3 s of CPU, or
    seconds under load) keeps that load off the stream of a local model.
    """
    host = (urlsplit(base_url).hostname or "").rstrip(".")
    if not host:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host  # a single-label name (``ollama``, ``gpu-box``): a LAN host
    return address.is_private or address.is_loopback or address.is_link_local


def _load_table() -> None:
    try:
        import genai_prices  # noqa: F401 - loaded for `_table_cost`, which imports it again
    except ImportError:  # `cost` says so when asked
        pass


def _table_cost(usage: Usage, model: str, base_url: str) -> float:
    import genai_prices  # lazily: ~0.2 s, needed only once a request has finished

    priced: Any = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cached_tokens or 0,
            cache_write_tokens=usage.cache_write_tokens or 0,
        ),
        model_ref=model,
        provider_api_url=base_url,
    )
    return float(priced.total_price)


def total_cost(messages: Iterable[Message]) -> float | None:
    """The summed cost of the priced answers in ``messages``; None when none was priced."""
    costs = [
        m.usage.cost_usd
        for m in messages
        if isinstance(m, AssistantMessage) and m.usage is not None and m.usage.cost_usd is not None
    ]
    return sum(costs) if costs else None


def format_usd(amount: float) -> str:
    """Dollars with the digits that matter: ``$0.0042``, ``$0.0125``, ``$0.41``, ``$12.30``."""
    if amount >= 1:
        return f"${amount:,.2f}"
    if 0 < amount < 0.0001:
        return "<$0.0001"
    whole, cents = f"{amount:.4f}".rstrip("0").split(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def format_tokens(count: int | None) -> str:
    """A token count in a few characters: ``640``, ``12.3k``, ``1.2M``; ``–`` if unknown."""
    if count is None:
        return "–"
    if count < 1000:
        return str(count)
    if count < 999_950:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


def usage_summary(usage: Usage) -> str:
    """``in 12.3k (9.8k cached) · out 640``: the token counts of one request."""
    cached = f" ({format_tokens(usage.cached_tokens)} cached)" if usage.cached_tokens else ""
    return (
        f"in {format_tokens(usage.input_tokens)}{cached} · out {format_tokens(usage.output_tokens)}"
    )
