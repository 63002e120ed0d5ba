"""Property tests: configs generated from the schema, valid and broken (tui/core/config/).

For every generated file: loading either succeeds or raises ``ConfigError`` with one
line that holds no control or bidi character (never another exception); a file drawn
valid loads; and whenever the doctor reports no problem, the run starts
(``runtime.start``), so ``chattui config`` saying ok means the run does not fail on
config grounds. The suite runs a bounded, derandomized profile; ``python3 dev.py bench``
runs a long one (see ``tests/support/fuzz.py``).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import event, given

from tests.support.configs import (
    ENV_KEY,
    ENV_NAMES,
    SCHEMA,
    SECRETS,
    Document,
    documents,
    raw_bytes,
)
from tests.support.fuzz import fuzz_settings
from tui.core.config import SECTION_KEYS, Config, ConfigError, load_config
from tui.core.keys import Severity, doctor
from tui.core.runtime import Options, StartupError, start
from tui.core.session import RequestFailed, TurnEnded

# What must never reach a terminal: C0/C1 controls (ESC above all) and bidi/zero-width marks.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """One directory for the module: the config file, the data dir, the workspace."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "ws").mkdir()
        yield root


def environment(home: Path) -> dict[str, str]:
    return {
        "CHATTUI_DATA_DIR": str(home / "data"),
        "CHATTUI_CONFIG": str(home / "config.toml"),
        **{name: ENV_KEY for name in ENV_NAMES},
        **{f"{vendor}_API_KEY": ENV_KEY for vendor in ("OPENAI", "ANTHROPIC", "GEMINI")},
    }


def load(home: Path, content: bytes) -> Config | str:
    """The loaded config, or the ConfigError message; anything else fails the test."""
    (home / "config.toml").write_bytes(content)
    try:
        return load_config(env=environment(home), cwd=home / "ws")
    except ConfigError as exc:
        return str(exc)


def assert_clear(message: str) -> None:
    assert message and "\n" not in message, message
    assert not UNSAFE.search(message), message
    assert "Traceback" not in message
    assert_no_secret(message)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


def assert_doctor_agrees_with_the_run(home: Path, config: Config) -> None:
    env = environment(home)
    findings = doctor(config, env=env)
    for finding in findings:
        assert not UNSAFE.search(finding.text), finding
        assert_no_secret(finding.text)
    if any(f.severity is Severity.PROBLEM for f in findings):
        event("doctor: problem")
        return
    event("doctor: ok, run started")
    cwd = os.getcwd()
    os.chdir(home / "ws")  # start() resolves a relative workspace against the cwd
    try:
        for name in config.providers:
            asyncio.run(_one_turn(name, env))
    except StartupError as exc:  # the doctor said ok: this is the bug this test is about
        pytest.fail(f"doctor ok, run refused: {exc}")
    finally:
        os.chdir(cwd)


async def _one_turn(name: str, env: dict[str, str]) -> None:
    """Start provider ``name`` and send one prompt; the request must be built and sent.

    The transport answers every request with HTTP 400, so the turn ends at once with a
    failed request; what matters is that the URL, headers and body the config shapes
    (model names with control characters, extra headers, a system prompt) reach it.
    """
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(400, json={"error": {"message": "no"}})

    runtime = start(
        Options(provider=name), env=env, transport=httpx.MockTransport(answer), sleep=_no_sleep
    )
    try:
        events = [e async for e in runtime.session.send("hi")]
    finally:
        runtime.close()  # the transcript, and any MCP server it started
        await runtime.provider.aclose()
    assert len(sent) == 1, events
    assert isinstance(events[-1], TurnEnded) and any(isinstance(e, RequestFailed) for e in events)
    for event_ in events:
        assert_no_secret(repr(event_))


async def _no_sleep(seconds: float) -> None:
    return None


def test_the_schema_table_covers_every_key_the_loader_accepts() -> None:
    assert set(SCHEMA) == set(SECTION_KEYS)
    for section, keys in SECTION_KEYS.items():
        assert set(SCHEMA[section]) == set(keys), section


@fuzz_settings(60)
@given(document=documents())
def test_generated_configs_load_or_fail_clearly(home: Path, document: Document) -> None:
    outcome = load(home, document.text.encode("utf-8"))
    if isinstance(outcome, str):
        assert not document.valid, outcome
        assert_clear(outcome)
        return
    assert_doctor_agrees_with_the_run(home, outcome)


@fuzz_settings(60)
@given(content=raw_bytes)
def test_files_that_are_not_toml_fail_clearly(home: Path, content: bytes) -> None:
    outcome = load(home, content)
    if isinstance(outcome, str):
        assert_clear(outcome)
    else:
        assert_doctor_agrees_with_the_run(home, outcome)


@pytest.mark.parametrize(
    "text",
    [
        "[tools]\n[tools]\n",
        '[providers.a]\nkind = "demo"\n[providers.a]\n',
        "a = 1\na = 2\n",
        "[providers]\na = 1\n[providers.a]\n",
    ],
)
def test_duplicate_tables_and_keys_name_the_line(home: Path, text: str) -> None:
    outcome = load(home, text.encode())
    assert isinstance(outcome, str)
    assert_clear(outcome)
    assert re.search(r": line \d+, column \d+: ", outcome), outcome


@pytest.mark.parametrize("where", ["dir", "fifo", "missing", "dangling-link"])
def test_odd_config_paths_fail_clearly(tmp_path: Path, where: str) -> None:
    home = tmp_path
    path = home / f"odd-{where}"
    if where == "dir":
        path.mkdir()
    elif where == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("needs FIFOs")
        os.mkfifo(path)
    elif where == "dangling-link":
        path.symlink_to(home / "nowhere")
    try:
        load_config(path, env=environment(home), cwd=home)
    except ConfigError as exc:
        assert_clear(str(exc))
    else:
        pytest.fail(f"{where} loaded")


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_config_fails_clearly(home: Path) -> None:
    path = home / "secret.toml"
    path.write_text("[providers.demo]\n")
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot read: Permission denied"):
        load_config(path, env=environment(home), cwd=home)
