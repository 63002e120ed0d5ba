"""The key footer: Textual's ``Footer`` without its per-recompose leak.

``Footer`` recomposes whenever the screen's bindings change, and the app changes them twice a
turn (Escape "Cancel" shows while a response runs, ctrl+r "Retry" after a failure). Each new
``FooterKey`` is bound to ``Footer.compact`` with ``data_bind``, which registers a watcher on the
footer itself. Textual 8.2 drops the watchers of closed widgets only when ``compact`` changes,
which it never does here, so every recompose left its removed keys (and all they reference)
alive: about 31 KB a call, 60 KB a turn, 768 detached keys after 130 turns. The removed keys'
rendered lines were also kept, by a Textual cache (see ``leaks.py``).
"""

from __future__ import annotations

from textual.widgets import Footer

from tui.ui.compat import forget_removed_styles

# Textual's registry of "global" watchers on a reactable (textual.reactive._watch): a dict on the
# object, {attribute name: [(watching node, callback), ...]}, under this literal attribute name.
_WATCHERS = "__watchers"


class ChatFooter(Footer):
    """A ``Footer`` that forgets the watchers of the keys a recompose removed."""

    async def recompose(self) -> None:
        await super().recompose()
        self.prune_watchers()
        forget_removed_styles()  # the removed keys' rendered lines (see leaks.py)

    def prune_watchers(self) -> int:
        """Drop watchers registered by closed widgets; returns how many were dropped.

        Textual applies the same rule (``_closing``) itself, but only when the watched
        attribute changes.
        """
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, _WATCHERS, {})
        dropped = 0
        for entries in watchers.values():
            kept = [entry for entry in entries if not getattr(entry[0], "_closing", False)]
            dropped += len(entries) - len(kept)
            entries[:] = kept
        return dropped

    @property
    def watcher_count(self) -> int:
        """Watchers registered on this footer (instrumentation for tests and benchmarks)."""
        return sum(len(entries) for entries in getattr(self, _WATCHERS, {}).values())


__all__ = ["ChatFooter"]
