"""Starting the TUI from the command line: what happens before and after its first screen."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import pytest

from tests.support.imports import loaded_after
from tests.support.terminal import TerminalRun, wait_until
from tui import cli
from tui.core import dataclass_cache, regex_cache
from tui.core.dataclass_cache import CodeCache
from tui.core.regex_cache import RegexCache
from tui.ui.compat import css_cache

ROOT = Path(__file__).resolve().parents[2]
ALT_SCREEN = b"\x1b[?1049h"
CTRL_Q = b"\x11"


def test_the_tui_starts_with_the_collector_off_and_gives_it_back_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Start-up makes ~100,000 long-lived objects: no collection walks them before the first
    screen (the app turns collections back on after it; the command line does on exit)."""
    from tui.ui import app

    seen: list[bool] = []
    monkeypatch.setattr(app, "run_app", lambda ns: seen.append(gc.isenabled()) or 0)
    assert cli.main([]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_is_back_on_when_the_tui_fails_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tui.ui import app

    def fail(ns: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "run_app", fail)
    assert cli.main([]) == 130
    assert gc.isenabled()


def test_the_first_screen_imports_no_markdown_highlighter_tool_card_or_palette() -> None:
    """What only an answer, a tool call or the palette needs is imported when first used."""
    later = (
        *("markdown_it", "rich.markdown", "tui.ui.markdown.elements", "pygments", "rich.syntax"),
        *("tui.ui.widgets.code_view", "tui.ui.widgets.tool_card", "tui.ui.commands"),
        *("tui.core.attachments", "tui.core.mcp.manager"),
    )
    assert loaded_after("import tui.ui.app", later) == []


def test_the_command_line_makes_no_dataclass_before_the_start_up_caches() -> None:
    """``tui.cli`` installs the caches when the TUI starts: a dataclass made while it was
    imported (the conversation types, say) would be compiled anew on every start."""
    assert loaded_after("import tui.cli", ("dataclasses", "providers.conversation")) == []


@pytest.mark.parametrize(
    "provider",
    ['kind = "demo"', 'kind = "openai"\nbase_url = "https://api.example.com/v1"'],
    ids=["demo", "https"],
)
def test_the_first_screen_imports_no_http_stack(tmp_path: Path, provider: str) -> None:
    """httpx comes with the connection pool, after the first screen; urllib's proxy helpers
    (http.client, email) only for a plain-http server on another host."""
    config = tmp_path / "config.toml"
    config.write_text(f"[providers.p]\n{provider}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATTUI_")}
    env.update(CHATTUI_CONFIG=str(config), OPENAI_API_KEY="sk-test")
    code = "from tui.core.runtime import Options, start\nimport tui.ui.app\nstart(Options())"
    assert loaded_after(code, ("httpx", "urllib.request", "http.client"), env) == []


def test_the_first_screen_reads_no_package_metadata_nor_email(tmp_path: Path) -> None:
    """Both only on demand: Textual's version (``importlib.metadata``, 5 ms of imports with
    ``email``, ``zipfile`` and ``csv``) is not the stylesheet cache's key, and a
    ``retry-after`` date (``email.utils``) is parsed only when a server sends one."""
    config = tmp_path / "config.toml"
    config.write_text('[providers.demo]\nkind = "demo"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATTUI_")}
    env.update(CHATTUI_CONFIG=str(config), CHATTUI_CACHE_DIR=str(tmp_path / "cache"))
    env.update(CHATTUI_DATA_DIR=str(tmp_path / "data"))
    code = (
        "from tui.core.runtime import Options, start\nimport tui.ui.app\nstart(Options())\n"
        "from tui.ui.compat import css_cache\ncss_cache.install()"
    )
    assert loaded_after(code, ("email", "email.utils", "importlib.metadata"), env) == []


def demo_home(tmp_path: Path) -> tuple[list[str], dict[str, str], str]:
    """argv, environment and cwd of the real ``chattui`` (offline demo) in ``tmp_path``."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    config = tmp_path / "config.toml"
    config.write_text('[providers.demo]\nkind = "demo"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATTUI_")}
    env.update(
        CHATTUI_CONFIG=str(config),
        CHATTUI_DATA_DIR=str(tmp_path / "data"),
        CHATTUI_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONPATH=str(ROOT),
    )
    argv = [sys.executable, "-m", "tui.cli", "--workspace", str(workspace)]
    return argv, env, str(ROOT)


def drawn(run: TerminalRun) -> bytes:
    """What the app drew: the output after its switch to the alternate screen (before it,
    the pty's own echo shows typed keys whether or not the app ever gets them)."""
    output = run.since(0)
    start = output.find(ALT_SCREEN)
    return output[start:] if start >= 0 else b""


@pytest.mark.skipif(not hasattr(os, "posix_spawn"), reason="POSIX terminals only")
def test_keys_typed_before_the_first_screen_reach_the_prompt(tmp_path: Path) -> None:
    """What a user types while chattui starts is not lost: it lands in the prompt."""
    with TerminalRun(*demo_home(tmp_path), size=(120, 40)) as run:
        run.send(b"typed early")  # at once: the interpreter has not even started Textual
        wait_until(lambda: b"typed early" in drawn(run), "the early keys never reached the prompt")
        assert run.seen(b"palette")  # the first screen, footer and all
        run.send(CTRL_Q)
        assert run.wait().status == 0


@pytest.mark.skipif(not hasattr(os, "posix_spawn"), reason="POSIX terminals only")
def test_the_tui_keeps_what_it_compiled_after_the_first_screen(tmp_path: Path) -> None:
    argv, env, cwd = demo_home(tmp_path)
    methods, patterns = dataclass_cache.cache_file(env), regex_cache.cache_file(env)
    stylesheets = css_cache.cache_file(env)
    with TerminalRun(argv, env, cwd, size=(120, 40)) as run:
        run.wait_for(b"palette")
        kept = (methods, patterns, stylesheets)
        wait_until(lambda: all(p.exists() for p in kept), "no cache after the screen")
        run.send(CTRL_Q)
        assert run.wait().status == 0
    code = CodeCache(methods)
    code.load()
    assert len(code.known) > 200  # Textual's and chattui's, the first screen's and after
    regexes = RegexCache(patterns)
    regexes.load()
    assert len(regexes.known) > 50
    parsed = css_cache.CssCache(stylesheets)
    parsed.load()
    assert len(parsed.known) > 10  # app.tcss and the default CSS of every widget on screen
