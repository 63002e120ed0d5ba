"""Pipe mode end to end for edit_file and run_command, in every wire format.

The real ``chattui`` command against a loopback server: an ``edit_file`` call approved with
``--yes`` edits exactly; a ``run_command`` call's output reaches stderr as it runs (text mode)
or ``tool_output`` lines (``--json``), and its exit status goes back to the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_pipe import Env, _headers
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import KINDS, ROUTES, text_body, tool_call_body, tool_result_in


def script(server: LoopbackServer, kind: str, name: str, arguments: dict[str, Any]) -> None:
    server.script(
        ROUTES[kind][1],
        Reply([tool_call_body(kind, name, arguments)], headers=_headers(kind)),
        Reply([text_body(kind, "All done.")], headers=_headers(kind)),
    )


def enable_commands(env: Env) -> None:
    text = env.config.read_text()
    env.config.write_text(
        text + 'enabled = ["edit_file", "run_command"]\n[tools.run_command]\nallow = ["echo"]\n'
    )


@pytest.mark.parametrize("kind", KINDS)
def test_edit_file_applies_exactly_with_yes(
    kind: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, kind)
    (env.workspace / "app.py").write_bytes(b"a = 1\r\nb = 2\r\nc = 3\r\n")
    script(
        server, kind, "edit_file", {"path": "app.py", "old_string": "b = 2", "new_string": "b = 20"}
    )
    done = env.run("-p", "edit", "--yes")
    assert done.returncode == 0, done.stderr
    assert (env.workspace / "app.py").read_bytes() == b"a = 1\r\nb = 20\r\nc = 3\r\n"
    _, result = tool_result_in(kind, server.requests[1].json())
    assert "edited 'app.py'" in result


@pytest.mark.parametrize("kind", KINDS)
def test_run_command_output_goes_to_stderr_and_its_status_to_the_model(
    kind: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, kind)
    enable_commands(env)
    script(server, kind, "run_command", {"command": "echo hi; echo oops >&2; exit 3"})
    done = env.run("-p", "run", "--yes")
    assert done.returncode == 0, done.stderr
    assert "hi\noops\n" in done.stderr
    _, result = tool_result_in(kind, server.requests[1].json())
    # A failed call's result is marked as an error in each API's own way around the text.
    assert "exit status 3" in result and "hi" in result and "oops" in result


def test_run_command_json_has_tool_output_lines(server: LoopbackServer, tmp_path: Path) -> None:
    env = Env(tmp_path, server, "openai")
    enable_commands(env)
    script(server, "openai", "run_command", {"command": "echo allowed"})
    done = env.run("-p", "run", "--json")  # allow-listed: runs without --yes
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    outputs = [r for r in records if r["type"] == "tool_output"]
    assert "".join(r["text"] for r in outputs) == "allowed\n"
    result = next(r for r in records if r["type"] == "tool_result")
    assert result["ok"] and result["content"] == "exit status 0\nallowed\n"


def test_run_command_is_refused_without_yes_unless_allow_listed(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "openai")
    enable_commands(env)
    script(server, "openai", "run_command", {"command": f"touch {tmp_path / 'made'}"})
    done = env.run("-p", "run")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "made").exists()
    _, result = tool_result_in("openai", server.requests[1].json())
    assert "refused" in result
