"""``--json`` usage lines end to end: one per request, cache counts from every wire format,
``cost_usd`` only when the model's price is known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_pipe import Env
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import KINDS, ROUTES, tool_call_body, usage_body


def _reply(kind: str, body: bytes) -> Reply:
    kind_type = "application/x-ndjson" if kind == "ollama" else "text/event-stream"
    return Reply([body], headers={"Content-Type": kind_type})


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.mark.parametrize("kind", KINDS)
def test_usage_lines_carry_cached_tokens_and_no_cost_for_an_unknown_model(
    kind: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, kind)
    server.script(
        ROUTES[kind][1],
        _reply(kind, tool_call_body(kind, "list_files", {"path": "."})),
        _reply(
            kind, usage_body(kind, "Two files.", 12_300, cached=9_800, output=640, written=1_500)
        ),
    )
    done = env.run("-p", "what is here?", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    usage = [line for line in lines if line["type"] == "usage"]
    assert 1 <= len(usage) <= 2  # one per request that reported usage, never one per report
    last = usage[-1]
    assert (last["input_tokens"], last["output_tokens"]) == (12_300, 640)
    if kind != "ollama":  # Ollama's API reports no cache count
        assert last["cached_tokens"] == 9_800
    # Only Anthropic reports cache writes (the others cache on their own, without a count).
    assert last.get("cache_write_tokens") == (1_500 if kind == "anthropic" else None)
    assert not any("cost_usd" in line for line in usage)
    # The usage line of a request comes before its finish line.
    assert lines.index(last) < max(i for i, x in enumerate(lines) if x["type"] == "finish")
    # Said once, on stderr, whatever the number of requests.
    assert done.stderr.count("no price is known for model 'test-model'") == 1


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
def test_a_priced_model_has_cost_usd_on_every_usage_line(
    kind: str, server: LoopbackServer, tmp_path: Path
) -> None:
    env = Env(tmp_path, server, kind)
    price = "price = { input = 3.0, output = 15.0, cache_read = 0.3 }\n"
    env.config.write_text(env.config.read_text().replace("[tools]", price + "[tools]"))
    server.script(
        ROUTES[kind][1],
        _reply(kind, usage_body(kind, "Hello.", prompt=12_300, cached=9_800, output=640)),
    )
    done = env.run("-p", "hi", "--json")
    assert done.returncode == 0, done.stderr
    (usage,) = [line for line in _lines(done.stdout) if line["type"] == "usage"]
    expected = (2_500 * 3.0 + 9_800 * 0.3 + 640 * 15.0) / 1e6
    assert usage["cost_usd"] == pytest.approx(expected)
    assert "no price is known" not in done.stderr
