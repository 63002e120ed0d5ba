"""dev.py's test command: the static checks CI relies on run, and fail the command."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checks_are_the_ones_the_project_configures() -> None:
    dev = load_dev()
    commands = {name: args for name, args in dev.CHECKS}
    assert commands["ruff check"][:2] == ["ruff", "check"]
    assert commands["ruff format --check"][:3] == ["ruff", "format", "--check"]
    assert commands["mypy --strict providers tui"] == ["mypy", "--strict", "providers", "tui"]


@pytest.mark.parametrize(
    ("failing", "expected"),
    [(set(), 0), ({"ruff"}, 1), ({"mypy"}, 1), ({"pytest"}, 5), ({"ruff", "pytest"}, 5)],
)
def test_a_failing_check_fails_the_test_command_and_pytest_still_runs(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failing: set[str],
    expected: int,
) -> None:
    dev = load_dev()
    ran: list[str] = []

    def call(args: list[str], cwd: Path) -> int:
        tool = "pytest" if args[1:3] == ["-m", "pytest"] else Path(args[0]).name
        ran.append(tool)
        return (5 if tool == "pytest" else 1) if tool in failing else 0

    monkeypatch.setattr(dev.subprocess, "call", call)
    assert dev.test(["-q"]) == expected
    assert ran == ["ruff", "ruff", "mypy", "pytest"]
    if failing - {"pytest"}:
        assert "dev.py: failed:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "workers"),
    [
        ([], ["-n", str(2 * (os.cpu_count() or 1))]),
        (["tests/unit", "-q"], ["-n", str(2 * (os.cpu_count() or 1))]),
        (["-n", "0"], []),
        (["-n2"], []),
        (["--numprocesses=4"], []),
        (["-p", "no:xdist"], []),
        (["--pdb", "tests/unit"], []),
    ],
)
def test_pytest_runs_two_workers_per_core_unless_told(args: list[str], workers: list[str]) -> None:
    command = load_dev().pytest_command(args)
    assert command[1:3] == ["-m", "pytest"]
    assert command[3:] == [*workers, *args]


def test_dev_py_runs_on_the_standard_library_alone() -> None:
    imported = {
        line.split()[1]
        for line in (ROOT / "dev.py").read_text().splitlines()
        if line.startswith(("import ", "from ")) and " __future__ " not in line
    }
    assert imported <= set(sys.stdlib_module_names), imported


def test_every_module_marked_slow_exists() -> None:
    from tests.conftest import SLOW

    assert all((ROOT / path).is_file() for path in SLOW), SLOW
