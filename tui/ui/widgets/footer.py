"""The key footer: Textual's ``Footer``, drawn with the first screen, without its leak.

``Footer`` recomposes whenever the screen's bindings change, and the app changes them twice a
turn (Escape "Cancel" shows while a response runs, ctrl+r "Retry" after a failure). Each new
``FooterKey`` is bound to ``Footer.compact`` with ``data_bind``, which registers a watcher on the
footer itself, and Textual keeps the watchers of removed keys (see
``compat.prune_closed_watchers``): 768 detached keys after 130 turns. The removed keys'
rendered lines were also kept, by a Textual cache (see ``compat.forget_removed_styles``).

Start-up: ``Footer`` composes no key until the bindings first change, so the first screen
showed an empty footer, then recomposed it three times (mount, focus on the prompt, the app's
own refresh), each time mounting every key again with three style passes per key (its
``compact`` starts True, is made False, and a key is styled when mounted). ``ChatFooter``
composes its keys at once (the app's keys do not depend on focus), recomposes only when what it
shows changes, and its keys start with the footer's ``compact``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer

from tui.ui.compat import FooterKey, forget_removed_styles, prune_closed_watchers, watcher_count


class ChatKey(FooterKey):
    """A footer key whose ``compact`` starts as the footer's (not compact): no restyle."""

    compact = reactive(False)


class ChatFooter(Footer):
    """A ``Footer`` drawn with the first screen, recomposed only when the keys shown change,
    that forgets the watchers of the keys a recompose removed."""

    _composed: tuple[object, ...] | None = None
    """What the keys on screen show (see ``shown_keys``)."""

    def compose(self) -> ComposeResult:
        screen = self.screen
        self._composed = shown_keys(screen)
        keys: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in screen.active_bindings.values():
            if binding.show:  # the first binding of an action is the one shown
                keys.setdefault(binding.action, (binding, enabled, tooltip))
        self.styles.grid_size_columns = len(keys)
        for binding, enabled, tooltip in keys.values():
            yield self._key(binding, enabled, tooltip).data_bind(compact=Footer.compact)
        palette = screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            _node, binding, enabled, tooltip = palette  # compact, as Textual draws it
            yield self._key(binding, enabled, tooltip or binding.description, FooterKey)

    def _key(
        self, binding: Binding, enabled: bool, tooltip: str, kind: type[FooterKey] = ChatKey
    ) -> FooterKey:
        return kind(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            binding.action,
            disabled=not enabled,
            tooltip=tooltip,
            classes="-command-palette" if kind is FooterKey else "",
        )

    async def recompose(self) -> None:
        if self.is_attached and shown_keys(self.screen) == self._composed:
            return
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


def shown_keys(screen: Screen[object]) -> tuple[object, ...]:
    """Everything a footer shows of ``screen``'s bindings: key, action, text, state."""
    return tuple(
        (binding.key, binding.action, binding.description, enabled, tooltip)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    )


__all__ = ["ChatFooter", "ChatKey", "shown_keys"]
