"""Render the offline demo at key moments to SVG files in this folder (for the README).

Run: ``.venv/bin/python screenshots/make_screenshots.py``

Everything is offline and temporary (config, data dir and workspace), so it can run anywhere.

- ``streaming.svg``: the demo's ``save_file`` call mid-stream, highlighted, growing.
- ``answer.svg``: the finished turn after approving the write.
- ``approval-diff.svg``: the demo asked to write the file again in the same conversation: it
  sends a revision, and since the file exists, the approval prompt shows the unified diff.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SIZE = (120, 46)
DEMO_DELAY = "0.002"  # seconds between demo events: slow enough to catch the file mid-stream


async def until(pilot, predicate: Callable[[], object], timeout: float = 60.0) -> None:
    """Let the app run until ``predicate()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the demo did not get there in time")
        await pilot.pause(0.01)


async def main() -> None:
    from tui.core.runtime import Options, start
    from tui.ui.app import ChatApp
    from tui.ui.widgets.code_view import CodeView
    from tui.ui.widgets.tool_card import ToolCard

    workspace = Path(tempfile.mkdtemp(prefix="chattui-shots-ws-"))
    runtime = start(Options(workspace=workspace))
    app = ChatApp(runtime)

    def card() -> ToolCard | None:
        cards = app.query(ToolCard)
        return cards.last() if cards else None

    def shot(name: str) -> None:
        app.save_screenshot(f"{name}.svg", str(HERE))
        print(f"wrote {HERE / name}.svg")

    async def send(text: str) -> None:
        app.prompt.cursor_blink = False
        app.prompt.load_text(text)
        await pilot.press("enter")

    async def approval() -> ToolCard:
        await until(
            pilot,
            lambda: (
                (c := card()) is not None and c.state == "approval" and c.query("#approve-buttons")
            ),
        )
        found = card()
        assert found is not None
        await until(pilot, lambda: found.query_one(CodeView).is_highlight_final)
        await pilot.pause(0.2)
        return found

    async with app.run_test(size=SIZE) as pilot:
        await send("Hello! What can you do?")
        await until(
            pilot, lambda: (c := card()) is not None and c.query_one(CodeView).line_count >= 75
        )
        shot("streaming")
        await approval()
        await pilot.press("y")
        await until(pilot, lambda: not app.busy)
        await pilot.pause(0.5)
        shot("answer")

        await send("Please write the file again, a little faster.")
        await approval()
        diff = app.query_one("#diff")
        app.query_one("#conversation").scroll_to_widget(diff, animate=False, top=True)
        await pilot.pause(0.3)
        shot("approval-diff")
        await pilot.press("n")
        await pilot.press("escape")
        await until(pilot, lambda: not app.busy)
    runtime.transcript.close()


if __name__ == "__main__":
    os.environ.setdefault("CHATTUI_DEMO_DELAY", DEMO_DELAY)
    os.environ["CHATTUI_DATA_DIR"] = tempfile.mkdtemp(prefix="chattui-shots-data-")
    config = Path(tempfile.mkdtemp(prefix="chattui-shots-cfg-")) / "config.toml"
    config.write_text('[providers.demo]\nkind = "demo"\n', encoding="utf-8")
    os.environ["CHATTUI_CONFIG"] = str(config)
    asyncio.run(main())
