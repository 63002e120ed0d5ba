"""Work on long transcripts: resuming reads the file once (the history shown and the writer
that appends to it come from one pass; a 1,000-turn transcript with a 1 MB file among its
records was parsed twice, once by ``load`` and once by ``reopen``), and ``chattui export``
loads nothing beyond the transcript code (``importlib.metadata``, which the writer used for
its version, took 60-150 ms of an export's 0.2-0.6 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.conversation import AssistantMessage, TextPart, UserMessage
from tests.support.imports import loaded_after
from tui.core import locations
from tui.core.runtime import Options, start
from tui.core.transcript import TranscriptWriter, load, replay


def saved(data_dir: Path, turns: int) -> Path:
    """A ``turns``-turn conversation in the transcripts folder of ``data_dir``."""
    directory = locations.transcripts_dir({"CHATTUI_DATA_DIR": str(data_dir)})
    with TranscriptWriter.create(
        directory, provider="demo", model="demo", workspace=str(data_dir)
    ) as writer:
        for turn in range(turns):
            writer.append_user(UserMessage(f"question {turn}"))
            writer.append(AssistantMessage((TextPart(f"answer {turn}"),), "demo", "stop"))
        return writer.path


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files read record by record, one entry per pass."""
    seen: list[Path] = []
    real = replay._lines

    def counted(path: Path) -> Iterator[bytes | None]:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(replay, "_lines", counted)
    return seen


def test_writer_resume_reads_once_and_matches_load(tmp_path: Path, passes: list[Path]) -> None:
    path = saved(tmp_path, 3)
    writer, transcript = TranscriptWriter.resume(path)
    with writer:
        assert passes == [path]
        assert transcript == load(path)
        writer.append_user(UserMessage("question 3"))
    again = load(path)
    assert [e.message.text for e in again.entries if isinstance(e.message, UserMessage)][-1] == (
        "question 3"
    )
    assert again.entries[-1].parent == transcript.entries[-1].id  # appended on the same branch


def test_resume_at_startup_reads_the_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, passes: list[Path]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[providers.demo]\nkind = "demo"\n', encoding="utf-8")
    monkeypatch.setenv("CHATTUI_CONFIG", str(config))
    monkeypatch.setenv("CHATTUI_DATA_DIR", str(tmp_path / "data"))
    path = saved(tmp_path / "data", 5)
    (tmp_path / "ws").mkdir()
    runtime = start(Options(workspace=tmp_path / "ws", resume="latest"))
    try:
        assert passes.count(path) == 1
        assert len(runtime.session.history) == 10
    finally:
        runtime.transcript.close()


def test_export_imports_no_package_metadata_nor_screen_library(tmp_path: Path) -> None:
    saved(tmp_path / "data", 2)
    code = (
        "import contextlib, io\n"
        "from tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['export', 'latest']) == 0 and 'answer 1' in out.getvalue()\n"
    )
    env = {"CHATTUI_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    heavy = ("importlib.metadata", "email", "textual", "rich", "httpx")
    assert loaded_after(code, heavy, env) == []
