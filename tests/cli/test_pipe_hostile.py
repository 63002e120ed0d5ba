"""Pipe mode against hostile answers: the real ``chattui`` command over loopback.

Text no terminal can print (a lone surrogate) and turns that end badly must end in
output, an exit status and (with ``--json``) an ``error`` line, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_pipe import Env
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import ROUTES, text_body, tool_call_body

LONE = "\ud800"  # json.dumps writes it as the escape "\ud800": a server can send it


def test_a_lone_surrogate_in_the_answer_prints_as_a_replacement_character(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "openai")
    server.script(ROUTES["openai"][1], Reply([text_body("openai", f"a{LONE}b", size=1)]))
    done = env.run("-p", "go")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == "a\ufffdb\n"
    md = env.run("export", "latest")
    assert md.returncode == 0 and "a\ufffdb" in md.stdout, md.stderr


def test_json_mode_escapes_lone_surrogates_in_text_and_arguments(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "openai")
    arguments = {"path": "x.txt", "content": f"c{LONE}d"}
    server.script(
        ROUTES["openai"][1],
        Reply([tool_call_body("openai", "save_file", arguments)]),
        Reply([text_body("openai", f"a{LONE}b")]),
    )
    done = env.run("-p", "go", "--json")  # no --yes and no terminal: the call is refused
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "\\ud800" in done.stdout
    events = [json.loads(line) for line in done.stdout.splitlines()]
    end = next(e for e in events if e["type"] == "tool_call_end")
    assert end["arguments"] == arguments
    assert "".join(e["text"] for e in events if e["type"] == "text") == f"a{LONE}b"


def test_json_mode_says_why_a_turn_stopped_at_max_steps(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "openai")
    with env.config.open("a") as config:  # [tools] is the file's last table
        config.write("max_steps = 2\n")
    server.script(ROUTES["openai"][1], Reply([tool_call_body("openai", "list_files", {})]))
    done = env.run("-p", "loop", "--json")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    last = json.loads(done.stdout.splitlines()[-1])
    assert last == {
        "type": "error",
        "status": "max_steps",
        "message": "stopped after 2 model requests",
    }
    text = env.run("-p", "loop")
    assert text.returncode == 1 and "stopped: stopped after 2 model requests" in text.stderr
