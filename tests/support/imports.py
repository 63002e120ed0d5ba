"""What a piece of code imports, run in a fresh interpreter (earlier imports do not count)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping


def loaded_after(
    code: str, modules: Iterable[str], env: Mapping[str, str] | None = None
) -> list[str]:
    """Which of ``modules`` are loaded once ``code`` ran in a fresh Python, sorted."""
    wanted = tuple(modules)
    script = f"{code}\nimport sys\nprint(sorted(m for m in {wanted!r} if m in sys.modules))\n"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    loaded: list[str] = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    return loaded
