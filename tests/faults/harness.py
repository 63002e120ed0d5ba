"""A temporary chattui home for hardening tests: config, data dir, workspace.

``Home`` writes a real config TOML pointing one provider at a test server
(llmock or the loopback server), then either starts the runtime in-process
(``start``) or runs the real ``chattui`` command as a subprocess (``run``), so
the same fault can be driven through the session and through pipe mode.

The API key is made at import time, so it appears in no source line that a
rendered traceback could quote.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from tui.core.runtime import Options, Runtime, start
from tui.core.session import Approver, SessionEvent, refuse_all
from tui.core.transcript import Transcript, list_transcripts, load

KEY = "sk-test-" + secrets.token_hex(12)
KEY_ENV = "TEST_API_KEY"
ROOT = Path(__file__).resolve().parents[2]


class Sleeps(list[float]):
    """A retry ``sleep`` that records each delay and really waits it."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)
        await asyncio.sleep(delay)


class Home:
    """Config, data dir and workspace for one provider.

    Args:
        tmp: an empty temporary directory.
        kind: the provider kind (wire format).
        base_url: the provider's ``base_url`` as the config gives it.
        timeout: read timeout in seconds.
        max_retries: retries before the first delta.
    """

    def __init__(
        self,
        tmp: Path,
        kind: str,
        base_url: str,
        *,
        timeout: float = 5.0,
        max_retries: int = 2,
        approval: str = "ask",
    ) -> None:
        self.tmp = tmp
        self.workspace = tmp / "ws"
        self.workspace.mkdir(exist_ok=True)
        self.data = tmp / "data"
        self.config = tmp / "config.toml"
        self.config.write_text(
            f'default_provider = "p"\n[providers.p]\nkind = "{kind}"\nbase_url = "{base_url}"\n'
            f'model = "test-model"\napi_key_env = "{KEY_ENV}"\ntimeout = {timeout}\n'
            f"max_retries = {max_retries}\n"
            f'[tools]\nworkspace = "{self.workspace}"\napproval = "{approval}"\n',
            encoding="utf-8",
        )

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: only our key variable, our config and data dir."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith(("_API_KEY", "_BASE_URL", "_API_URL"))
            and not k.startswith("CHATTUI_")
        }
        env.update(
            {
                KEY_ENV: KEY,
                "CHATTUI_CONFIG": str(self.config),
                "CHATTUI_DATA_DIR": str(self.data),
                "CHATTUI_CACHE_DIR": str(self.tmp / "cache"),
                "CHATTUI_DEMO_DELAY": "0",
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update(extra)
        return env

    def start(
        self, approver: Approver = refuse_all, resume: str | None = None, **provider_kwargs: Any
    ) -> Runtime:
        """The runtime, in-process (``provider_kwargs`` go to the adapter)."""
        options = Options(config=self.config, resume=resume)
        return start(options, approver, env=self.env(), **provider_kwargs)

    def command(self, *args: str) -> list[str]:
        """The argv that runs ``chattui ARGS``."""
        return [sys.executable, "-m", "tui.cli", *args]

    def run(
        self, *args: str, timeout: float = 60, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``chattui ARGS`` without a controlling terminal; capture its output."""
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            env=self.env(**extra),
            timeout=timeout,
            start_new_session=True,
            cwd=self.workspace,
            stdin=subprocess.DEVNULL,
        )

    def spawn(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        """Start ``chattui ARGS`` like ``run`` (no controlling terminal), output piped."""
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env(**extra),
            cwd=self.workspace,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def transcripts(self) -> list[Transcript]:
        """Every saved transcript, newest first."""
        return [load(info.path) for info in list_transcripts(self.data / "transcripts")]

    def latest(self) -> Transcript:
        """The one saved transcript (fails if there is not exactly one)."""
        found = self.transcripts()
        assert len(found) == 1, [t.path for t in found]
        return found[0]

    def files_hold(self, secret: str) -> list[Path]:
        """Every file under this home whose bytes contain ``secret``."""
        return [p for p in self.tmp.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


async def collect(events: Any) -> list[SessionEvent]:
    """All events of ``session.send(...)`` or ``session.retry()``."""
    return [event async for event in events]


async def close(runtime: Runtime) -> None:
    """Close the runtime's connection pool and transcript."""
    await runtime.provider.aclose()
    runtime.transcript.close()


def entries(transcript: Transcript, *, every_branch: bool = False) -> list[tuple[str, str, str]]:
    """``(role, status, text)`` per entry of the current branch (or of all), for assertions."""
    out = []
    for entry in transcript.tree.nodes.values() if every_branch else transcript.entries:
        role = type(entry.message).__name__.removesuffix("Message").lower()
        text = getattr(entry.message, "text", getattr(entry.message, "content", ""))
        out.append((role, entry.status, text))
    return out
