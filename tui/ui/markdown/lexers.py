"""Pygments lexers for fenced code, loaded in a worker thread on first use.

The first use of a language compiles its lexer's regular expressions (5-60 ms: more than a
frame), so with an event loop running it is loaded in a thread, and blocks drawn without it
are drawn again once it is there (``lexer_generation`` moves; ``lexers_loaded`` waits).
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pygments is imported when a fence is first drawn, not with the first screen
    from pygments.lexer import Lexer

LEXER_CACHE = 128
"""Most lexers kept (fence languages come from model text)."""

_lexers: dict[str, Lexer] = {}
_plain: list[Lexer] = []
_loading: dict[str, Future[None]] = {}
"""Lexers loading in the worker thread, by name: each future is done once its name left."""
_loader: ThreadPoolExecutor | None = None
_lexer_generation = 0
"""Lexers loaded in the worker so far: blocks drawn without their lexer are drawn again when
this changes (a view waiting for one awaits ``lexers_loaded``)."""


def lexer_for(name: str) -> Lexer | None:
    """The lexer for a fence's language; None while it loads.

    The first use of a language compiles its lexer's regular expressions (5-60 ms: more than
    a frame), so with an event loop running it is loaded in a thread, and blocks drawn without
    it are drawn again once it is there (see ``MarkdownDocument``).
    """
    lexer = _lexers.get(name)
    if lexer is not None or name in _loading:
        return lexer
    if not name or len(_lexers) >= LEXER_CACHE:  # names come from model text: a bound
        return plain()
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no event loop to keep responsive (tests, a script): load it now
        return _load_lexer(name)
    global _loader
    if _loader is None:  # one thread: compiling regular expressions holds the GIL anyway
        _loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chattui-lexer")
    # In ``_loading`` before the thread can start: a load quicker than ``submit``'s return
    # would otherwise leave its name there, done, and every view would wait for it forever.
    finished: Future[None] = Future()
    _loading[name] = finished
    _loader.submit(_load_in_thread, name, finished)
    return None


def plain() -> Lexer:
    """The lexer of plain text (unknown languages, and while the right one loads)."""
    if not _plain:
        from pygments.lexers.special import TextLexer

        _plain.append(TextLexer())
    return _plain[0]


def _load_lexer(name: str) -> Lexer:
    from pygments.lexers import get_lexer_by_name

    try:
        lexer: Lexer = get_lexer_by_name(name, stripnl=False)
    except Exception:  # noqa: BLE001 - ClassNotFound, or a broken plugin: plain text
        lexer = plain()
    _lexers[name] = lexer
    return lexer


def lexer_generation() -> int:
    """Counts lexers loaded so far: a change means plain-drawn fences can be highlighted."""
    return _lexer_generation


def _load_in_thread(name: str, finished: Future[None]) -> None:
    """Load ``name``'s lexer, leave ``_loading``, then say so on ``finished``.

    In that order, whatever happens: whoever ``finished`` wakes finds the lexer loaded (or
    plain text, if loading failed) and the name no longer loading.
    """
    global _lexer_generation
    try:
        _load_lexer(name)
        _lexer_generation += 1
    finally:
        _loading.pop(name, None)
        finished.set_result(None)


async def lexers_loaded() -> bool:
    """Wait until a lexer loading now has loaded; False at once if none is loading."""
    # A copy in one step: the loader thread takes names out of ``_loading`` meanwhile.
    pending = [future for future in tuple(_loading.values()) if not future.done()]
    if not pending:
        return False
    loop = asyncio.get_running_loop()
    loaded = asyncio.Event()

    def wake(_: object) -> None:  # in the worker thread (or here, if already done)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(loaded.set)

    for future in pending:
        future.add_done_callback(wake)
    await loaded.wait()
    return True
