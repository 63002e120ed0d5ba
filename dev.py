"""Set-up and run in one command: `python3 dev.py run` or `python3 dev.py test`.

Creates `.venv` beside this file on first use (and again when pyproject.toml
changes), installs chattui into it with the test extras, then runs the
command. `test` runs the static checks the project configures (ruff lint,
ruff format, mypy --strict) and then pytest; it fails when any of them fails.
Uses only the standard library, so it works on a fresh machine with Python 3.11+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".chattui-installed"
CHECKS = (
    ("ruff check", ["ruff", "check", "--quiet", "."]),
    ("ruff format --check", ["ruff", "format", "--check", "--quiet", "."]),
    ("mypy --strict providers tui", ["mypy", "--strict", "providers", "tui"]),
)
"""Static checks run by `test` (and alone by `check`), as CI runs them."""
SERIAL = ("-n", "--numprocesses", "--dist", "-p", "--pdb", "--trace")
"""pytest options after which `test` leaves the choice of workers to the caller."""


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create or refresh the virtual environment when pyproject.toml changed."""
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing chattui and its test tools ...", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test,bench]"], check=True)
    STAMP.write_text(_fingerprint())


def run_checks() -> list[str]:
    """Run every static check; return the names of those that failed."""
    failed = []
    for name, (tool, *args) in CHECKS:
        if subprocess.call([str(BIN / tool), *args], cwd=ROOT) != 0:
            failed.append(name)
    return failed


def pytest_command(pytest_args: list[str]) -> list[str]:
    """pytest with two workers per core (pytest-xdist) unless the arguments choose otherwise.

    Two per core, because much of the suite waits on real processes, sockets and
    the terminal rather than computing: on 2 cores, 4 workers finish in about
    two thirds of the time 2 take.
    """
    chosen = any(arg.split("=")[0] in SERIAL or arg.startswith("-n") for arg in pytest_args)
    workers = [] if chosen else ["-n", str(2 * (os.cpu_count() or 1))]
    return [str(BIN / "python"), "-m", "pytest", *workers, *pytest_args]


def test(pytest_args: list[str]) -> int:
    """The static checks, then pytest (run even when a check failed, so both are reported)."""
    failed = run_checks()
    code = subprocess.call(pytest_command(pytest_args), cwd=ROOT)
    if failed:
        print(f"dev.py: failed: {', '.join(failed)}", file=sys.stderr)
        return code or 1
    return code


def main(argv: list[str]) -> int:
    """Dispatch `run [chattui args]`, `test [pytest args]`, `check` or `bench`."""
    if not argv or argv[0] not in {"run", "test", "check", "bench"}:
        usage = "usage: python3 dev.py run [ARGS] | test [PYTEST ARGS] | check | bench"
        print(usage, file=sys.stderr)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "test":
        return test(rest)
    if command == "check":
        failed = run_checks()
        if failed:
            print(f"dev.py: failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    if command == "run":
        args = [str(BIN / "chattui"), *rest]
    else:
        args = [str(BIN / "python"), str(ROOT / "benchmarks" / "run_all.py"), *rest]
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
