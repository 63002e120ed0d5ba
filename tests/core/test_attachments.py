"""Attachments: what ``@path`` and ``--attach`` send, what they refuse, and what a transcript
keeps of them (a copy of each image beside the transcripts, so resume still sends it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from providers.conversation import UserMessage
from tui.core.attachments import (
    MAX_IMAGE_BYTES,
    MAX_TEXT_BYTES,
    AttachmentError,
    from_cwd,
    may_mention,
    mentions,
    prepare,
)
from tui.core.tools.paths import Workspace
from tui.core.transcript import TranscriptWriter, history_for_request, load

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00png-body" * 10
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    (root / "shots").mkdir(parents=True)
    (root / "shots" / "shot.png").write_bytes(PNG)
    (root / "pic.webp").write_bytes(WEBP)
    (root / "notes.md").write_text("# Notes\nremember this\n", encoding="utf-8")
    (root / "my file.txt").write_text("spaced\n", encoding="utf-8")
    return Workspace(root)


def test_an_image_goes_as_image_input_and_a_text_file_into_the_text(ws: Workspace) -> None:
    got = prepare("compare @shots/shot.png with @notes.md, please", ws)
    assert got.text.startswith("compare @shots/shot.png with @notes.md, please\n\n")
    assert "--- begin notes.md ---\n# Notes\nremember this\n\n--- end notes.md ---" in got.text
    (image,) = got.images
    assert (image.media_type, image.data, image.path) == ("image/png", PNG, "shots/shot.png")
    assert len(image.sha256) == 64
    assert got.names == ("shots/shot.png", "notes.md")


def test_type_comes_from_the_bytes_and_quoted_paths_may_hold_spaces(ws: Workspace) -> None:
    got = prepare('see @pic.webp and @"my file.txt"', ws)
    assert got.images[0].media_type == "image/webp"
    assert "--- begin my file.txt ---\nspaced" in got.text


def test_words_that_only_look_like_mentions_stay_text(ws: Workspace) -> None:
    prompt = "mail me@example.com or ask @nobody about @missing.png"
    assert mentions(prompt, ws) == []
    assert prepare(prompt, ws).text == prompt


@pytest.mark.parametrize(
    "prompt", ["notes.md and shots/shot.png, no at sign", "mail me@example.com", "a@notes.md"]
)
def test_a_prompt_that_cannot_mention_a_file_is_sent_as_typed(ws: Workspace, prompt: str) -> None:
    # The app skips prepare (a thread, disk lookups) when may_mention is false: prepare
    # must have nothing to do for such a prompt, even when it names existing files.
    assert not may_mention(prompt)
    assert prepare(prompt, ws).text == prompt


@pytest.mark.parametrize("prompt", ["@notes.md", 'see @"my file.txt"', "x\n@pic.webp", "@nobody"])
def test_every_mention_form_may_mention(prompt: str) -> None:
    assert may_mention(prompt)


def test_outside_the_workspace_is_refused_even_through_a_symlink(
    ws: Workspace, tmp_path: Path
) -> None:
    (tmp_path / "secret.png").write_bytes(PNG)
    with pytest.raises(AttachmentError, match="outside the workspace"):
        prepare("look @../secret.png", ws)
    os.symlink(tmp_path / "secret.png", Path(ws.root) / "link.png")
    with pytest.raises(AttachmentError, match="outside the workspace"):
        prepare("look @link.png", ws)
    with pytest.raises(AttachmentError, match="outside the workspace"):
        prepare("look", ws, [from_cwd(str(tmp_path / "secret.png"), ws)])


def test_git_internals_are_refused(ws: Workspace) -> None:
    (Path(ws.root) / ".git").mkdir()
    (Path(ws.root) / ".git" / "config").write_text("[core]\n")
    with pytest.raises(AttachmentError, match="protected"):
        prepare("@.git/config", ws)


def test_binary_that_is_no_image_is_refused_with_a_message(ws: Workspace) -> None:
    (Path(ws.root) / "app.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    with pytest.raises(AttachmentError, match="binary file.*PNG, JPEG, GIF or WebP"):
        prepare("run @app.bin", ws)


def test_limits_a_big_image_is_refused_a_long_text_is_cut_with_a_note(ws: Workspace) -> None:
    (Path(ws.root) / "huge.png").write_bytes(PNG + b"\x00" * MAX_IMAGE_BYTES)
    with pytest.raises(AttachmentError, match="images over 5,242,880 bytes"):
        prepare("@huge.png", ws)
    (Path(ws.root) / "long.txt").write_text("é" * MAX_TEXT_BYTES, encoding="utf-8")
    got = prepare("@long.txt", ws)
    assert "[cut: only the first 102,400 bytes of long.txt are included]" in got.text
    assert "\ufffd" not in got.text  # the cut never splits a character
    with pytest.raises(AttachmentError, match="at most 10 files"):
        prepare(" ".join(["@notes.md"] * 1), ws, [f"x{i}" for i in range(11)])


def test_a_directory_or_a_missing_file_named_explicitly_is_refused(ws: Workspace) -> None:
    with pytest.raises(AttachmentError, match="directory"):
        prepare("", ws, ["shots"])
    with pytest.raises(AttachmentError, match="does not exist"):
        prepare("", ws, ["gone.png"])


def test_the_transcript_keeps_a_copy_so_resume_sends_the_image(
    ws: Workspace, tmp_path: Path
) -> None:
    got = prepare("what is @shots/shot.png", ws)
    writer = TranscriptWriter.create(tmp_path / "data", provider="p", model="m", workspace="w")
    writer.append_user(UserMessage(got.text, got.images))
    writer.close()
    line = writer.path.read_text(encoding="utf-8")
    assert "png-body" not in line and got.images[0].sha256 in line  # not inline
    kept = tmp_path / "data" / "attachments" / got.images[0].sha256
    assert kept.read_bytes() == PNG and (kept.stat().st_mode & 0o777) == 0o600
    (Path(ws.root) / "shots" / "shot.png").unlink()  # the original is gone: no matter
    (resumed,) = history_for_request(load(writer.path))
    assert isinstance(resumed, UserMessage) and resumed.images[0].data == PNG

    kept.unlink()  # the copy too: the prompt says so instead of sending a broken image
    (resumed,) = history_for_request(load(writer.path))
    assert isinstance(resumed, UserMessage) and resumed.images == ()
    assert "[attached image shots/shot.png is no longer available]" in resumed.text
