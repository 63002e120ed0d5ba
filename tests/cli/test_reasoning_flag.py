"""``--reasoning`` and the ``reasoning`` key reach the request body of a real run."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_pipe import Env
from tests.support.loopback import LoopbackServer, Reply
from tests.support.wire import ROUTES, text_body


def test_the_flag_overrides_the_providers_setting(server: LoopbackServer, tmp_path: Path) -> None:
    env = Env(tmp_path, server, "openai-responses")
    env.config.write_text(env.config.read_text().replace("[tools]", 'reasoning = "low"\n[tools]'))
    server.script(ROUTES["openai-responses"][1], Reply([text_body("openai-responses", "ok")]))
    for args, effort in (((), "low"), (("--reasoning", "high"), "high")):
        done = env.run("-p", "hi", *args)
        assert done.returncode == 0, done.stderr
        assert server.requests[-1].json()["reasoning"] == {"effort": effort}


def test_an_unknown_level_is_a_usage_error(tmp_path: Path) -> None:
    done = Env(tmp_path, None).run("-p", "hi", "--reasoning", "max")
    assert done.returncode == 2 and "--reasoning" in done.stderr
