"""Pipe mode end to end: the real ``chattui`` command against a loopback server.

Every wire format: a streamed ``save_file`` call approved with ``--yes``
writes exactly the streamed content, and the result goes back in that API's
format; without ``--yes`` (and no terminal) the call is refused.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.imports import loaded_after
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import KINDS, ROUTES, text_body, tool_call_body, tool_result_in

KEY = "sk-test-SECRET-7f3a9c"
CONTENT = (
    'def greet(name: str) -> str:\n    return f"Hello, {name}! \\u00e9 ü 🎉"\n'
    '\tprint("\\"quoted\\"")\n'
)


def _headers(kind: str) -> dict[str, str]:
    return {"Content-Type": "application/x-ndjson" if kind == "ollama" else "text/event-stream"}


class Env:
    """A temporary home for one chattui run: config, data dir, workspace."""

    def __init__(
        self,
        tmp: Path,
        server: LoopbackServer | None,
        kind: str = "openai",
        approval: str = "ask",
        max_retries: int = 0,
    ) -> None:
        self.workspace = tmp / "ws"
        self.workspace.mkdir()
        self.data = tmp / "data"
        self.config = tmp / "config" / "config.toml"
        self.config.parent.mkdir()
        base = (server.base_url + ROUTES[kind][0]) if server else "http://127.0.0.1:9"
        self.config.write_text(
            f'default_provider = "p"\n[providers.p]\nkind = "{kind}"\nbase_url = "{base}"\n'
            f'model = "test-model"\napi_key_env = "TEST_API_KEY"\nmax_retries = {max_retries}\n'
            f'[tools]\nworkspace = "{self.workspace}"\napproval = "{approval}"\n'
        )

    def env(self, **extra: str) -> dict[str, str]:
        """The process environment for a run."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith("_API_KEY") and not k.startswith("CHATTUI_")
        }
        env.update(
            CHATTUI_CONFIG=str(self.config),
            CHATTUI_DATA_DIR=str(self.data),
            TEST_API_KEY=KEY,
            CHATTUI_DEMO_DELAY="0",
            XDG_CONFIG_HOME=str(self.config.parent.parent / "xdg"),
        )
        env.update(extra)
        return env

    def run(self, *args: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
        """Run ``chattui ARGS`` with no controlling terminal (so nobody can approve)."""
        return subprocess.run(
            [sys.executable, "-m", "tui.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(**extra),
            timeout=60,
            start_new_session=True,
            cwd=self.workspace,
        )


def _script_call(server: LoopbackServer, kind: str, arguments: dict[str, Any]) -> None:
    server.script(
        ROUTES[kind][1],
        Reply([tool_call_body(kind, "save_file", arguments)], headers=_headers(kind)),
        Reply([text_body(kind, "All done.")], headers=_headers(kind)),
    )


@pytest.mark.parametrize("kind", KINDS)
def test_save_file_approved_with_yes(kind: str, server: LoopbackServer, tmp_path: Path) -> None:
    env = Env(tmp_path, server, kind)
    _script_call(server, kind, {"path": "src/hello.py", "content": CONTENT})
    done = env.run("-p", "write hello.py", "--yes")
    assert done.returncode == 0, done.stderr
    assert (env.workspace / "src" / "hello.py").read_text(encoding="utf-8") == CONTENT
    assert "All done." in done.stdout
    assert len(server.requests) == 2
    ref, result = tool_result_in(kind, server.requests[1].json())
    assert ref in ("call_1", "save_file")
    assert "created" in result and "hello.py" in result


@pytest.mark.parametrize("kind", KINDS)
def test_refused_without_yes_and_no_terminal(
    kind: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, kind)
    _script_call(server, kind, {"path": "hello.py", "content": CONTENT})
    done = env.run("-p", "write hello.py")
    assert done.returncode == 0, done.stderr
    assert not (env.workspace / "hello.py").exists()
    _, result = tool_result_in(kind, server.requests[1].json())
    assert "refused" in result
    assert "save_file" in done.stderr and "refused" in done.stderr


ESCAPES = [
    "../outside.txt",
    "../../outside.txt",
    "/tmp/chattui-abs.txt",
    "~/chattui-home.txt",
    "sub/../../outside.txt",
    ".git/hooks/pre-commit",
    "a\x00b.txt",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_escape_attempts_refused_before_any_write(
    path: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "anthropic", approval="auto")
    (env.workspace / ".git" / "hooks").mkdir(parents=True)
    _script_call(server, "anthropic", {"path": path, "content": "pwned"})
    before = {p for p in tmp_path.rglob("*")}
    done = env.run("-p", "escape", "--yes", HOME=str(tmp_path / "home"))
    assert done.returncode == 0, done.stderr
    _, result = tool_result_in("anthropic", server.requests[1].json())
    assert "pwned" not in result
    written = {p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes() == b"pwned"}
    assert written == set()
    new = {p for p in tmp_path.rglob("*")} - before
    assert all(p.is_relative_to(env.data) for p in new), new
    assert not Path("/tmp/chattui-abs.txt").exists()


def test_stdin_is_appended_and_json_events(server: LoopbackServer, tmp_path: Path) -> None:
    env = Env(tmp_path, server, "openai")
    _script_call(server, "openai", {"path": "x.txt", "content": "hi"})
    done = env.run("-p", "summarize this", "--json", "--yes", stdin="PIPED TEXT\n")
    assert done.returncode == 0, done.stderr
    user = server.requests[0].json()["messages"][-1]
    assert (
        user["role"] == "user" and "summarize this" in user["content"] and "PIPED TEXT" in str(user)
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    types = [e["type"] for e in events]
    assert types[0] == "tool_call_start"
    assert "".join(e["arguments"] for e in events if e["type"] == "tool_call_delta") == json.dumps(
        {"path": "x.txt", "content": "hi"}
    )
    end = next(e for e in events if e["type"] == "tool_call_end")
    assert end["arguments"] == {"path": "x.txt", "content": "hi"} and end["error"] is None
    result = next(e for e in events if e["type"] == "tool_result")
    assert result["ok"] is True and result["id"] == "call_1"
    # each model request ends with a finish line
    finishes = [i for i, t in enumerate(types) if t == "finish"]
    assert [events[i]["reason"] for i in finishes] == ["tool_calls", "stop"]
    assert finishes[-1] == len(types) - 1
    assert types.index("tool_result") > finishes[0]
    assert "".join(e["text"] for e in events if e["type"] == "text") == "All done."


def test_transcript_export_resume_and_no_key_on_disk(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "anthropic")
    _script_call(server, "anthropic", {"path": "notes.md", "content": "# Notes\n"})
    assert env.run("-p", "first prompt", "--yes").returncode == 0
    md = env.run("export", "latest", "--format", "md")
    assert md.returncode == 0 and "first prompt" in md.stdout and "# Notes" in md.stdout
    js = env.run("export", "--format", "json", "-o", str(tmp_path / "out.json"))
    assert js.returncode == 0
    exported = json.loads((tmp_path / "out.json").read_text())
    assert "first prompt" in json.dumps(exported)
    server.script(ROUTES["anthropic"][1], Reply([text_body("anthropic", "Resumed.")]))
    resumed = env.run("-p", "second prompt", "--resume", "latest")
    assert resumed.returncode == 0, resumed.stderr
    sent = json.dumps(server.requests[-1].json())
    assert "first prompt" in sent and "second prompt" in sent and "# Notes" in sent
    assert len(list((env.data / "transcripts").iterdir())) == 1
    for directory in (env.data, env.config.parent, env.workspace):
        for path in directory.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path


def test_provider_failure_exits_1_and_keeps_the_prompt(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "openai")
    server.script(
        ROUTES["openai"][1],
        Reply(
            [b'{"error": {"message": "boom [/INST] \x1b]0;t\x07"}}'],
            status=500,
            headers={"Content-Type": "application/json"},
        ),
    )
    done = env.run("-p", "keep me")
    assert done.returncode == 1
    assert "server error (HTTP 500)" in done.stderr and "\x1b" not in done.stderr
    assert KEY not in done.stderr + done.stdout
    md = env.run("export", "latest")
    assert "keep me" in md.stdout


def test_bad_key_message_names_source_not_value(server: LoopbackServer, tmp_path: Path) -> None:
    env = Env(tmp_path, server, "openai")
    server.script(
        ROUTES["openai"][1],
        Reply([f'{{"error": {{"message": "bad key {KEY}"}}}}'.encode()], status=401),
    )
    done = env.run("-p", "hi")
    assert done.returncode == 1
    assert "$TEST_API_KEY" in done.stderr and KEY not in done.stderr
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('default_provider = "p"\n[providers.p\nkind = "openai"\n', "line 2"),
        ('[providers.p]\nkind = "opneai"\n', "providers.p.kind"),
        ("[tools]\napproval = 'maybe'\n", "tools.approval"),
    ],
)
def test_config_errors_exit_2_and_leave_the_file(text: str, expected: str, tmp_path: Path) -> None:
    env = Env(tmp_path, None)
    env.config.write_text(text)
    done = env.run("-p", "hi")
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert env.config.read_text() == text


def test_demo_without_config_or_key(tmp_path: Path) -> None:
    env = Env(tmp_path, None)
    env.config.unlink()
    done = env.run("-p", "hello", "--yes", CHATTUI_CONFIG="")
    assert done.returncode == 0, done.stderr
    assert "offline demo" in done.stdout
    written = env.workspace / "demo" / "life.py"
    assert written.exists() and "Game of Life" in written.read_text()


def test_doctor(tmp_path: Path) -> None:
    env = Env(tmp_path, None)
    done = env.run("config")
    assert str(env.config) in done.stdout
    assert "TEST_API_KEY" in done.stdout and KEY not in done.stdout
    assert done.stdout.splitlines()[-1] == "ok" and done.returncode == 0


def test_doctor_prints_problems_and_exits_2(tmp_path: Path) -> None:
    env = Env(tmp_path, None)
    env.config.write_text(
        env.config.read_text() + '[providers.gone]\nkind = "openai"\napi_key_env = "NOT_SET_KEY"\n'
    )
    done = env.run("config")
    lines = done.stdout.splitlines()
    assert (
        "problem: providers.gone.api_key_env: environment variable NOT_SET_KEY is not set" in lines
    )
    assert lines[-1] == "1 problem(s)" and done.returncode == 2


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    env = Env(tmp_path, None)
    assert env.run("--bogus").returncode == 2
    assert env.run("--json").returncode == 2
    assert env.run("-p", "hi", "--provider", "nope").returncode == 2


def test_pipe_mode_imports_no_screen_library() -> None:
    """httpx's own command-line tool would load click, rich and pygments at its import."""
    code = "import tui.pipe, tui.core.runtime, providers.base, providers.openai"
    assert loaded_after(code, ("textual", "rich", "click", "pygments")) == []


def test_version_and_help_import_neither_textual_nor_httpx() -> None:
    code = (
        "import contextlib, io\n"
        "from tui.cli import main\n"
        "for args in (['--version'], ['--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: main(args)\n"
        "        except SystemExit: pass\n"
    )
    assert loaded_after(code, ("textual", "httpx", "rich")) == []


@pytest.mark.parametrize("kind", KINDS)
def test_attach_sends_the_image_in_each_formats_shape(
    kind: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, kind)
    png = b"\x89PNG\r\n\x1a\n" + b"pixels"
    (env.workspace / "shot.png").write_bytes(png)
    server.script(ROUTES[kind][1], Reply([text_body(kind, "A cat.")], headers=_headers(kind)))
    done = env.run("-p", "what is this?", "--attach", "shot.png")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "A cat.\n"
    encoded = base64.b64encode(png).decode()
    body = server.requests[0].json()
    if kind == "openai":
        part = body["messages"][-1]["content"][1]
        assert part == {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{encoded}"},
        }
    elif kind == "openai-responses":
        part = body["input"][-1]["content"][1]
        assert part == {"type": "input_image", "image_url": f"data:image/png;base64,{encoded}"}
    elif kind == "anthropic":
        source = body["messages"][-1]["content"][0]["source"]
        assert source == {"type": "base64", "media_type": "image/png", "data": encoded}
    elif kind == "gemini":
        part = body["contents"][-1]["parts"][1]
        assert part == {"inline_data": {"mime_type": "image/png", "data": encoded}}
    else:
        assert body["messages"][-1]["images"] == [encoded]


def test_attach_outside_the_workspace_exits_2_before_any_request(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "openai")
    (tmp_path / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    done = env.run("-p", "look", "--attach", str(tmp_path / "outside.png"))
    assert done.returncode == 2
    assert "outside the workspace" in done.stderr and "Traceback" not in done.stderr
    assert server.requests == []


def test_the_offline_demo_refuses_an_image_with_a_message(tmp_path: Path) -> None:
    env = Env(tmp_path, None)
    env.config.write_text('[providers.demo]\nkind = "demo"\n')
    (env.workspace / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    done = env.run("-p", "look", "--attach", "shot.png")
    assert done.returncode == 2
    assert "demo cannot take images" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("json_lines", [True, False])
def test_a_reader_that_goes_away_stops_the_turn_quietly(
    json_lines: bool, server: LoopbackServer, tmp_path: Path
) -> None:
    # ``chattui -p ... | head -1``: the answer is far larger than the pipe's buffer, so
    # chattui is still writing when its reader closes the pipe.
    env = Env(tmp_path, server)
    answer = "".join(f"line {i} of a long answer\n" for i in range(20_000))
    server.script(ROUTES["openai"][1], Reply([text_body("openai", answer, 100)]))
    args = ["-p", "go", *(["--json"] if json_lines else [])]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env.env(),
        start_new_session=True,
        cwd=env.workspace,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert first.startswith(b'{"type": "text"' if json_lines else b"line 0 of")
    assert err == ""  # no traceback, no "Exception ignored" at exit
    [transcript] = (env.data / "transcripts").iterdir()
    assert "line 0 of a long answer" in transcript.read_text()
