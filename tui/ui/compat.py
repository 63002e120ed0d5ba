"""What Textual keeps of removed widgets, and how we let it go (Textual 8.2).

``textual._styles_cache.StylesCache`` is the per-widget cache of rendered lines (one
``Strip`` per line drawn, each with its own small caches). Its method ``get_inner_outer`` is
decorated with ``functools.lru_cache(1024)`` although it is an instance method (its first
parameter is named ``cls``, but it is not a classmethod), so every cache key holds the
``StylesCache`` of a widget that was drawn, and with it all that widget's rendered lines,
long after the widget left the DOM: the last 1,024 drawn widgets (more precisely, widget and
background pairs) stay alive whatever they were. A chat session removes widgets all the time
(old turns are pruned, the footer recomposes twice a turn, replacing its keys): in the memory
benchmark, 714 dead ``StylesCache`` objects (mostly footer keys and pruned turns) held 5.5 MB
of Python heap at 250 turns, and RSS only levelled off at ~400 turns, at 105 MB instead of
97 MB. Bounded in count, not in bytes: one entry can be a tall answer's every line.

The cached function does not use the instance (it combines two colours), so emptying its
cache is harmless: live widgets compute their two styles again at their next repaint.
"""

from __future__ import annotations

from textual._styles_cache import StylesCache


def forget_removed_styles() -> None:
    """Let go of the rendered lines Textual's ``get_inner_outer`` cache keeps alive.

    Call after removing widgets. A no-op if a Textual version no longer has that cache.
    """
    clear = getattr(getattr(StylesCache, "get_inner_outer", None), "cache_clear", None)
    if clear is not None:
        clear()


__all__ = ["forget_removed_styles"]
