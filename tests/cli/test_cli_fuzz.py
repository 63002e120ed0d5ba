"""Property tests for the command line: any argv ends in 0, 1 or 2 with one clear message.

Cases run in-process (``tui.cli.main(argv)`` with stdout/stderr captured, the TUI's event
loop replaced by a stub after start-up) for speed, plus a few real subprocesses. The
option and command tables below are the whole grammar the fuzzer knows: a new flag or
command is one line in ``OPTIONS`` or ``COMMANDS``. The suite runs a bounded,
derandomized profile; ``python3 dev.py bench`` runs a long one (``tests/support/fuzz.py``).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.configs import ENV_KEY, ENV_NAMES, SECRETS, Document, documents
from tests.support.fuzz import fuzz_settings
from tests.support.loopback import LoopbackServer, Reply, loopback
from tests.support.wire import text_body
from tui import cli
from tui.core.session import refuse_all

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

TEST_KEY = "sk-test-fuzz"  # the key of the module's own config
# Command-line text: printable, hostile (ESC, bidi) and undecodable bytes as Python
# receives them in argv (surrogate escapes); never NUL, which argv cannot carry.
ARG_TEXT = st.text(
    st.one_of(
        st.sampled_from("\x1b[2J\u202e\udcff\n\t -=./"),
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    ),
    max_size=10,
)


def flag(name: str) -> st.SearchStrategy[list[str]]:
    """``[name]``."""
    return st.just([name])


def option(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    """``[name, value]``, or ``[name=value]``, or ``[name]`` with the value missing."""
    return st.one_of(
        st.builds(lambda v: [name, v], values),
        st.builds(lambda v: [f"{name}={v}"], values),
        st.just([name]),
    )


PATHS = st.sampled_from(["ws", "missing", "ws/file.txt", "/dev/null", "\x1b]0;x\x07", ".."])
# The grammar: one line per option of the main command.
OPTIONS: dict[str, st.SearchStrategy[list[str]]] = {
    "-p": option("-p", st.one_of(st.sampled_from(["hi", "a\udcff"]), ARG_TEXT)),
    "--json": flag("--json"),
    "--yes": flag("--yes"),
    "--provider": option("--provider", st.sampled_from(["p", "down", "nope", "\x1b[2J", ""])),
    "--model": option("--model", st.one_of(st.sampled_from(["m2", "\udcff"]), ARG_TEXT)),
    "--workspace": option("--workspace", PATHS),
    "--config": option(
        "--config", st.sampled_from(["config.toml", "missing.toml", "/dev/null", "ws"])
    ),
    "--resume": st.one_of(
        flag("--resume"),
        option("--resume", st.sampled_from(["latest", "nope", "../x", "/dev/null", "ws/file.txt"])),
    ),
    "--version": flag("--version"),
    "--help": flag("--help"),
    "unknown": st.sampled_from([["--nope"], ["-z"], ["--json=1"], ["--"], ["stray"]]),
}
# One line per subcommand: its own options.
COMMANDS: dict[str, st.SearchStrategy[list[str]]] = {
    "export": st.lists(
        st.one_of(
            st.sampled_from([["latest"], ["nope"], ["../x"], ["/dev/null"], ["ws/x.jsonl"]]),
            option("--format", st.sampled_from(["md", "json", "pdf"])),
            option("-o", st.sampled_from(["out.md", "ws", "missing/out.md"])),
            OPTIONS["unknown"],
        ),
        max_size=3,
    ).map(lambda groups: [a for g in groups for a in g]),
    "config": st.lists(st.one_of(OPTIONS["--config"], OPTIONS["unknown"]), max_size=2).map(
        lambda groups: [a for g in groups for a in g]
    ),
    "models": st.lists(
        st.one_of(OPTIONS["--provider"], OPTIONS["--config"], flag("--json"), OPTIONS["unknown"]),
        max_size=3,
    ).map(lambda groups: [a for g in groups for a in g]),
}


# What is piped in: nothing, text, or bytes that are not UTF-8 (as Python reads them).
STDIN = st.sampled_from(["", "piped text\n", "\udcff\udcfe\n"])


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    """A command line from the tables: an optional subcommand, then options in any order."""
    command = draw(st.sampled_from([None, *COMMANDS]))
    if command is not None:
        return [command, *draw(COMMANDS[command])]
    groups = draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=5))
    return [arg for name in groups for arg in draw(OPTIONS[name])]


@dataclass(frozen=True)
class Outcome:
    """How one run ended."""

    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Home:
    """A config, a data dir and a workspace, and the loopback server the config points at."""

    root: Path
    server: LoopbackServer

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        return {
            **keep,
            "CHATTUI_CONFIG": str(self.root / "config.toml"),
            "CHATTUI_DATA_DIR": str(self.root / "data"),
            "CHATTUI_DEMO_DELAY": "0",
            "TEST_KEY": TEST_KEY,
            **{name: ENV_KEY for name in ENV_NAMES},
            **{f"{v}_API_KEY": ENV_KEY for v in ("OPENAI", "ANTHROPIC", "GEMINI")},
        }


@pytest.fixture(scope="module")
def home() -> Iterator[Home]:
    with tempfile.TemporaryDirectory() as tmp, loopback() as server:
        root = Path(tmp)
        (root / "ws").mkdir()
        (root / "ws" / "file.txt").write_text("x")
        server.script("/v1/chat/completions", Reply(chunks=[text_body("openai", "hello")]))
        (root / "config.toml").write_text(
            'default_provider = "p"\n'
            f'[providers.p]\nkind = "openai"\nbase_url = "{server.base_url}/v1"\nmodel = "m"\n'
            'api_key_env = "TEST_KEY"\nmax_retries = 0\n'
            '[providers.down]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
            "max_retries = 0\n"
            f'[tools]\nworkspace = "{root / "ws"}"\n'
        )
        home = Home(root, server)
        first = run_in_process(home, ["-p", "hi"])  # a transcript for --resume to find
        assert first.code == 0 and first.out == "hello\n", first
        yield home


def run_in_process(
    home: Home, argv: list[str], config: str | None = None, stdin: str = ""
) -> Outcome:
    """``tui.cli.main(argv)`` in ``home``; the TUI starts up but its event loop does not run.

    stdout and stderr encode like a real process's in a UTF-8 locale (stdout strict,
    stderr with backslash escapes), so text that cannot be written fails here too.
    """
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(
        io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    env = home.env()
    if config is not None:
        env["CHATTUI_CONFIG"] = config
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, env, clear=True))
        stack.enter_context(mock.patch.object(sys, "stdin", io.StringIO(stdin)))
        stack.enter_context(mock.patch("tui.pipe.terminal_approver", lambda: refuse_all))
        stack.enter_context(mock.patch("tui.ui.app.ChatApp.run", lambda self: None))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        cwd = os.getcwd()
        os.chdir(home.root)
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        finally:
            os.chdir(cwd)
    return Outcome(int(code), _written(out), _written(err))


def _written(stream: io.TextIOWrapper) -> str:
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode("utf-8")


def assert_ends_clearly(outcome: Outcome) -> None:
    """Exit 0, 1 or 2; no traceback; an error says so in one message; nothing hostile shown."""
    assert outcome.code in (0, 1, 2), outcome
    assert "Traceback" not in outcome.err, outcome
    assert not UNSAFE.search(outcome.err), outcome
    for secret in (*SECRETS, TEST_KEY):
        assert secret not in outcome.out + outcome.err, outcome
    if outcome.code == 2 and outcome.out.endswith(" problem(s)\n"):
        assert not UNSAFE.search(outcome.out), outcome  # the doctor's report
    elif outcome.code == 2:
        lines = outcome.err.strip().splitlines()
        assert lines and lines[-1].startswith("chattui"), outcome
        assert sum(line.startswith("chattui") for line in lines) == 1, outcome


@fuzz_settings(80)
@given(argv=argvs(), stdin=STDIN)
def test_any_command_line_ends_clearly(home: Home, argv: list[str], stdin: str) -> None:
    assert_ends_clearly(run_in_process(home, argv, stdin=stdin))


@fuzz_settings(30)
@given(document=documents())
def test_when_the_doctor_says_ok_the_run_starts(home: Home, document: Document) -> None:
    path = home.root / "generated.toml"
    path.write_text(document.text, encoding="utf-8")
    doctor = run_in_process(home, ["config"], config=str(path))
    assert_ends_clearly(doctor)
    if doctor.code != 0:
        return
    with mock.patch("tui.pipe._drive", _no_turn):
        for argv in (["-p", "hi"], [], ["--resume"]):
            outcome = run_in_process(home, argv, config=str(path))
            assert outcome.code == 0, (argv, doctor, outcome)


async def _no_turn(events: object, printer: object, close: object, out: object) -> int:
    await close()  # type: ignore[operator]
    events.aclose()  # type: ignore[attr-defined]
    return 0


# --- a few real processes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--nope"],
        ["-p"],
        ["config", "--config", "/dev/null"],
        ["export", "nope"],
        ["--json"],
        ["-p", "hi", "--provider", "\x1b]0;pwned\x07"],
        ["-p", "hi", "--workspace", "missing"],
        ["-p", "hi", "--provider", "down"],
    ],
)
def test_real_processes_end_clearly(home: Home, argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", *argv],
        capture_output=True,
        text=True,
        env=home.env(),
        cwd=home.root,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert_ends_clearly(Outcome(done.returncode, done.stdout, done.stderr))
    assert done.returncode != 0


@pytest.mark.parametrize(
    ("argv", "stdin", "where"),
    [
        (["-p", "a\udcff"], b"", "-p"),
        (["-p", "hi"], b"text \xff\xfe\n", "stdin"),
        (["--model", "\udcff", "-p", "hi"], b"", "--model"),
        (["--model", "m\udcff"], b"", "--model"),
    ],
)
def test_bytes_that_are_not_utf8_are_refused_before_any_request(
    home: Home, argv: list[str], stdin: bytes, where: str
) -> None:
    # A str argument holding a surrogate escape reaches the child as the raw byte.
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", *argv],
        input=stdin,
        capture_output=True,
        env=home.env(),
        cwd=home.root,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert done.stderr.decode() == (
        f"chattui: {where}: not UTF-8 text (it holds bytes that cannot be decoded)\n"
    )
