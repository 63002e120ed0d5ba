"""The prompt's unsent text, kept between runs: what was typed is never lost to an exit.

The TUI saves what its prompt holds (and any prompts queued behind a running answer) when it
exits, however it exits (Ctrl+Q, SIGTERM, a terminal that went away), and every few seconds
while the text changes, so even a killed process loses at most the last seconds of typing.
The next TUI started in the same workspace puts the text back in its prompt.

One file per workspace: ``<data dir>/drafts/<hash of the workspace path>.txt``, UTF-8, mode
0o600 in a 0o700 directory, replaced atomically. It holds what the user typed, as a
transcript holds what was sent.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from tui.core import locations
from tui.core.cache_files import read_private, write_private

DRAFTS = "drafts"
MAX_DRAFT_BYTES = 8 * 1024 * 1024
"""A file larger than this is not loaded (no prompt is; a damaged or foreign file may be)."""


def draft_path(workspace: Path, env: Mapping[str, str] = os.environ) -> Path:
    """Where the draft of the TUI working in ``workspace`` is kept."""
    digest = hashlib.sha256(os.fsencode(workspace)).hexdigest()[:24]
    return locations.data_dir(env) / DRAFTS / f"{digest}.txt"


class Draft:
    """The unsent text of one workspace's prompt, in its file.

    ``save`` with empty text deletes the file, but only a file this process loaded or wrote:
    a second chattui in the same workspace with an empty prompt does not delete the first's
    draft when it exits.

    Args:
        path: the file (``draft_path``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved: str | None = None
        """The text the file holds as far as this process knows (None: not ours)."""

    def load(self) -> str:
        """The kept text ('' when there is none, or the file is not this user's, too big, or
        not UTF-8); the file stays until the text is sent or cleared (``save('')``)."""
        try:
            if self.path.stat().st_size > MAX_DRAFT_BYTES:
                return ""
        except OSError:
            return ""
        data = read_private(self.path)
        try:
            text = data.decode("utf-8") if data else ""
        except UnicodeDecodeError:
            return ""
        if text:
            self.saved = text
        return text

    def save(self, text: str) -> str | None:
        """Keep ``text`` (replacing the file), or forget the draft when ``text`` is blank.

        Returns:
            None when the draft is kept (or forgotten), else why it could not be: too big
            (over ``MAX_DRAFT_BYTES``: it could not be loaded again), or the file could not
            be written (a full disk, an unwritable data dir).
        """
        if text == (self.saved or ""):
            return None
        if not text.strip():
            if self.saved is not None:
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    return f"cannot delete {self.path}: {exc.strerror or exc}"
                self.saved = None
            return None
        encoded = text.encode("utf-8", "replace")  # a lone surrogate (a broken paste): '?'
        if len(encoded) > MAX_DRAFT_BYTES:
            return f"it is over {MAX_DRAFT_BYTES // (1024 * 1024)} MiB"
        if not write_private(self.path, encoded):
            return f"cannot write in {self.path.parent}"
        self.saved = text
        return None
