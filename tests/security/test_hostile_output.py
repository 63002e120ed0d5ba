"""Hostile text from the model, tools and error bodies never drives the terminal (T13-T17).

Pipe mode runs as the real ``chattui`` process with stdout and stderr on a
pseudo-terminal, and the tests read the RAW BYTES the terminal received: no
ESC, no BEL, no C1 control (neither UTF-8 encoded U+0080-U+009F nor a stray
0x9b/0x9d byte, which would not decode), and none of the payloads' distinctive
parts. Markup in model text, file names and errors arrives literally. Paths
shown in an approval prompt make bidi and zero-width characters visible.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Any

import pytest

from providers.conversation import ToolCall
from tests.faults.harness import Home, entries
from tests.support.loopback import LoopbackServer, Reply
from tui.core.tools.registry import PreparedCall, ToolRegistry
from tui.pipe import _ask_tty

ROUTE = "/v1/chat/completions"
# Each payload, and a distinctive part of it that must never reach the terminal.
PAYLOADS = {
    "\x1b]52;c;cHduZWQ=\x07": "cHduZWQ=",  # OSC 52: write the clipboard
    "\x1b]0;PWNED-TITLE\x1b\\": "PWNED-TITLE",  # OSC 0: window title, ST-terminated
    "\x1b]2;PWNED-TWO\x07": "PWNED-TWO",  # OSC 2: window title
    "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\": "evil.example",  # OSC 8
    "\x1b[2J\x1b[H\x1b[1;1H": "[1;1H",  # clear screen, cursor home
    "\x1b[6n": "[6n",  # ask the terminal to type its cursor position
    "\x1b[31;1m": "[31;1m",  # SGR
    "\x9b2J": "\u009b",  # 8-bit CSI
    "\x9d0;C1-TITLE\x07": "C1-TITLE",  # 8-bit OSC
    "\x1bP1$r0m\x1b\\": "$r0m",  # DCS
    "\x1b]0;NEVER-CLOSED\n": "NEVER-CLOSED",  # unterminated: ends at the line
}
HOSTILE = "".join(f"<{payload}>" for payload in PAYLOADS)
VISIBLE = "<><><><link>" + "<>" * 6 + "<\n>"  # HOSTILE as shown: only the OSC 8 text and a newline
MARKERS = [*PAYLOADS.values(), "]52;", "]0;", "]8;"]
MARKUP = "[bold]b[/bold] [@click=app.quit]q[/] [/] [/ [TODO] [link=http://e]x"
FILE_NAME = "[bold]notes [@click=app.quit]x.txt"


def sse(*chunks: dict[str, Any]) -> list[bytes]:
    return [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks] + [b"data: [DONE]\n\n"]


def delta(**fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": fields}]}


def finish(reason: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}


def call(index: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return delta(
        tool_calls=[
            {
                "index": index,
                "id": f"call_{index}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ]
    )


def split_text(text: str) -> list[dict[str, Any]]:
    """``text`` as content deltas of 3 characters: escape sequences are cut across chunks."""
    return [delta(content=text[i : i + 3]) for i in range(0, len(text), 3)]


def run_in_pty(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, bytes]:
    """Run with stdout and stderr on a new pseudo-terminal; return the exit code and raw bytes."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )  # no controlling terminal
    os.close(slave)
    raw = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not data:
                break
            raw += data
        return proc.wait(timeout=10), bytes(raw)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def assert_terminal_safe(raw: bytes) -> str:
    """The raw terminal bytes hold no control sequence; returns them decoded."""
    assert b"\x1b" not in raw and b"\x07" not in raw
    text = raw.decode("utf-8")  # strict: a lone 0x9b or 0x9d byte is not UTF-8
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text), ascii(text)
    return text.replace("\r\n", "\n")  # the terminal's ONLCR


def assert_no_payload(text: str) -> None:
    """Model text is shown without any part of the escape sequences in it."""
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), ascii(text)
    for marker in MARKERS:
        assert marker not in text, marker


@pytest.fixture
def hostile_turn(server: LoopbackServer, tmp_path: Path) -> Home:
    """Reasoning, text, two tool calls, tool output and a last answer, all hostile."""
    home = Home(tmp_path, "openai", server.base_url + "/v1")
    (home.workspace / FILE_NAME).write_text(f"file says {HOSTILE} {MARKUP}\n", encoding="utf-8")
    first = sse(
        *[delta(reasoning_content=piece) for piece in (HOSTILE[:40], HOSTILE[40:])],
        *split_text(f"A{HOSTILE}B {MARKUP}\n"),
        call(0, "read_file", {"path": FILE_NAME}),
        call(1, "read_file", {"path": f"missing{HOSTILE}.txt"}),
        call(2, f"tool{HOSTILE}", {}),  # an unknown tool with a hostile name
        finish("tool_calls"),
    )
    server.script(ROUTE, Reply(first), Reply(sse(*split_text(f"C{HOSTILE}D"), finish("stop"))))
    return home


