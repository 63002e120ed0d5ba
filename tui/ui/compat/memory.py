"""Textual: what removed widgets keep alive (rendered lines, watchers)."""

from __future__ import annotations

from textual._styles_cache import StylesCache

# -- Textual: rendered lines of removed widgets -------------------------------------------------


def forget_removed_styles() -> None:
    """Let go of the rendered lines Textual's ``get_inner_outer`` cache keeps alive.

    ``textual._styles_cache.StylesCache`` is the per-widget cache of rendered lines. Its
    method ``get_inner_outer`` is decorated with ``functools.lru_cache(1024)`` although it is
    an instance method, so every cache key holds the ``StylesCache`` of a widget that was drawn,
    and with it all that widget's rendered lines, long after the widget left the DOM: the last
    1,024 drawn widgets stay alive whatever they were. A chat session removes widgets all the
    time (old turns are pruned, the footer recomposes twice a turn): in the memory benchmark,
    714 dead ``StylesCache`` objects held 5.5 MB of heap at 250 turns. The cached function
    does not use the instance (it combines two colours), so emptying its cache is harmless:
    live widgets compute their two styles again at their next repaint.

    Call after removing widgets. A no-op if Textual no longer has that cache.
    """
    clear = getattr(getattr(StylesCache, "get_inner_outer", None), "cache_clear", None)
    if clear is not None:
        clear()


# -- Textual: watchers registered by closed widgets ---------------------------------------------

_WATCHERS = "__watchers"
"""Textual's registry of "global" watchers on a reactable (``textual.reactive._watch``): a dict
on the object, ``{attribute name: [(watching node, callback), ...]}``, under this literal name."""


def prune_closed_watchers(node: object) -> int:
    """Drop the watchers closed widgets registered on ``node``; returns how many were dropped.

    ``data_bind`` registers a watcher on the bound-from node. Textual drops the watchers of
    closed widgets (its ``_closing`` flag) only when the watched attribute changes, so a
    widget that recomposes children bound to an attribute that never changes (the footer's
    ``compact``) keeps every removed child alive: about 31 KB a recompose.
    """
    watchers: dict[str, list[tuple[object, object]]] = getattr(node, _WATCHERS, {})
    dropped = 0
    for entries in watchers.values():
        kept = [entry for entry in entries if not getattr(entry[0], "_closing", False)]
        dropped += len(entries) - len(kept)
        entries[:] = kept
    return dropped


def watcher_count(node: object) -> int:
    """Watchers registered on ``node`` (instrumentation for tests and benchmarks)."""
    watchers: dict[str, list[object]] = getattr(node, _WATCHERS, {})
    return sum(len(entries) for entries in watchers.values())
