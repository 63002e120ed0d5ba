"""The offline demo: a scripted model served in-process to the real Anthropic adapter.

No key and no network: ``DemoTransport`` (``providers.demo_transport``) is an
httpx transport that reads the request body the Anthropic adapter built and
answers with Messages-API server-sent events, paced like a real model. So the
demo exercises the same SSE decoder, adapter, accumulator and tool loop as a
real provider, and shows what chattui does: reasoning, streamed Markdown with
code, and a ``save_file`` call carrying a ~180-line source file that the UI
renders while it streams.

``CHATTUI_DEMO_DELAY`` sets the pause between events in seconds (default
0.012; tests use 0).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.anthropic import Anthropic
from providers.settings import ProviderSettings

if TYPE_CHECKING:
    import httpx

DEMO_FILE = (Path(__file__).parent / "demo_data" / "life.py.txt").read_text(encoding="utf-8")
DEFAULT_DELAY = 0.012

THINKING = (
    "The user is trying chattui without an API key, so this is the offline demo. "
    "I should show what the client does best: stream an answer with Markdown, then write "
    "a real file with save_file so they can watch it arrive line by line, highlighted."
)

WELCOME = """# Welcome to chattui

This is the **offline demo**: no API key and no network, but every byte goes through
the same streaming parser, tool loop and transcript as a real model.

What to watch for:

- **Tool calls render live.** The next thing I do is write `demo/life.py`; the card below
  shows the file being written, syntax-highlighted, *while it streams*.
- **Nothing runs without you.** When the call is complete it waits: press `y` to approve,
  `n` to refuse (you can say why), or `a` to allow `save_file` for this session.
- **Everything is saved.** Transcripts are written as you go; `chattui --resume` picks up here.

| key | does |
|-----|------|
| `Enter` | send |
| `Escape` | cancel the response |
| `Ctrl+P` | commands: provider, model, export, theme |

```python
# The file below runs Conway's Game of Life:
python demo/life.py --pattern glider
```

Here it comes:
"""

AFTER_WRITE = """Done: `demo/life.py` is in your workspace. Try it:

```sh
python demo/life.py --pattern pulsar
```

To talk to a real model, write a config file (`chattui config` says where chattui looks for
it; see the README) or set `OPENAI_API_KEY` or `ANTHROPIC_API_KEY`, then start chattui again.
"""

AFTER_REFUSAL = """No problem, nothing was written. That's the approval flow: under
`approval = "ask"` no tool call runs until you say so, and your reason (if you gave one)
goes back to the model.

To talk to a real model, set `OPENAI_API_KEY` or `ANTHROPIC_API_KEY`, or write a config
file (`chattui config` says where chattui looks for it; see the README).
"""

REVISION = """Sure: here is a revision of `demo/life.py` with a new `blinker` pattern and a
faster default speed. The file exists now, so the approval shows a **diff** first.
"""

FOLLOW_UP = """You said: *{prompt}*

I'm the **demo provider**, so I can't really answer that. What I can do is show you the
client: ask me to **write a file** and I'll stream one through `save_file` again.