def test_text_mode_on_a_terminal(hostile_turn: Home, server: LoopbackServer) -> None:
    code, raw = run_in_pty(
        hostile_turn.command("-p", "go", "--yes"), hostile_turn.env(), hostile_turn.workspace
    )
    text = assert_terminal_safe(raw)
    assert code == 0, text
    assert f"A{VISIBLE}B {MARKUP}\n" in text and text.endswith(f"C{VISIBLE}D\n")
    tool_lines = [line for line in text.splitlines() if line.startswith(("→", "✓", "✗"))]
    assert f"→ read_file(path='{FILE_NAME}')" in tool_lines  # markup in a file name: literal
    # tool output and tool arguments are summarized escaped: visible and inert
    assert any(line.startswith("✓ read_file: 'file says <\\x1b]52;") for line in tool_lines)
    assert any(line.startswith("✗ read_file:") and "\\x1b" in line for line in tool_lines)
    assert any(line.startswith("✗ tool<\\x1b]52;") for line in tool_lines)
    answer = [f"A{VISIBLE}B {MARKUP}", f"C{VISIBLE}D"]
    rest = text
    for part in answer:
        rest = rest.replace(part, "")
    # every other line is one summary line: a tool name cannot forge one with a newline
    assert all(line.startswith(("→ ", "✓ ", "✗ ")) for line in rest.splitlines() if line)
    assert len(tool_lines) == 3 + 3 + 3  # started, ready and ran, for each call
    assert_no_payload("".join(answer))
    sent = json.dumps(server.requests[1].json())
    assert "\\u001b]52;c;cHduZWQ=" in sent  # the model got the file's real bytes


def test_json_mode_on_a_terminal(hostile_turn: Home) -> None:
    code, raw = run_in_pty(
        hostile_turn.command("-p", "go", "--yes", "--json"),
        hostile_turn.env(),
        hostile_turn.workspace,
    )
    text = assert_terminal_safe(raw)
    assert code == 0, text
    records = [json.loads(line) for line in text.splitlines()]
    shown = "".join(r["text"] for r in records if r["type"] == "text")
    reasoning = "".join(r["text"] for r in records if r["type"] == "reasoning")
    assert shown == f"A{VISIBLE}B {MARKUP}\nC{VISIBLE}D"
    assert reasoning == VISIBLE
    assert_no_payload(shown.replace("\n", " "))
    assert_no_payload(reasoning.replace("\n", " "))
    # tool output is data: exact, JSON-escaped on the terminal, never raw
    results = [r for r in records if r["type"] == "tool_result"]
    assert results[0]["ok"] and results[0]["content"] == f"file says {HOSTILE} {MARKUP}\n"
    assert not results[1]["ok"] and not results[2]["ok"]


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_error_bodies_on_a_terminal(
    json_mode: bool, server: LoopbackServer, tmp_path: Path
) -> None:
    body = json.dumps({"error": {"message": f"bad {HOSTILE} [/INST] [bold]x", "type": "x"}})
    server.script(
        ROUTE, Reply([body.encode()], status=400, headers={"Content-Type": "application/json"})
    )
    home = Home(tmp_path, "openai", server.base_url + "/v1")
    argv = home.command("-p", "go", *(["--json"] if json_mode else []))
    code, raw = run_in_pty(argv, home.env(), home.workspace)
    text = assert_terminal_safe(raw)
    assert code == 1
    assert "request rejected (HTTP 400): bad <" in text and "[/INST] [bold]x" in text


def test_error_event_mid_stream_on_a_terminal(server: LoopbackServer, tmp_path: Path) -> None:
    error = {"error": {"message": f"upstream {HOSTILE} [/]", "code": "server_error"}}
    server.script(ROUTE, Reply(sse(*split_text(f"half {HOSTILE}"), error)[:-1]))
    home = Home(tmp_path, "openai", server.base_url + "/v1")
    code, raw = run_in_pty(home.command("-p", "go"), home.env(), home.workspace)
    text = assert_terminal_safe(raw)
    assert code == 1 and "error: upstream <" in text and "[/]" in text


