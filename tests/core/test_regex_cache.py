"""The compiled-regular-expressions cache: the same patterns as without it, fewer compilations."""

from __future__ import annotations

import marshal
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.core import regex_cache

PATTERNS: list[tuple[str | bytes, int]] = [
    (r"(?P<name>[a-z_]+)\s*=\s*(?P<value>\d+)", 0),
    (r"^#.*?coding[:=]\s*([-\w.]+)", re.IGNORECASE | re.MULTILINE),
    (r"""\$ (\w+)  # a variable""", re.VERBOSE),
    (rb"\x1b\[[0-?]*[ -/]*[@-~]", 0),
    ("[\u2500-\u257f]+|é{2,}", re.UNICODE),
]


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    re.purge()  # re's own in-process cache would answer before the compiler is asked
    yield
    regex_cache.uninstall()
    re.purge()


def compile_all() -> list[re.Pattern[str] | re.Pattern[bytes]]:
    re.purge()
    return [re.compile(pattern, flags) for pattern, flags in PATTERNS]  # type: ignore[misc]


def test_patterns_through_the_cache_are_the_patterns_without_it(tmp_path: Path) -> None:
    """Pattern equality compares the engine's program, not only the text."""
    plain = compile_all()
    path = tmp_path / "regex.bin"
    first = regex_cache.install(path)
    assert first is not None
    assert compile_all() == plain
    assert first.compiled == len(PATTERNS)
    regex_cache.save_installed()
    regex_cache.uninstall()

    second = regex_cache.install(path)
    assert second is not None
    cached = compile_all()
    assert cached == plain and second.compiled == 0
    match = cached[0].match("answer = 42")
    assert match is not None and match.group("value") == "42"


def test_a_program_the_engine_refuses_is_compiled_anew(tmp_path: Path) -> None:
    path = tmp_path / "regex.bin"
    pattern, flags = PATTERNS[0]
    assert isinstance(pattern, str)
    program = (int(flags | re.UNICODE), [999, 1, 2], 2, {"name": 1}, (None, "name"))
    bogus = {(pattern, int(flags)): program}
    path.write_bytes(marshal.dumps(bogus))
    path.chmod(0o600)
    cache = regex_cache.install(path)
    assert cache is not None and cache.known
    compiled = re.compile(pattern, flags)
    assert cache.compiled == 1
    regex_cache.uninstall()
    re.purge()
    assert compiled == re.compile(pattern, flags)


def test_uninstall_gives_re_its_own_compiler_back(tmp_path: Path) -> None:
    from re import _compiler  # type: ignore[attr-defined]

    original = (_compiler.compile, _compiler._sre)
    regex_cache.install(tmp_path / "regex.bin")
    assert _compiler.compile != original[0]
    regex_cache.uninstall()
    assert (_compiler.compile, _compiler._sre) == original
    regex_cache.save_installed()  # nothing installed: nothing written
    assert not (tmp_path / "regex.bin").exists()


def test_the_file_is_per_interpreter_and_engine(tmp_path: Path) -> None:
    path = regex_cache.cache_file({"CHATTUI_CACHE_DIR": str(tmp_path)})
    assert path.parent == tmp_path and path.name.startswith("regex-")
