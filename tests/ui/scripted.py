"""Helpers for the TUI's Pilot and snapshot tests: replies, a real runtime, waiting.

The provider is the one of every layer's tests, ``tests.support.scripted.ScriptedProvider``
(re-exported here with ``Pause`` and ``pieces``): ``ScriptedProvider(reply1, reply2, ...)``
answers each request with the next list of events; a ``Pause`` in a list stops the stream
there until the test releases it, and an exception in a list is raised there.

``make_runtime`` builds a real ``Runtime`` through ``tui.core.runtime.start`` from a temporary
config (two demo providers) in a temporary data dir and workspace, and can swap the
scripted provider in.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from providers.events import (
    Finish,
    ReasoningDelta,
    TextDelta,
    Usage,
)
from tests.support.scripted import Pause as Pause
from tests.support.scripted import ScriptedProvider as ScriptedProvider
from tests.support.scripted import call_turn
from tests.support.scripted import pieces as pieces
from tui.core.runtime import Options, Runtime, start
from tui.ui.app import ChatApp
from tui.ui.markdown.view import MarkdownView
from tui.ui.widgets.code_view import CodeView

CONFIG = """\
default_provider = "demo"

[providers.demo]
kind = "demo"

[providers.backup]
kind = "demo"

[tools]
approval = "{approval}"
"""


def paused_answer(*then: list[Any]) -> tuple[Pause, ScriptedProvider]:
    """A provider whose first answer streams "one", then waits at the ``Pause`` returned
    (``pause.release()`` finishes it); ``then``: the replies to the requests after it."""
    pause = Pause()
    return pause, ScriptedProvider([TextDelta("one"), pause, Finish("stop")], *then)


def text_reply(text: str, *, reasoning: str = "", size: int = 5) -> list[Any]:
    """A reply streaming optional reasoning, then ``text``, then Finish."""
    events: list[Any] = [ReasoningDelta(p) for p in pieces(reasoning, size)]
    events += [TextDelta(p) for p in pieces(text, size)]
    events += [Usage(input_tokens=12, output_tokens=len(text) // 4 + 1), Finish("stop")]
    return events


def call_events(
    name: str,
    arguments: dict[str, Any],
    *,
    index: int = 0,
    call_id: str = "",
    size: int = 7,
    pause_at: int | None = None,
    pause: Pause | None = None,
) -> list[Any]:
    """A tool call whose JSON arguments stream in ``size``-character fragments.

    With ``pause``, the stream stops after ``pause_at`` characters of the arguments.
    """
    raw = json.dumps(arguments)
    events: list[Any] = call_turn(
        name, raw, call_id or f"call_{index}", size=size, index=index, finish=False
    )
    if pause is not None and pause_at is not None:
        fragments = max(1, -(-pause_at // size))  # the one that reaches ``pause_at``, 1-based
        if pause_at <= len(raw):
            events.insert(1 + fragments, pause)  # after the start and those fragments
    return events


def tool_reply(*calls: list[Any], text: str = "") -> list[Any]:
    """A reply: optional text, then the calls, then Finish("tool_calls")."""
    events: list[Any] = [TextDelta(p) for p in pieces(text, 5)]
    for call in calls:
        events += call
    return [*events, Finish("tool_calls")]


def make_runtime(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    provider: Any = None,
    *,
    approval: str = "ask",
    extra: str = "",
) -> Runtime:
    """A real runtime over a temporary config (plus ``extra`` TOML), data dir and workspace."""
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(approval=approval) + extra, encoding="utf-8")
    monkeypatch.setenv("CHATTUI_CONFIG", str(config))
    monkeypatch.setenv("CHATTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATTUI_DEMO_DELAY", "0")
    runtime = start(Options(workspace=workspace))
    if provider is not None:
        runtime.provider = provider
        runtime.session.provider = provider
    return runtime


def fixed_clock() -> float:
    """A clock that never moves: rates and timings are stable in snapshots."""
    return 100.0


def make_app(runtime: Runtime, **kwargs: Any) -> ChatApp:
    """A ChatApp with a fixed clock and no approval grace (a frozen clock never ends one)."""
    kwargs.setdefault("clock", fixed_clock)
    kwargs.setdefault("approval_grace", 0.0)
    return ChatApp(runtime, **kwargs)


def count_parses(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count ``app``'s stylesheet parses from now on: a one-item list, updated in place."""
    parses = [0]
    parse = app.stylesheet.parse

    def counted() -> None:
        parses[0] += 1
        parse()

    monkeypatch.setattr(app.stylesheet, "parse", counted)
    return parses


async def wait_for(
    pilot: Pilot[Any], predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition"
) -> None:
    """Let the app run until ``predicate()`` is true (fails after ``timeout`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)


async def settled(pilot: Pilot[Any], quiet: float = 0.3, timeout: float = 60.0) -> None:
    """Wait until the screen stops changing: the same screenshot before and after ``quiet``.

    Every timer due within ``quiet`` seconds runs before the pause ends (the loop runs timers
    in order), so a screen that did not change meanwhile has nothing pending that draws soon;
    a busy machine makes this slower, never wrong. For snapshots, instead of a fixed pause.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    before = pilot.app.export_screenshot()
    while True:
        # Textual resumes a screen's update timer only when the screen next handles a
        # message; a snapshot's app has its cursor blink off, which would otherwise send one
        # every 0.5 s: give the screen one, so an update still pending is drawn.
        pilot.app.screen.check_idle()
        await pilot.pause(quiet)
        after = pilot.app.export_screenshot()
        if after == before:
            return
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the screen to settle")
        before = after


async def search_palette(pilot: Pilot[Any], query: str) -> None:
    """Open the command palette, type ``query`` and wait until its results are all listed
    (the palette gathers them in a worker and adds them in batches)."""
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), what="palette")
    screen = pilot.app.screen
    for char in query:
        await pilot.press("space" if char == " " else char)

    def listed() -> bool:
        gathering = any(
            worker.node is screen
            and worker.group == CommandPalette._GATHER_COMMANDS_GROUP
            and not worker.is_finished
            for worker in pilot.app.workers
        )
        return not gathering and screen.query_one(CommandList).option_count > 0

    await wait_for(pilot, listed, what=f"palette results for {query!r}")


async def idle(pilot: Pilot[Any]) -> None:
    """Wait for the current turn (and any queued turn) to finish, then for the screen."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    await wait_for(pilot, lambda: not app.busy and not app.queue, what="the turn to end")
    await pilot.pause()


def texts(widgets: Iterable[Widget]) -> str:
    """The literal text shown by ``widgets`` and their Static / CodeView / MarkdownView
    descendants."""
    out: list[str] = []
    for root in widgets:
        for widget in [root, *root.query("*")]:
            if isinstance(widget, CodeView):
                out.append(widget.text)
            elif isinstance(widget, MarkdownView):
                out.append(widget.rendered_text)
            elif isinstance(widget, Static):
                visual = widget.render()
                if isinstance(visual, Content):
                    out.append(str(visual))
                else:  # a Rich renderable (Syntax): what it drew on screen
                    lines = widget.render_lines(widget.size.region)
                    out.append("\n".join(line.text.rstrip() for line in lines))
    return "\n".join(out)


def screen_text(app: ChatApp) -> str:
    """Everything the conversation and status bar show, as plain text."""
    return texts([app.screen])
