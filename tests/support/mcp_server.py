"""A small real MCP server for tests, written with the SDK's server API.

Run it as a separate process: ``python tests/support/mcp_server.py`` serves
stdio; ``python tests/support/mcp_server.py --http PORT`` serves streamable
HTTP on ``127.0.0.1:PORT/mcp``. Its tools cover every result shape chattui
handles: text, structured content, an error, an image, progress, a slow call
to cancel, and one that kills the server mid-call.
"""

from __future__ import annotations

import base64
import os
import sys
import time

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image

# A 1x1 PNG: the smallest real image a tool can return.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

server = MCPServer("testsrv")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged.

    A second line the one-line listing leaves out.
    """
    return text


@server.tool()
def add(a: int, b: int) -> dict[str, int]:
    """Add two integers (structured result)."""
    return {"sum": a + b}


@server.tool()
def fail(why: str = "it broke") -> str:
    """Always fail with an error result."""
    raise ToolError(why)


@server.tool()
def picture() -> Image:
    """Return a tiny PNG image."""
    return Image(data=PNG, format="png")


@server.tool()
async def slow(steps: int, ctx: Context) -> str:
    """Report progress once per step, a step every 0.05 s; waits forever if steps < 0."""
    if steps < 0:
        marker = os.environ.get("SLOW_MARKER")
        if marker:
            with open(marker, "w") as out:
                out.write("started")
        await anyio.sleep_forever()
    for step in range(steps):
        await ctx.report_progress(step + 1, steps, f"step {step + 1}")
        await anyio.sleep(0.05)
    return f"done after {steps} steps"


@server.tool()
def crash() -> str:
    """Kill the server process in the middle of the call."""
    os._exit(3)


@server.tool()
def environment(name: str) -> str:
    """The value of an environment variable in the server process, or '<unset>'."""
    return os.environ.get(name, "<unset>")


@server.tool()
def write_file(path: str, content: str) -> str:
    """Pretend to write a file; returns its size."""
    return f"{path}: {len(content)} characters"


def main() -> None:
    """Serve stdio, or streamable HTTP with ``--http PORT``."""
    print("testsrv starting", file=sys.stderr, flush=True)
    if os.environ.get("TESTSRV_FAIL_START"):
        time.sleep(0.05)
        sys.exit("testsrv: refusing to start")
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()


if __name__ == "__main__":
    main()
