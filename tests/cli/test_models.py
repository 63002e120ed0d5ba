"""``chattui models`` end to end: the real command against a loopback server of every kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_pipe import KEY, Env
from tests.support.loopback import LoopbackServer, Reply
from tests.support.models import MODEL_ROUTES, models_body
from tests.support.wire import KINDS

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("kind", KINDS)
def test_lists_the_servers_models_and_marks_the_configured_one(
    kind: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, kind)
    body = models_body(kind, ["zeta", "test-model", "alpha"])
    server.script(MODEL_ROUTES[kind], Reply([body], headers=JSON))
    done = env.run("models")
    assert done.returncode == 0, done.stderr
    ids = [line[2:].split("  ")[0] for line in done.stdout.splitlines()]
    assert ids == ["alpha", "test-model", "zeta"]
    assert "* test-model" in done.stdout
    assert "3 models from p" in done.stderr
    assert KEY not in done.stdout + done.stderr


def test_json_output(server: LoopbackServer, tmp_path: Path) -> None:
    env = Env(tmp_path, server, "anthropic")
    server.script("/v1/models", Reply([models_body("anthropic", ["claude-x"])], headers=JSON))
    done = env.run("models", "--json", "--provider", "p")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data == {
        "provider": "p",
        "kind": "anthropic",
        "current": "test-model",
        "models": [{"id": "claude-x", "label": "CLAUDE-X"}],
    }


def test_a_server_without_a_model_list_exits_1_saying_so(
    server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, "openai")
    server.script("/v1/models", Reply([b'{"error": "no"}'], status=404, headers=JSON))
    done = env.run("models")
    assert done.returncode == 1
    assert "has no model list (HTTP 404)" in done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr


def test_unknown_provider_is_a_usage_error(server: LoopbackServer, tmp_path: Path) -> None:
    done = Env(tmp_path, server).run("models", "--provider", "nope")
    assert done.returncode == 2
    assert "unknown provider 'nope'" in done.stderr


def test_an_unreachable_server_exits_1(tmp_path: Path) -> None:
    done = Env(tmp_path, None).run("models")
    assert done.returncode == 1
    assert "could not connect" in done.stderr
