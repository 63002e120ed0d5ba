"""The parsed-stylesheet cache: a start with the file parses nothing and styles the same."""

from __future__ import annotations

import marshal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.css import stylesheet as textual_stylesheet
from textual.css.stylesheet import Stylesheet
from textual.widgets import Input, Static, TextArea

from tui.ui.compat import css_cache
from tui.ui.compat.css_cache import CssCache

CSS = """
#note { color: $accent; background: $panel 40%; padding: 0 1; border: round $primary; }
Input:focus { border: tall $success; }
"""


class Styled(App[None]):
    CSS = CSS

    def compose(self) -> ComposeResult:
        yield Input(id="input")
        yield Static("styled", id="note")
        yield TextArea("text", id="area")


ORIGINAL = Stylesheet._parse_rules


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    yield
    css_cache.uninstall()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The CSS texts Textual parses from now on (its parser, under the cache)."""
    seen: list[str] = []
    parse = textual_stylesheet.parse

    def counted(scope: str, css: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(css)
        return parse(scope, css, *args, **kwargs)

    monkeypatch.setattr(textual_stylesheet, "parse", counted)
    return seen


async def styled_run(app: App[None]) -> tuple[dict[str, str], str]:
    """Each widget's computed CSS and the screen as drawn."""
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        styles = {w.id or "": w.styles.base.css for w in app.screen.query("*")}
        return styles, app.export_screenshot()


async def test_a_start_with_the_file_parses_nothing_and_styles_the_same(
    tmp_path: Path, parses: list[str]
) -> None:
    path = tmp_path / "css.bin"
    css_cache.install(path)
    first = await styled_run(Styled())
    assert CSS in parses  # parsed, with every default CSS the widgets brought
    css_cache.save_installed()
    assert path.exists()
    assert Stylesheet._parse_rules is ORIGINAL  # saved: Textual parses on its own again

    parses.clear()
    cache = css_cache.install(path)
    assert cache is not None
    again = await styled_run(Styled())
    assert parses == []
    assert cache.compiled == 0
    assert again == first


async def test_another_css_text_or_theme_is_parsed_and_kept(
    tmp_path: Path, parses: list[str]
) -> None:
    path = tmp_path / "css.bin"
    css_cache.install(path)
    await styled_run(Styled())
    css_cache.save_installed()

    class Changed(Styled):
        CSS = CSS.replace("padding: 0 1", "padding: 1 2")

    parses.clear()
    cache = css_cache.install(path)
    assert cache is not None
    await styled_run(Changed())
    assert Changed.CSS in parses
    assert not [
        css for css in parses if "TextArea" in css or ("Input" in css and css != Changed.CSS)
    ]
    css_cache.save_installed()

    parses.clear()
    light = Styled()
    light.theme = "textual-light"  # other variables: every text means other rules
    cache = css_cache.install(path)
    assert cache is not None
    await styled_run(light)
    assert CSS in parses
    assert cache.compiled > 1


async def test_an_entry_that_does_not_unpickle_is_parsed(tmp_path: Path, parses: list[str]) -> None:
    path = tmp_path / "css.bin"
    css_cache.install(path)
    first = await styled_run(Styled())
    css_cache.save_installed()
    table = marshal.loads(path.read_bytes())
    path.write_bytes(marshal.dumps({key: b"not a pickle" for key in table}))
    path.chmod(0o600)

    parses.clear()
    css_cache.install(path)
    assert await styled_run(Styled()) == first
    assert CSS in parses


def test_uninstall_gives_textual_its_parse_back(tmp_path: Path) -> None:
    assert css_cache.install(tmp_path / "css.bin") is not None
    assert Stylesheet._parse_rules is not ORIGINAL
    css_cache.uninstall()
    assert Stylesheet._parse_rules is ORIGINAL


def test_the_key_holds_the_textual_modules_that_make_rules() -> None:
    """Another Textual (an upgrade rewrites its files) reads none of the old entries."""
    files = css_cache.textual_files()
    assert [Path(path).name for path, _, _ in files] == ["model.py", "parse.py", "styles.py"]
    assert CssCache(Path("unused")).valid(("key",), b"rules")
