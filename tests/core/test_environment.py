"""The minimal environment of processes started for a model: no keys, just what runs them."""

from __future__ import annotations

import os

from tui.core.environment import minimal_env

SOURCE = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/u",
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp/u",
    "OPENAI_API_KEY": "sk-secret",
    "ANTHROPIC_API_KEY": "sk-ant-secret",
    "GITHUB_TOKEN": "ghp_secret",
    "PROJECT_FLAG": "1",
}


def test_only_the_basic_variables_are_copied() -> None:
    assert minimal_env(source=SOURCE) == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/u",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp/u",
    }


def test_passthrough_and_extra_are_added_and_extra_wins() -> None:
    env = minimal_env({"HOME": "/other", "X": "y"}, ["PROJECT_FLAG", "MISSING"], SOURCE)
    assert env["HOME"] == "/other" and env["X"] == "y" and env["PROJECT_FLAG"] == "1"
    assert "MISSING" not in env and "OPENAI_API_KEY" not in env


def test_path_is_always_set() -> None:
    assert minimal_env(source={})["PATH"] == os.defpath


def test_the_real_environment_loses_its_keys(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live")
    assert "OPENAI_API_KEY" not in minimal_env()
