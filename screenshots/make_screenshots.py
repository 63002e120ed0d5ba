"""Render the offline demo at key moments to SVG files in this folder (for the README).

Run: ``.venv/bin/python screenshots/make_screenshots.py``

Everything is offline and temporary (config, data dir and workspace), so it can run anywhere.

- ``streaming.svg``: the demo's ``save_file`` call mid-stream, highlighted, growing.
- ``answer.svg``: the finished turn after approving the write.
- ``approval-diff.svg``: the demo asked to write the file again in the same conversation: it
  sends a revision, and since the file exists, the approval prompt shows the unified diff.
- ``mcp-call.svg``: a call to an MCP server's tool (``tests/support/mcp_server.py``, started as
  a real process) streaming into its card, from a scripted model that stops mid-call.
- ``edit-diff.svg``: an ``edit_file`` call mid-stream: the diff, numbered from the real file,
  its ``+`` side growing, from a scripted model that stops halfway through ``new_string``.
- ``run-command.svg``: a ``run_command`` call running: its output line by line in the card,
  with the elapsed time, before the command ends.
- ``branch-switch.svg``: a new conversation whose second prompt was edited (a new version with
  its own answer), after ``alt+left`` switched back to the first version: ``‹ 1/2 ›``.
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
    app = ChatApp(runtime, approval_grace=0.0)  # keys are pressed by the script, at once

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
        await branch_switch(app, pilot, send, shot)
    runtime.transcript.close()


MCP_NOTE = """# Release checklist

1. Run `python3 dev.py test` on a clean checkout.
2. Render the screenshots and look at every one.
3. Tag the release and write the changelog entry:
   - MCP servers: any tool server, its calls streamed live.
   - Faster first screen with servers configured.