To talk to a real model, set `OPENAI_API_KEY` or `ANTHROPIC_API_KEY`, or write a config
file (`chattui config` says where chattui looks for it; see the README).
"""


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


class Script:
    """Builds the SSE events of one demo reply, block by block."""

    def __init__(self) -> None:
        self.events: list[bytes] = []
        self.index = 0
        self.out_tokens = 0

    def start(self, input_tokens: int) -> None:
        """``message_start``."""
        message: dict[str, Any] = {
            "id": f"msg_demo_{uuid.uuid4().hex[:12]}",
            "type": "message",
            "role": "assistant",
            "model": "demo",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        }
        self.events.append(_event("message_start", {"type": "message_start", "message": message}))

    def block(self, start: dict[str, Any], deltas: Iterator[dict[str, Any]]) -> None:
        """One content block: start, deltas, stop."""
        i = self.index
        self.events.append(
            _event(
                "content_block_start",
                {"type": "content_block_start", "index": i, "content_block": start},
            )
        )
        for delta in deltas:
            self.out_tokens += 1
            self.events.append(
                _event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": i, "delta": delta},
                )
            )
        self.events.append(_event("content_block_stop", {"type": "content_block_stop", "index": i}))
        self.index += 1

    def thinking(self, text: str) -> None:
        """A thinking block with a signature."""
        deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(text, 12)]
        deltas.append({"type": "signature_delta", "signature": "demo-signature"})
        self.block({"type": "thinking", "thinking": "", "signature": ""}, iter(deltas))

    def text(self, text: str) -> None:
        """A text block in token-sized pieces."""
        deltas = ({"type": "text_delta", "text": p} for p in _pieces(text, 5))
        self.block({"type": "text", "text": ""}, deltas)

    def tool_use(self, name: str, arguments: dict[str, Any]) -> None:
        """A tool_use block whose JSON arguments stream in small fragments."""
        raw = json.dumps(arguments, ensure_ascii=False)
        deltas = ({"type": "input_json_delta", "partial_json": p} for p in _pieces(raw, 6))
        start = {
            "type": "tool_use",
            "id": f"toolu_demo_{uuid.uuid4().hex[:12]}",
            "name": name,
            "input": {},
        }
        self.block(start, deltas)

    def stop(self, reason: str) -> None:
        """``message_delta`` with the stop reason and usage, then ``message_stop``."""
        self.events.append(
            _event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": reason, "stop_sequence": None},
                    "usage": {"output_tokens": self.out_tokens},
                },
            )
        )
        self.events.append(_event("message_stop", {"type": "message_stop"}))


def reply_for(body: dict[str, Any]) -> Script:
    """The scripted reply to an Anthropic Messages request body."""
    messages = body.get("messages") or []
    script = Script()
    script.start(input_tokens=max(len(json.dumps(messages)) // 4, 1))
    last = messages[-1] if messages else {"content": ""}
    results = [b for b in _blocks(last) if b.get("type") == "tool_result"]
    if results:
        script.text(AFTER_REFUSAL if results[-1].get("is_error") else AFTER_WRITE)
        script.stop("end_turn")
        return script
    prompt = " ".join(b.get("text", "") for b in _blocks(last) if b.get("type") == "text")
    user_turns = sum(1 for m in messages if m.get("role") == "user")
    wants_file = any(w in prompt.lower() for w in ("file", "write", "code", "save"))
    if _wrote_before(messages) and wants_file:
        script.text(REVISION)
        script.tool_use("save_file", {"path": "demo/life.py", "content": revised(DEMO_FILE)})
        script.stop("tool_use")
    elif user_turns <= 1 or wants_file:
        script.thinking(THINKING)
        script.text(WELCOME)
        script.tool_use("save_file", {"path": "demo/life.py", "content": DEMO_FILE})
        script.stop("tool_use")
    else:
        script.text(FOLLOW_UP.format(prompt=" ".join(prompt.split())[:200]))
        script.stop("end_turn")
    return script


def _wrote_before(messages: list[dict[str, Any]]) -> bool:
    return any(
        b.get("type") == "tool_use" and b.get("name") == "save_file"
        for m in messages
        if m.get("role") == "assistant"
        for b in _blocks(m)
    )


def revised(source: str) -> str:
    """The demo file with a small change, so a second write shows a diff."""
    blinker = '    "blinker": [\n        "###",\n    ],\n'
    source = source.replace('    "acorn": [\n', blinker + '    "acorn": [\n', 1)
    return source.replace("default=0.08", "default=0.05", 1)


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


class Demo(Anthropic):
    """The demo provider: the real Anthropic adapter over ``DemoTransport``."""

    kind = "demo"
    accepts_images = False  # its scripted answers could not look at one

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        delay: float | None = None,
        **kwargs: Any,
    ) -> None:
        # Seconds between events: ``delay``, else CHATTUI_DEMO_DELAY, else DEFAULT_DELAY.
        self.delay = float(os.environ.get("CHATTUI_DEMO_DELAY", DEFAULT_DELAY))
        if delay is not None:
            self.delay = delay
        settings = ProviderSettings(
            kind="demo",
            base_url="http://demo.invalid",
            model="demo",
            key_source="none (offline demo)",
            max_retries=0,
            prompt_cache=False,  # nothing to save: the demo costs nothing
        )
        super().__init__(settings, transport=transport, **kwargs)

    def default_transport(self) -> httpx.AsyncBaseTransport | None:
        """The transport given, else ``DemoTransport`` (imported with httpx, on first use)."""
        from providers.demo_transport import DemoTransport

        return super().default_transport() or DemoTransport(_events_for, self.delay)


def _events_for(body: dict[str, Any]) -> list[bytes]:
    return reply_for(body).events
