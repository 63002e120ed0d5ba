"""Import boundaries: the model layer never pulls in the UI, and stays cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(statement: str, *names: str) -> dict[str, bool]:
    """Run ``statement`` in a fresh interpreter; which of ``names`` are in sys.modules."""
    report = f"print(json.dumps({{n: n in sys.modules for n in {names!r}}}))"
    probe = f"import json, sys\n{statement}\n{report}"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, bool] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_the_model_layer_core_does_not_import_textual() -> None:
    loaded = loaded_after(
        "import providers, providers.base, providers.sse, providers.accumulate",
        "textual",
        "tui",
        "providers.base",
    )
    # Not rich: httpx itself imports it (for its CLI) when it is installed.
    assert loaded == {"textual": False, "tui": False, "providers.base": True}


def test_importing_providers_alone_does_not_import_httpx() -> None:
    loaded = loaded_after("import providers", "httpx", "providers.base", "providers")
    assert loaded == {"httpx": False, "providers.base": False, "providers": True}
