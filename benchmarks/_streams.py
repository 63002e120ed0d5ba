"""The streams of the TUI benchmarks: their bytes, and the loopback server that serves them.

The Markdown unit and the ``save_file`` content are those of ``pipe_throughput.py``; the
replies are built by ``tests.support.wire`` in the format of the provider kind under test.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT  # noqa: F401 - puts the repository on sys.path for ``tests``

from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import ROUTES, text_body, tool_call_body

END_LINE = "That is the whole answer, the last line of it."
MARKDOWN_UNIT = (  # the unit of pipe_throughput.py
    "## Section\n\nSome **bold** text, a [link](https://example.com) and `code`.\n\n"
    "- item one\n- item two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "```python\ndef f(x):\n    return x * 2\n```\n\n"
)
PACED_SIZE, PACED_CHUNK, PACED_PACE = 50_000, 2048, 0.003
"""The paced stream: a save_file fed like a fast model over a real network, for seconds."""
SOURCE_LINE = "def handler(event):\n    return {'ok': True, \"v\": event}\n"


@dataclass(frozen=True)
class Stream:
    """One benchmark stream: what is served and how the child knows it is on screen."""

    key: str
    name: str
    kind: str
    replies: tuple[bytes, ...]
    fragments: int
    check: dict[str, Any]
    chunk: int = 16384  # bytes per network write; 0: one SSE event per write
    pace: float = 0.0


def writes(body: bytes, chunk: int) -> list[bytes]:
    """The network writes of ``body``: ``chunk`` bytes each, or one SSE event each if 0."""
    if chunk == 0:
        return [event + b"\n\n" for event in body.split(b"\n\n") if event]
    return [body[i : i + chunk] for i in range(0, len(body), chunk)]


def markdown_text(size: int) -> str:
    """Whole Markdown units (at least ``size`` characters in all), then the closing line."""
    units = max(1, -(-(size - len(END_LINE) - 1) // len(MARKDOWN_UNIT)))
    return MARKDOWN_UNIT * units + END_LINE + "\n"


def source_text(size: int) -> str:
    """The ``save_file`` content of ``pipe_throughput.py`` (``size`` characters)."""
    return (SOURCE_LINE * (size // len(SOURCE_LINE) + 1))[:size]


def shown_lines(text: str) -> int:
    """Lines a CodeView shows for ``text`` (a trailing newline starts no line)."""
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def markdown_stream(key: str, name: str, markdown: str, **pacing: Any) -> Stream:
    """An OpenAI text answer of ``markdown`` in 5-character deltas."""
    return Stream(
        key,
        name,
        "openai",
        (text_body("openai", markdown, 5),),
        -(-len(markdown) // 5),
        {"type": "markdown", "last": END_LINE, "size": 5},
        **pacing,
    )


def save_file_stream(key: str, name: str, content: str, **pacing: Any) -> Stream:
    """An Anthropic ``save_file`` call of ``content`` in 4-character fragments, then a reply."""
    arguments = {"path": "handler.py", "content": content}
    return Stream(
        key,
        name,
        "anthropic",
        (
            tool_call_body("anthropic", "save_file", arguments, size=4),
            text_body("anthropic", "Saved handler.py.", 5),
        ),
        -(-len(json.dumps(arguments)) // 4),
        {"type": "save_file", "lines": shown_lines(content), "size": 4},
        **pacing,
    )


def streams(quick: bool) -> list[Stream]:
    """The four streams (smaller with ``quick``)."""
    md_size, file_size = (20_000, 50_000) if quick else (60_000, 200_000)
    markdown = markdown_text(md_size)
    md_kb, pace_ms = len(markdown) // 1000, f"{PACED_PACE * 1000:.0f} ms"
    return [
        markdown_stream("markdown", f"markdown {md_kb} KB, 5-char deltas (openai)", markdown),
        save_file_stream(
            "save_file",
            f"save_file {file_size // 1000} KB, 4-char fragments (anthropic)",
            source_text(file_size),
        ),
        markdown_stream(
            "paced_markdown",
            f"markdown {md_kb} KB, 5-char deltas, 1 KB every {pace_ms}",
            markdown,
            chunk=1024,
            pace=PACED_PACE,
        ),
        save_file_stream(
            "paced",
            f"save_file {PACED_SIZE // 1000} KB, 4-char fragments, {PACED_CHUNK // 1024} KB "
            f"every {pace_ms}",
            source_text(PACED_SIZE),
            chunk=PACED_CHUNK,
            pace=PACED_PACE,
        ),
    ]


class Server:
    """A loopback server that also notes when each request arrives."""

    def __init__(self) -> None:
        self.loopback = LoopbackServer()
        self.arrivals: list[float] = []
        original = self.loopback._next

        def _next(path: str) -> Reply:
            self.arrivals.append(time.perf_counter())
            return original(path)

        self.loopback._next = _next  # type: ignore[method-assign]

    def __enter__(self) -> Server:
        self.loopback.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loopback.stop()

    def url(self, kind: str) -> str:
        """The base URL a provider of ``kind`` is configured with."""
        return self.loopback.base_url + ROUTES[kind][0]

    def serve(self, stream: Stream) -> None:
        """Script the stream's replies (in its chunks, at its pace); forget earlier arrivals."""
        headers = {"Content-Type": "text/event-stream"}
        replies = [
            Reply(writes(body, stream.chunk), headers=headers, pace=stream.pace)
            for body in stream.replies
        ]
        self.loopback.script(ROUTES[stream.kind][1], *replies)
        self.arrivals.clear()


def write_config(tmp: Path, kind: str, base_url: str) -> Path:
    """A config with one provider at ``base_url``, tools auto-approved in ``tmp/ws``."""
    workspace = tmp / "ws"
    workspace.mkdir(parents=True, exist_ok=True)
    config = tmp / "config.toml"
    config.write_text(
        f'default_provider = "p"\n[providers.p]\nkind = "{kind}"\nbase_url = "{base_url}"\n'
        f'model = "m"\nmax_retries = 0\n[tools]\nworkspace = "{workspace}"\n'
        'approval = "auto"\nmax_steps = 4\n',
        encoding="utf-8",
    )
    return config
