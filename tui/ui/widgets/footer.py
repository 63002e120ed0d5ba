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
        keys = _keys(screen)
        # Not ``styles.grid_size_columns = len(keys)`` as Textual's ``Footer`` does: the footer
        # is laid out horizontally (the rule is unused), and setting a style refreshes every
        # key under the footer, so each turn drew all the keys again twice (start and end).
        for binding, enabled, tooltip in keys.values():
            yield self._key(binding, enabled, tooltip).data_bind(compact=Footer.compact)
        palette = self._palette()
        if palette is not None:
            _node, binding, enabled, tooltip = palette  # compact, as Textual draws it
            yield self._key(binding, enabled, tooltip or binding.description, FooterKey)

    def _palette(self) -> tuple[object, Binding, bool, str] | None:
        """The command palette's binding, if the footer shows it (last, compact)."""
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            return palette
        return None

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
        if self.is_attached:
            shown = shown_keys(self.screen)
            if shown == self._composed:
                return
            if await self._update_keys():
                self._composed = shown
                return
        await super().recompose()
        self.prune_watchers()
        forget_removed_styles()  # the removed keys' rendered lines

    async def _update_keys(self) -> bool:
        """Change the keys that changed, in place: the keys no longer shown go, new ones are
        mounted where they belong, the others only follow their binding's state. A turn shows
        Escape "Cancel" while it runs: a whole recompose as it started (every key mounted and
        styled again, 8-18 ms) delayed its request. False (nothing done) when the keys that
        stay would change order or the palette key changed: then a recompose does it."""
        wanted = _keys(self.screen)
        current = {key.action: key for key in self.query_children(ChatKey)}
        gone = [
            key
            for action, key in current.items()
            if action not in wanted or not self._draws(key, wanted[action][0])
        ]
        kept = [action for action, key in current.items() if key not in gone]
        if kept != [action for action in wanted if action in kept] or not self._palette_same():
            return False
        if gone:
            await self.remove_children(gone)
            self.prune_watchers()
            forget_removed_styles()
        previous: FooterKey | None = None
        for action, (binding, enabled, tooltip) in wanted.items():
            old = current.get(action)
            if old is not None and old not in gone:
                old.disabled, old.tooltip = not enabled, tooltip
                previous = old
                continue
            key = self._key(binding, enabled, tooltip).data_bind(compact=Footer.compact)
            if previous is None:
                await self.mount(key, before=0)
            else:
                await self.mount(key, after=previous)
            previous = key
        return True

    def _draws(self, key: FooterKey, binding: Binding) -> bool:
        """Whether ``key`` shows ``binding`` (its key and text)."""
        display = self.app.get_key_display(binding)
        return (key.key, key.key_display, key.description) == (
            binding.key,
            display,
            binding.description,
        )

    def _palette_same(self) -> bool:
        """Whether the palette key on screen is the one the bindings ask for."""
        palette = self._palette()
        keys = [key for key in self.query_children(FooterKey) if not isinstance(key, ChatKey)]
        if palette is None or not keys:
            return palette is None and not keys
        _node, binding, enabled, _tooltip = palette
        return self._draws(keys[0], binding) and keys[0].disabled is not enabled

    def prune_watchers(self) -> int:
        """Drop watchers registered by closed widgets; returns how many were dropped."""
        return prune_closed_watchers(self)

    @property
    def watcher_count(self) -> int:
        """Watchers registered on this footer (instrumentation for tests and benchmarks)."""
        return watcher_count(self)


def _keys(screen: Screen[object]) -> dict[str, tuple[Binding, bool, str]]:
    """The keys a footer shows for ``screen``, by action: binding, enabled, tooltip."""
    keys: dict[str, tuple[Binding, bool, str]] = {}
    for _node, binding, enabled, tooltip in screen.active_bindings.values():
        if binding.show:  # the first binding of an action is the one shown
            keys.setdefault(binding.action, (binding, enabled, tooltip))
    return keys


def shown_keys(screen: Screen[object]) -> tuple[object, ...]:
    """Everything a footer shows of ``screen``'s bindings: key, action, text, state."""
    return tuple(
        (binding.key, binding.action, binding.description, enabled, tooltip)
        for _node, binding, enabled, tooltip in screen.active_bindings.values()
        if binding.show
    )


__all__ = ["ChatFooter", "ChatKey", "shown_keys"]