# -- approvals: what the user approves is what they see (T13) ------------------------------------


class FakeTTY(io.StringIO):
    """A terminal that answers one line."""

    def __init__(self, answer: str) -> None:
        super().__init__()
        self.answer = answer

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        return self.answer


SPOOFS = {
    "invoice\u202etxt.exe": "\\u202e",  # right-to-left override: shows as "invoiceexe.txt"
    "a\u200bb.txt": "\\u200b",  # zero-width space
    "x\u2066y\u2069.txt": "\\u2066",  # bidi isolate
    "\x1b[2Jclear.txt": "\\x1b",  # an escape sequence in a name
    "[red]r[/red].txt": "[red]r[/red].txt",  # markup: literal
}


def prepare(tmp_path: Path, path: str, content: str = "x\n") -> PreparedCall:
    registry = ToolRegistry(tmp_path, approval="ask")
    args = {"path": path, "content": content}
    prepared = registry.prepare(ToolCall("c1", "save_file", args, json.dumps(args)))
    assert isinstance(prepared, PreparedCall), prepared
    return prepared


@pytest.mark.parametrize("path", SPOOFS)
def test_approval_prompt_shows_hidden_characters(path: str, tmp_path: Path) -> None:
    prepared = prepare(tmp_path, path, content=f"line {HOSTILE}\n")
    assert prepared.needs_approval
    tty = FakeTTY("n\n")
    answer = _ask_tty(tty, prepared)
    shown = tty.getvalue()
    assert answer.decision == "no" and not (tmp_path / path).exists()
    assert SPOOFS[path] in shown and SPOOFS[path] in prepared.title
    hidden = [c for c in path if not c.isprintable() or c in "\u200b\u202e\u2066\u2069"]
    assert not any(c in shown or c in prepared.title for c in hidden)
    assert "\x1b" not in shown and "\x07" not in shown and "cHduZWQ=" not in shown
    assert "Approve? [y/N] " in shown


def test_approval_end_of_input_is_a_no(tmp_path: Path) -> None:
    answer = _ask_tty(FakeTTY(""), prepare(tmp_path, "a.txt"))
    assert answer.decision == "no" and not (tmp_path / "a.txt").exists()


# -- the TUI on a real pseudo-terminal ----------------------------------------------------------


def test_tui_on_a_terminal_never_emits_the_payloads(server: LoopbackServer, tmp_path: Path) -> None:
    """Textual writes its own escape sequences, so here the payloads' own parts must be absent.

    Textual itself emits CSI and OSC 22 (pointer shape); no OSC 0/2 (title), 8 (link) or
    52 (clipboard) may appear, nor any C1 control, nor any distinctive part of a payload.
    """
    server.script(ROUTE, Reply(sse(*split_text(f"A{HOSTILE}B {MARKUP} ENDMARK"), finish("stop"))))
    home = Home(tmp_path, "openai", server.base_url + "/v1")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    proc = subprocess.Popen(
        home.command(),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=home.env(TERM="xterm-256color"),
        cwd=home.workspace,
        start_new_session=True,
    )
    os.close(slave)
    raw = bytearray()

    def read_until(needle: bytes, limit: float = 30) -> None:
        deadline = time.monotonic() + limit
        while needle not in raw and time.monotonic() < deadline and proc.poll() is None:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    raw.extend(os.read(master, 65536))
                except OSError:
                    break
        assert needle in raw, (needle, bytes(raw[-2000:]))

    try:
        read_until(b"test-model")  # the status bar: the app is up
        os.write(master, b"go")
        read_until(b"go")
        os.write(master, b"\r")
        read_until(b"ENDMARK")  # the whole answer was rendered
        os.write(master, b"\x11")  # ctrl+q
        assert proc.wait(timeout=20) == 0
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            raw.extend(chunk)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    output = bytes(raw)
    text = output.decode("utf-8")  # strict: no stray 0x9b/0x9d byte
    assert not re.search("[\x80-\x9f]", text)  # no C1 control, 8-bit or UTF-8 encoded
    assert set(re.findall(rb"\x1b\](\d*)", output)) <= {b"22"}  # Textual's pointer shape only
    # CSI payloads look like Textual's own output; every other payload is distinctive
    for marker in (m for m in MARKERS if not m.startswith(("[", "\u009b"))):
        assert marker.encode() not in output, marker
    assert len(server.requests) == 1
    assert entries(home.latest())[-1] == ("assistant", "complete", f"A{VISIBLE}B {MARKUP} ENDMARK")