4. Announce it.
"""


class HalfwayModel:
    """A scripted model: text, then a call to an MCP tool whose arguments stop halfway."""

    kind = "scripted"
    model = "scripted"

    def __init__(self) -> None:
        self.halfway = asyncio.Event()

    async def stream(self, request: object):  # type: ignore[no-untyped-def]
        import json

        from providers.events import TextDelta, ToolCallDelta, ToolCallStart

        yield TextDelta("I'll save the checklist with the notes server.")
        raw = json.dumps({"path": "notes/release.md", "content": MCP_NOTE})
        yield ToolCallStart(0, "call_1", "mcp__notes__write_file")
        cut = int(len(raw) * 0.7)
        for start in range(0, cut, 6):
            yield ToolCallDelta(0, raw[start : min(start + 6, cut)])
            await asyncio.sleep(0.005)
        self.halfway.set()
        await asyncio.Event().wait()  # the rest never comes: the shot is taken mid-call

    async def aclose(self) -> None:
        """Nothing to close."""


async def mcp_shot() -> None:
    """``mcp-call.svg``: an MCP tool call mid-stream, the server started as a real process."""
    import json

    from tui.core.runtime import Options, start
    from tui.ui.app import ChatApp
    from tui.ui.widgets.tool_card import ToolCard

    server = HERE.parent / "tests" / "support" / "mcp_server.py"
    config = Path(os.environ["CHATTUI_CONFIG"])
    config.write_text(
        '[providers.demo]\nkind = "demo"\n\n[mcp.servers.notes]\n'
        f"command = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(server))}]\n",
        encoding="utf-8",
    )
    workspace = Path(tempfile.mkdtemp(prefix="chattui-shots-ws-"))
    runtime = start(Options(workspace=workspace))
    model = HalfwayModel()
    runtime.provider = runtime.session.provider = model  # type: ignore[assignment]
    app = ChatApp(runtime, approval_grace=0.0)  # keys are pressed by the script, at once
    async with app.run_test(size=(120, 34)) as pilot:
        assert runtime.mcp is not None
        await until(pilot, lambda: runtime.mcp is not None and runtime.mcp.counts() == (1, 1))
        app.prompt.cursor_blink = False
        app.prompt.load_text("Save the release checklist in notes/.")
        await pilot.press("enter")
        await until(pilot, model.halfway.is_set)
        await until(pilot, lambda: bool(app.query(ToolCard)))
        await pilot.pause(0.5)
        app.save_screenshot("mcp-call.svg", str(HERE))
        print(f"wrote {HERE / 'mcp-call'}.svg")
        await pilot.press("escape")
        await until(pilot, lambda: not app.busy)
    runtime.close()


RULES = "".join(
    f'def rule_{i}(board):\n    """Apply rule {i} to the board."""\n'
    f"    return [row[:] for row in board]  # rule {i}\n\n\n"
    for i in range(40)
)
EDIT_OLD = (
    '    """Apply rule 21 to the board."""\n    return [row[:] for row in board]  # rule 21\n'
)
EDIT_NEW = (
    '    """Rule 21: a cell with exactly three live neighbours comes alive."""\n'
    "    size = len(board)\n"
    "    counts = [[neighbours(board, r, c) for c in range(size)] for r in range(size)]\n"
    "    return [[count == 3 for count in row] for row in counts]  # rule 21\n"
)
COMMAND = (
    "for t in test_rules test_board test_neighbours test_render test_save; do "
    'echo "tests/$t.py ... ok"; sleep 0.3; done; echo "collecting more..."; sleep 60'
)


class CodingModel:
    """A scripted model: one tool call; an edit stops halfway through ``new_string``."""

    kind = "scripted"
    model = "scripted"

    def __init__(self, name: str, arguments: dict[str, object], cut: float) -> None:
        self.name, self.arguments, self.cut = name, arguments, cut
        self.halfway = asyncio.Event()

    async def stream(self, request: object):  # type: ignore[no-untyped-def]
        import json

        from providers.events import Finish, TextDelta, ToolCallDelta, ToolCallEnd, ToolCallStart

        yield TextDelta("On it.")
        raw = json.dumps(self.arguments)
        yield ToolCallStart(0, "call_1", self.name)
        cut = int(len(raw) * self.cut)
        for start in range(0, cut, 6):
            yield ToolCallDelta(0, raw[start : min(start + 6, cut)])
            await asyncio.sleep(0.003)
        if cut < len(raw):
            self.halfway.set()
            await asyncio.Event().wait()  # the rest never comes: the shot is taken mid-call
        yield ToolCallEnd(0)
        yield Finish("tool_calls")

    async def aclose(self) -> None:
        """Nothing to close."""


async def coding_shots() -> None:
    """``edit-diff.svg`` and ``run-command.svg``."""
    config = Path(os.environ["CHATTUI_CONFIG"])
    config.write_text(
        '[providers.demo]\nkind = "demo"\n\n[tools]\n'
        'enabled = ["save_file", "edit_file", "read_file", "list_files", "run_command"]\n',
        encoding="utf-8",
    )
    workspace = Path(tempfile.mkdtemp(prefix="chattui-shots-ws-"))
    (workspace / "rules.py").write_text(RULES, encoding="utf-8")
    edit = {"path": "rules.py", "old_string": EDIT_OLD, "new_string": EDIT_NEW}
    shots = (
        ("edit-diff", CodingModel("edit_file", edit, 0.85), "Make rule 21 the birth rule."),
        ("run-command", CodingModel("run_command", {"command": COMMAND}, 1.0), "Run the tests."),
    )
    for name, model, prompt in shots:
        await _coding_shot(name, model, prompt, workspace)


async def _coding_shot(name: str, model: CodingModel, prompt: str, workspace: Path) -> None:
    from tui.core.runtime import Options, start
    from tui.ui.app import ChatApp
    from tui.ui.widgets.code_view import CodeView
    from tui.ui.widgets.diff_view import DiffView
    from tui.ui.widgets.tool_card import ToolCard

    runtime = start(Options(workspace=workspace))
    runtime.provider = runtime.session.provider = model  # type: ignore[assignment]
    app = ChatApp(runtime, approval_grace=0.0)  # keys are pressed by the script, at once
    async with app.run_test(size=(120, 34)) as pilot:
        app.prompt.cursor_blink = False
        app.prompt.load_text(prompt)
        await pilot.press("enter")
        if name == "edit-diff":
            await until(pilot, model.halfway.is_set)
            await until(pilot, lambda: "counts" in str(app.query_one(DiffView).rows()))
        else:
            await until(
                pilot,
                lambda: bool(app.query(ToolCard)) and app.query_one(ToolCard).state == "approval",
            )
            await pilot.pause(0.2)
            await pilot.press("y")
            await until(pilot, lambda: "test_render" in app.query_one("#output", CodeView).text)
        await pilot.pause(0.5)
        app.save_screenshot(f"{name}.svg", str(HERE))
        print(f"wrote {HERE / name}.svg")
        await pilot.press("escape")
        await until(pilot, lambda: not app.busy)
    runtime.close()


async def branch_switch(app, pilot, send, shot) -> None:
    """Four prompts, the second edited, then back to its first version (alt+left)."""
    from tui.ui.widgets.messages import UserMessage

    await app.run_action("new_conversation")
    await send("Hi! Just chatting today, no code.")
    await until(pilot, lambda: app.query("#approve-buttons"))
    await pilot.pause(0.2)
    await pilot.press("n")
    await pilot.pause(0.2)
    await pilot.press("enter")  # no reason
    await until(pilot, lambda: not app.busy)
    for prompt in ("How big is the board?", "Which pattern is your favourite?", "Thanks!"):
        await send(prompt)
        await until(pilot, lambda: not app.busy)
    second = list(app.conversation.query_children(UserMessage))[1]
    second.focus()
    await pilot.press("e")
    await until(pilot, lambda: app.prompt.text == "How big is the board?")
    await send("How fast does the board update?")
    await until(pilot, lambda: not app.busy)
    await pilot.press("alt+left")
    await until(pilot, lambda: len(app.conversation.query_children(UserMessage)) == 4)
    prompts = list(app.conversation.query_children(UserMessage))
    app.conversation.scroll_to_widget(prompts[1], animate=False, top=True)
    app.conversation.scroll_relative(y=-4, animate=False)  # the end of the answer before it
    app.clear_notifications()
    await pilot.pause(0.5)
    shot("branch-switch")


if __name__ == "__main__":
    os.environ.setdefault("CHATTUI_DEMO_DELAY", DEMO_DELAY)
    os.environ["CHATTUI_DATA_DIR"] = tempfile.mkdtemp(prefix="chattui-shots-data-")
    config = Path(tempfile.mkdtemp(prefix="chattui-shots-cfg-")) / "config.toml"
    config.write_text('[providers.demo]\nkind = "demo"\n', encoding="utf-8")
    os.environ["CHATTUI_CONFIG"] = str(config)
    asyncio.run(main())
    asyncio.run(mcp_shot())
    asyncio.run(coding_shots())
