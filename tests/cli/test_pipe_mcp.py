"""Pipe mode with real MCP servers: a third-party server from PyPI and the test server.

A loopback server plays the model (a streamed call to an MCP tool, then text);
chattui starts the MCP server as a real process, asks it, and sends its result
back in the next request, in every wire format.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.test_pipe import Env, _headers
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import KINDS, ROUTES, text_body, tool_call_body, tool_result_in

TEST_SERVER = Path(__file__).resolve().parents[1] / "support" / "mcp_server.py"


def _with_servers(env: Env, tables: str) -> None:
    env.config.write_text(env.config.read_text() + tables)


def _time_server(approval: str = "ask") -> str:
    return (
        f"[mcp.servers.time]\ncommand = {json.dumps(sys.executable)}\n"
        f'args = ["-m", "mcp_server_time", "--local-timezone", "UTC"]\n'
        f'approval = "{approval}"\n'
    )


def _test_server(name: str = "t", extra: str = "") -> str:
    return (
        f"[mcp.servers.{name}]\ncommand = {json.dumps(sys.executable)}\n"
        f"args = [{json.dumps(str(TEST_SERVER))}]\n{extra}"
    )


def _script(server: LoopbackServer, kind: str, name: str, arguments: dict[str, object]) -> None:
    server.script(
        ROUTES[kind][1],
        Reply([tool_call_body(kind, name, arguments)], headers=_headers(kind)),
        Reply([text_body(kind, "All done.")], headers=_headers(kind)),
    )


@pytest.mark.parametrize("kind", KINDS)
def test_third_party_time_server_end_to_end(
    kind: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, kind)
    _with_servers(env, _time_server())
    _script(server, kind, "mcp__time__get_current_time", {"timezone": "Europe/Paris"})
    done = env.run("-p", "what time is it in Paris?", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    start = next(e for e in events if e["type"] == "tool_call_start")
    assert start["name"] == "mcp__time__get_current_time"
    result = next(e for e in events if e["type"] == "tool_result")
    assert result["name"] == "mcp__time__get_current_time" and result["ok"], result
    assert '"timezone": "Europe/Paris"' in result["content"]
    # The first request offered the tool; the second carries the server's answer.
    assert "mcp__time__get_current_time" in server.requests[0].body.decode()
    ref, content = tool_result_in(kind, server.requests[1].json())
    assert ref in ("call_1", "mcp__time__get_current_time")
    assert "Europe/Paris" in content and "datetime" in content


def test_without_yes_an_ask_server_is_refused(server: LoopbackServer, tmp_path: Path) -> None:
    env = Env(tmp_path, server, "openai")
    _with_servers(env, _time_server())
    _script(server, "openai", "mcp__time__get_current_time", {"timezone": "UTC"})
    done = env.run("-p", "time?", "--json")
    assert done.returncode == 0, done.stderr
    result = next(json.loads(x) for x in done.stdout.splitlines() if '"tool_result"' in x)
    assert not result["ok"] and "refused" in result["content"]


def test_auto_server_runs_without_yes_and_deny_refuses_with_yes(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "anthropic")
    _with_servers(env, _time_server("auto") + _test_server(extra='approval = "deny"\n'))
    server.script(
        ROUTES["anthropic"][1],
        Reply(
            [tool_call_body("anthropic", "mcp__time__get_current_time", {"timezone": "UTC"})],
            headers=_headers("anthropic"),
        ),
        Reply(
            [tool_call_body("anthropic", "mcp__t__echo", {"text": "hi"}, call_id="call_2")],
            headers=_headers("anthropic"),
        ),
        Reply([text_body("anthropic", "ok")], headers=_headers("anthropic")),
    )
    done = env.run("-p", "go", "--json", "--yes")
    assert done.returncode == 0, done.stderr
    results = [json.loads(x) for x in done.stdout.splitlines() if '"tool_result"' in x]
    assert results[0]["ok"] and "UTC" in results[0]["content"]
    assert not results[1]["ok"] and "approval = 'deny'" in results[1]["content"]


def test_server_environment_is_minimal(server: LoopbackServer, tmp_path: Path) -> None:
    env = Env(tmp_path, server, "openai")
    extra = 'approval = "auto"\nenv_passthrough = ["PASSED"]\nenv = { SET = "s" }\n'
    _with_servers(env, _test_server(extra=extra))
    names = ("TEST_API_KEY", "OTHER", "PASSED", "SET")
    calls = [
        tool_call_body("openai", "mcp__t__environment", {"name": name}, call_id=f"c{i}")
        for i, name in enumerate(names)
    ]
    server.script(
        ROUTES["openai"][1],
        *(Reply([body], headers=_headers("openai")) for body in calls),
        Reply([text_body("openai", "ok")], headers=_headers("openai")),
    )
    done = env.run("-p", "env?", "--json", OTHER="o", PASSED="p")
    assert done.returncode == 0, done.stderr
    contents = [json.loads(x)["content"] for x in done.stdout.splitlines() if '"tool_result"' in x]
    assert contents == ["<unset>", "<unset>", "p", "s"]


def test_missing_server_command_is_reported_and_the_turn_goes_on(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "openai")
    _with_servers(env, '[mcp.servers.gone]\ncommand = "/nonexistent/mcp-server"\n')
    _script(server, "openai", "mcp__gone__anything", {})
    done = env.run("-p", "hi", "--json", "--yes")
    assert done.returncode == 0, done.stderr
    assert "MCP server 'gone' is not available: command not found" in done.stderr
    result = next(json.loads(x) for x in done.stdout.splitlines() if '"tool_result"' in x)
    assert not result["ok"] and "gone" in result["content"]
    assert "Traceback" not in done.stderr


def test_chattui_mcp_lists_each_servers_state_and_tools(tmp_path: Path) -> None:
    env = Env(tmp_path, None, "openai")
    _with_servers(env, _test_server() + '[mcp.servers.gone]\ncommand = "/nonexistent/server"\n')
    done = env.run("mcp")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("t: ready (stdio), ") and lines[0].endswith(" tools")
    assert "  mcp__t__echo  Return the text unchanged." in lines  # the first line only
    assert "gone: failed: command not found: /nonexistent/server" in lines
    assert "Traceback" not in done.stderr


def test_chattui_mcp_exits_0_when_every_server_is_up(tmp_path: Path) -> None:
    env = Env(tmp_path, None, "openai")
    _with_servers(env, _time_server())
    done = env.run("mcp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("time: ready (stdio), 2 tools\n  mcp__time__get_current_time")
