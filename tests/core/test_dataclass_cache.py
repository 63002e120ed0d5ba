"""The compiled-dataclass-methods cache: the same classes as without it, and fewer compilations."""

from __future__ import annotations

import collections
import dataclasses
import marshal
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.core import dataclass_cache
from tui.core.dataclass_cache import CodeCache


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    yield
    dataclass_cache.uninstall()


def make_classes() -> list[type]:
    """The kinds of dataclass chattui makes: plain, frozen with slots, defaults, factories."""

    @dataclasses.dataclass
    class Plain:
        name: str
        size: int = 3
        tags: list[str] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Event:
        text: str
        index: int | None = None

    made = dataclasses.make_dataclass("Made", [("size", int)])  # annotations not strings
    return [Plain, Event, made]


METHODS = ("__init__", "__repr__", "__eq__", "__setattr__", "__delattr__", "__hash__")


def methods(cls: type) -> dict[str, object]:
    """What the generated methods are made of: their code and their annotations."""
    out: dict[str, object] = {}
    for name in METHODS:
        function = cls.__dict__.get(name)
        code = getattr(function, "__code__", None)
        if code is not None:
            annotations = getattr(function, "__annotations__", {})
            out[name] = (code.co_code, code.co_consts, code.co_names, annotations)
    return out


def test_classes_made_through_the_cache_are_the_classes_made_without_it(tmp_path: Path) -> None:
    plain = [methods(cls) for cls in make_classes()]
    dataclass_cache.install(tmp_path / "cache.bin")
    cached = [methods(cls) for cls in make_classes()]
    assert cached == plain
    assert cached[2]["__init__"][3]["size"] is int  # not made a string by a __future__ import

    Plain, Event, _ = make_classes()
    assert repr(Plain("a")) == "make_classes.<locals>.Plain(name='a', size=3, tags=[])"
    assert Event("x") == Event("x") and hash(Event("x")) == hash(Event("x"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Event("x").text = "y"  # type: ignore[misc]


def test_a_second_run_compiles_nothing_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "dataclasses.bin"
    first = dataclass_cache.install(path)
    make_classes()
    assert first.compiled > 0
    dataclass_cache.save_installed()
    saved = path.stat()
    assert saved.st_mode & 0o777 == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    dataclass_cache.uninstall()

    second = dataclass_cache.install(path)
    make_classes()
    assert second.compiled == 0
    second.save()
    assert path.stat().st_mtime_ns == saved.st_mtime_ns and path.stat().st_ino == saved.st_ino


def test_a_changed_class_is_compiled_anew(tmp_path: Path) -> None:
    path = tmp_path / "cache.bin"
    dataclass_cache.install(path)
    make_classes()
    dataclass_cache.save_installed()
    cache = dataclass_cache.install(path)
    make_classes()
    assert cache.compiled == 0

    @dataclasses.dataclass
    class Other:
        renamed_field: str

    assert cache.compiled == 3  # __init__, __repr__ and __eq__ name the field
    assert Other("v").renamed_field == "v"


@pytest.mark.parametrize("content", [b"", b"not marshal data", marshal.dumps({"src": 3})])
def test_a_broken_file_is_ignored(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cache.bin"
    path.write_bytes(content)
    cache = dataclass_cache.install(path)
    Plain, _, _ = make_classes()
    assert cache.known == {}
    assert Plain("a").size == 3


def test_a_file_others_may_write_is_not_loaded(tmp_path: Path) -> None:
    """Loading it runs its code: as with a ``.pyc``, only a file only this user can write."""
    path = tmp_path / "cache.bin"
    first = CodeCache(path)
    first.code_for("x = 1\n")
    first.save()
    os.chmod(path, 0o620)
    unsafe = CodeCache(path)
    unsafe.load()
    assert unsafe.known == {}
    os.chmod(path, 0o600)
    safe = CodeCache(path)
    safe.load()
    assert list(safe.known) == ["x = 1\n"]


def make_tuples() -> list[type]:
    """Named tuples as Textual and Rich make them (``eval`` of each one's ``__new__``)."""
    Point = collections.namedtuple("Point", ["x", "y"], defaults=[0])
    Span = collections.namedtuple("Span", "start end style")
    return [Point, Span]


def test_named_tuples_made_through_the_cache_are_the_ones_made_without_it(tmp_path: Path) -> None:
    plain = [t.__new__.__code__.co_code for t in make_tuples()]
    path = tmp_path / "cache.bin"
    first = dataclass_cache.install(path)
    assert [t.__new__.__code__.co_code for t in make_tuples()] == plain
    assert first.compiled == 2
    dataclass_cache.save_installed()
    dataclass_cache.uninstall()

    second = dataclass_cache.install(path)
    point, span = make_tuples()
    assert second.compiled == 0  # both from the file
    assert point(1) == (1, 0) and repr(point(1, 2)) == "Point(x=1, y=2)"
    assert span._make([0, 3, "bold"]).style == "bold"
    assert point.__new__.__defaults__ == (0,)
    with pytest.raises(TypeError):
        span(1, 2)  # the arguments are still checked


def test_uninstall_gives_dataclasses_the_builtin_exec_back(tmp_path: Path) -> None:
    dataclass_cache.install(tmp_path / "cache.bin")
    assert dataclasses.exec is not exec  # type: ignore[attr-defined]
    assert collections.eval is not eval  # type: ignore[attr-defined]
    dataclass_cache.uninstall()
    assert not hasattr(dataclasses, "exec")
    assert not hasattr(collections, "eval")
    dataclass_cache.save_installed()  # nothing installed: nothing written
    assert not (tmp_path / "cache.bin").exists()


def test_the_cache_lives_in_the_cache_dir_one_file_per_bytecode_version(tmp_path: Path) -> None:
    path = dataclass_cache.cache_file({"CHATTUI_CACHE_DIR": str(tmp_path)})
    assert path.parent == tmp_path
    assert path.name.startswith("dataclasses-cpython-") and path.suffix == ".bin"


def test_a_cache_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    from tui.core.cache_files import write_private

    blocked = tmp_path / "file-in-the-way"
    blocked.write_text("", encoding="utf-8")
    assert write_private(blocked / "cache.bin", b"data") is False
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    (folder / "cache.bin").mkdir()  # replace() cannot put a file over a directory
    assert write_private(folder / "cache.bin", b"data") is False
    assert sorted(p.name for p in folder.iterdir()) == ["cache.bin"]  # no temporary file
