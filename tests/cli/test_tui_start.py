"""Starting the TUI from the command line: what happens before and after its first screen."""

from __future__ import annotations

import gc

import pytest

from tests.support.imports import loaded_after
from tui import cli


def test_the_tui_starts_with_the_collector_off_and_gives_it_back_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Start-up makes ~100,000 long-lived objects: no collection walks them before the first
    screen (the app turns collections back on after it; the command line does on exit)."""
    from tui.ui import app

    seen: list[bool] = []
    monkeypatch.setattr(app, "run_app", lambda ns: seen.append(gc.isenabled()) or 0)
    assert cli.main([]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_is_back_on_when_the_tui_fails_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.ui import app

    def fail(ns: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "run_app", fail)
    assert cli.main([]) == 130
    assert gc.isenabled()


def test_the_first_screen_imports_no_markdown_highlighter_tool_card_or_palette() -> None:
    """What only an answer, a tool call or the palette needs is imported when first used."""
    later = (
        *("markdown_it", "rich.markdown", "tui.ui.markdown.elements", "pygments", "rich.syntax"),
        *("tui.ui.widgets.code_view", "tui.ui.widgets.tool_card", "tui.ui.commands"),
        *("tui.core.attachments", "tui.core.mcp.manager"),
    )
    assert loaded_after("import tui.ui.app", later) == []
