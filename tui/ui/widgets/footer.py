"""The key footer: Textual's ``Footer`` without its per-recompose leak.

``Footer`` recomposes whenever the screen's bindings change, and the app changes them twice a
turn (Escape "Cancel" shows while a response runs, ctrl+r "Retry" after a failure). Each new
``FooterKey`` is bound to ``Footer.compact`` with ``data_bind``, which registers a watcher on the
footer itself, and Textual keeps the watchers of removed keys (see
``compat.prune_closed_watchers``): 768 detached keys after 130 turns. The removed keys'
rendered lines were also kept, by a Textual cache (see ``compat.forget_removed_styles``).
"""

from __future__ import annotations

from textual.widgets import Footer

from tui.ui.compat import forget_removed_styles, prune_closed_watchers, watcher_count


class ChatFooter(Footer):
    """A ``Footer`` that forgets the watchers of the keys a recompose removed."""

    async def recompose(self) -> None:
        await super().recompose()
        self.prune_watchers()
        forget_removed_styles()  # the removed keys' rendered lines

    def prune_watchers(self) -> int:
        """Drop watchers registered by closed widgets; returns how many were dropped."""
        return prune_closed_watchers(self)

    @property
    def watcher_count(self) -> int:
        """Watchers registered on this footer (instrumentation for tests and benchmarks)."""
        return watcher_count(self)


__all__ = ["ChatFooter"]
