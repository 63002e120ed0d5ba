"""Where chattui keeps its files: the config file, and the data directory for transcripts.

Every path the application uses comes from here, so one environment variable can
redirect each of them (tests and sandboxes rely on that):

- ``CHATTUI_CONFIG``: the config file (default: the platform's user config dir,
  ``chattui/config.toml``, e.g. ``~/.config/chattui/config.toml`` on Linux).
- ``CHATTUI_DATA_DIR``: the data directory (default: the platform's user data dir,
  e.g. ``~/.local/share/chattui``); transcripts live in its ``transcripts`` folder.
- ``CHATTUI_CACHE_DIR``: what is kept only to start faster (default: the platform's user
  cache dir, e.g. ``~/.cache/chattui``); deleting it loses nothing.

Kept free of Textual and httpx: ``chattui --version`` and pipe mode import it at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "chattui"
CONFIG_ENV = "CHATTUI_CONFIG"
DATA_DIR_ENV = "CHATTUI_DATA_DIR"
CACHE_DIR_ENV = "CHATTUI_CACHE_DIR"


def _from_env(env: Mapping[str, str], name: str) -> Path | None:
    # An empty variable counts as unset: `CHATTUI_CONFIG= chattui` must not mean "./".
    value = env.get(name, "")
    return Path(os.path.expanduser(value)) if value else None


def config_file_override(env: Mapping[str, str] = os.environ) -> Path | None:
    """The config file named by ``$CHATTUI_CONFIG``, or None when it is unset or empty."""
    return _from_env(env, CONFIG_ENV)


def config_file(env: Mapping[str, str] = os.environ) -> Path:
    """The config file: ``$CHATTUI_CONFIG`` if set, else ``<user config dir>/config.toml``.

    Args:
        env: the environment to read (tests pass an explicit dict).

    Returns:
        The path; it may not exist.
    """
    override = config_file_override(env)
    if override is not None:
        return override
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The data directory: ``$CHATTUI_DATA_DIR`` if set, else the user data dir.

    Args:
        env: the environment to read.

    Returns:
        The path; it may not exist yet (see ``ensure_private_dir``).
    """
    return _from_env(env, DATA_DIR_ENV) or platformdirs.user_data_path(APP_NAME)


def cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The cache directory: ``$CHATTUI_CACHE_DIR`` if set, else the user cache dir."""
    return _from_env(env, CACHE_DIR_ENV) or platformdirs.user_cache_path(APP_NAME)


def transcripts_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The folder holding conversation transcripts: ``data_dir(env) / "transcripts"``."""
    return data_dir(env) / "transcripts"


def dir_problem(path: Path) -> str | None:
    """Why ``ensure_private_dir(path)`` and writing in it would fail, or None; creates nothing.

    The directory, or else its nearest existing ancestor, must be a directory this user
    may write in (the doctor asks this so that it agrees with the run).
    """
    for candidate in (path, *path.parents):
        try:
            if not candidate.exists():
                continue
        except OSError as exc:
            return f"cannot use {candidate}: {exc.strerror or exc}"
        if not candidate.is_dir():
            return f"{candidate} is not a directory"
        if not os.access(candidate, os.W_OK | os.X_OK):
            return f"{candidate} is not writable"
        return None
    return f"no part of {path} exists"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) so that only its owner can enter it.

    Transcripts hold whole conversations, so the leaf directory is created with mode
    0o700 (as mods does for its conversation store). A directory that already exists is
    left as it is: it may be one the user shares on purpose.

    Args:
        path: the directory to create.

    Returns:
        ``path``, for chaining.

    Raises:
        OSError: when the directory cannot be created (e.g. a file is in the way).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return path
    os.chmod(path, 0o700)  # mkdir's mode is narrowed by the umask; make it exact
    return path
