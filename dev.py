"""Set-up and run in one command: `python3 dev.py run` or `python3 dev.py test`.

Creates `.venv` beside this file on first use (and again when pyproject.toml
changes), installs chattui into it with the test extras, then runs the
command. Uses only the standard library, so it works on a fresh machine with
Python 3.11+.
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


def main(argv: list[str]) -> int:
    """Dispatch `run [chattui args]`, `test [pytest args]` or `bench`."""
    if not argv or argv[0] not in {"run", "test", "bench"}:
        print("usage: python3 dev.py run [ARGS] | test [PYTEST ARGS] | bench", file=sys.stderr)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "run":
        args = [str(BIN / "chattui"), *rest]
    elif command == "test":
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    else:
        args = [str(BIN / "python"), str(ROOT / "benchmarks" / "run_all.py"), *rest]
    return subprocess.call(args, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
