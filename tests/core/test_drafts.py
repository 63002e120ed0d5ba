"""The prompt's unsent text kept between runs (``tui.core.drafts``)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.core.drafts import MAX_DRAFT_BYTES, Draft, draft_path


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"CHATTUI_DATA_DIR": str(tmp_path / "data")}


def test_a_saved_draft_is_loaded_by_the_next_run_of_the_same_workspace(tmp_path):
    path = draft_path(tmp_path / "ws", env_for(tmp_path))
    assert Draft(path).save("half a question\nwith two lines é") is None
    assert Draft(path).load() == "half a question\nwith two lines é"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_each_workspace_has_its_own_draft(tmp_path):
    env = env_for(tmp_path)
    one, two = draft_path(tmp_path / "a", env), draft_path(tmp_path / "b", env)
    assert one != two and one.parent == two.parent == tmp_path / "data" / "drafts"
    Draft(one).save("for a")
    assert Draft(two).load() == ""


def test_a_blank_prompt_forgets_the_draft_it_loaded(tmp_path):
    path = draft_path(tmp_path / "ws", env_for(tmp_path))
    Draft(path).save("typed")
    draft = Draft(path)
    assert draft.load() == "typed"
    assert draft.save("  \n") is None and not path.exists()


def test_a_blank_prompt_leaves_another_runs_draft_alone(tmp_path):
    # A second chattui in the same workspace, exiting with an empty prompt, must not delete
    # the draft the first one keeps.
    path = draft_path(tmp_path / "ws", env_for(tmp_path))
    Draft(path).save("the first run's text")
    assert Draft(path).save("") is None
    assert path.read_text(encoding="utf-8") == "the first run's text"


def test_saving_the_same_text_again_writes_nothing(tmp_path):
    path = draft_path(tmp_path / "ws", env_for(tmp_path))
    draft = Draft(path)
    draft.save("same")
    path.unlink()  # were it written again, the file would be back
    assert draft.save("same") is None and not path.exists()


def test_a_lone_surrogate_from_a_broken_paste_is_saved_as_a_replacement(tmp_path):
    path = draft_path(tmp_path / "ws", env_for(tmp_path))
    assert Draft(path).save("a\ud800b") is None
    assert Draft(path).load() == "a?b"


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe not utf-8", b"x" * (MAX_DRAFT_BYTES + 1)],
    ids=["not-utf-8", "too-big"],
)
def test_a_file_that_is_no_draft_of_ours_loads_as_none_and_is_left(tmp_path, content):
    path = draft_path(tmp_path / "ws", env_for(tmp_path))
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    draft = Draft(path)
    assert draft.load() == ""
    assert draft.save("") is None and path.exists()  # not ours: a blank prompt does not delete it


def test_a_file_others_may_write_is_not_loaded(tmp_path):
    path = draft_path(tmp_path / "ws", env_for(tmp_path))
    Draft(path).save("planted?")
    os.chmod(path, 0o666)
    assert Draft(path).load() == ""


def test_a_draft_that_cannot_be_written_says_so(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be", encoding="utf-8")
    problem = Draft(draft_path(tmp_path / "ws", env_for(tmp_path))).save("typed")
    assert problem == f"cannot write in {tmp_path / 'data' / 'drafts'}"


def test_a_draft_too_big_to_load_again_is_not_written(tmp_path):
    path = draft_path(tmp_path / "ws", env_for(tmp_path))
    assert Draft(path).save("x" * (MAX_DRAFT_BYTES + 1)) == "it is over 8 MiB"
    assert not path.exists()
    assert Draft(path).save("x" * MAX_DRAFT_BYTES) is None
    assert len(Draft(path).load()) == MAX_DRAFT_BYTES
