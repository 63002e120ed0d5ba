"""Import contracts, read from the source: which room may import what, and no cycles.

The graph is built with ``ast`` from every ``import`` statement in ``providers``
and ``tui`` (including imports inside functions, which run later but still run;
``if TYPE_CHECKING:`` blocks never run, so they are left out). One table states
the contracts; one test walks the graph for each row.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("providers", "tui")
UI_LIBRARIES = frozenset({"textual", "rich", "pygments", "markdown_it"})


@dataclass(frozen=True)
class Imports:
    """What one module imports: modules of this repository, and top-level external names."""

    local: frozenset[str]
    external: frozenset[str]


@dataclass(frozen=True)
class Contract:
    """Modules under ``prefixes`` may not reach ``forbidden`` (top-level names), directly or not.

    ``eager_only`` follows only imports made when the module is imported (module
    level), for start-up weight: what a function imports later does not count.
    ``forbidden`` may be ``None`` meaning "anything outside the standard library".
    """

    prefixes: tuple[str, ...]
    forbidden: frozenset[str] | None
    eager_only: bool = False


CONTRACTS = {
    "providers never reach the front end": Contract(
        ("providers",), frozenset({"tui"}) | UI_LIBRARIES
    ),
    "tui.core draws nothing": Contract(("tui.core",), UI_LIBRARIES),
    "tui.core.partial_json is standard library only": Contract(("tui.core.partial_json",), None),
    "importing providers does not load httpx": Contract(
        ("providers.__init__", "providers.events", "providers.conversation"),
        frozenset({"httpx"}),
        eager_only=True,
    ),
    "chattui --version and --help load neither textual nor httpx": Contract(
        ("tui.cli", "tui.exitcodes"), frozenset({"textual", "httpx", "rich"}), True
    ),
    "config, keys, transcripts and tools load neither textual nor httpx": Contract(
        (
            "tui.core.config",
            "tui.core.keys",
            "tui.core.locations",
            "tui.core.sanitize",
            "tui.core.transcript",
            "tui.core.tools",
        ),
        frozenset({"textual", "httpx"}),
        eager_only=True,
    ),
    "the first screen loads no Markdown parser nor highlighter (loaded on first use)": Contract(
        ("tui.ui.app", "tui.ui.widgets.conversation", "tui.ui.widgets.messages"),
        frozenset({"markdown_it", "linkify_it", "pygments"}),
        eager_only=True,
    ),
    "the MCP SDK is imported only when a server starts": Contract(
        ("tui.cli", "tui.pipe", "tui.core", "tui.ui.app"),
        frozenset({"mcp", "mcp_types", "pydantic", "anyio"}),
        eager_only=True,
    ),
}


def module_files() -> Iterator[tuple[str, Path]]:
    """Every module of the two packages, by dotted name (packages as ``pkg.__init__``)."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def _statements(body: list[ast.stmt], eager_only: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements in ``body``, skipping ``if TYPE_CHECKING:`` (and functions if eager)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _statements(node.orelse, eager_only)
        elif eager_only and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if isinstance(node, ast.ClassDef):
                yield from _statements(node.body, eager_only)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, [])
                yield from _statements([c for c in children if isinstance(c, ast.stmt)], eager_only)
            for handler in getattr(node, "handlers", []):
                yield from _statements(handler.body, eager_only)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """Dotted names a statement imports (``from a import b`` yields ``a.b`` and ``a``)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        parent = module.split(".")[: -node.level]
        base = ".".join([*parent, base] if base else parent)
    yield base
    yield from (f"{base}.{alias.name}" for alias in node.names)


@cache
def graph(eager_only: bool) -> dict[str, Imports]:
    """Each module's imports: resolved to modules here, or to external top-level names."""
    files = dict(module_files())
    known = set(files) | {name.removesuffix(".__init__") for name in files}
    out: dict[str, Imports] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        local: set[str] = set()
        external: set[str] = set()
        for node in _statements(tree.body, eager_only):
            for name in _targets(module, node):
                if name.split(".")[0] in PACKAGES:
                    if name in known:
                        local.add(name if name in files else f"{name}.__init__")
                elif name and name != "__future__":
                    external.add(name.split(".")[0])
        local.discard(module)
        out[module] = Imports(frozenset(local), frozenset(external))
    return out


def reached(start: str, eager_only: bool) -> dict[str, list[str]]:
    """External names reachable from ``start``, each with the import chain that reaches it."""
    imports = graph(eager_only)
    chains: dict[str, list[str]] = {start: [start]}
    todo = [start]
    found: dict[str, list[str]] = {}
    while todo:
        module = todo.pop()
        for name in imports[module].external:
            found.setdefault(name, chains[module])
        for nxt in imports[module].local:
            if nxt not in chains:
                chains[nxt] = [*chains[module], nxt]
                todo.append(nxt)
    return found


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=CONTRACTS.keys())
def test_import_contract(contract: Contract) -> None:
    modules = [
        m
        for m in graph(contract.eager_only)
        for prefix in contract.prefixes
        if m == prefix or m.startswith(prefix + ".")
    ]
    assert len({m.split(".__init__")[0] for m in modules}) >= len(contract.prefixes)
    broken = []
    for module in modules:
        for name, chain in reached(module, contract.eager_only).items():
            allowed = (
                name in sys.stdlib_module_names
                if contract.forbidden is None
                else name not in contract.forbidden
            )
            if not allowed:
                broken.append(f"{' -> '.join(chain)} imports {name}")
    assert not broken, "\n".join(sorted(set(broken)))


def private_names(module: str, path: Path) -> Iterator[str]:
    """Private Textual or Rich names ``module`` imports (``textual._x``, ``rich.y._z``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in _targets(module, node):
                top, *rest = name.split(".")
                if top in ("textual", "rich") and any(part.startswith("_") for part in rest):
                    yield name


def test_only_the_workaround_package_imports_textual_or_rich_internals() -> None:
    found = {module: sorted(private_names(module, path)) for module, path in module_files()}
    assert found["tui.ui.compat.memory"]  # the finder finds what is there
    reaching = {module for module, names in found.items() if names}
    assert {m for m in reaching if m.split(".")[:3] != ["tui", "ui", "compat"]} == set()


def cycles(imports: dict[str, Imports]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in imports:
        if root in index:
            continue
        work = [(root, iter(sorted(imports[root].local)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports[child].local))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_import_cycles() -> None:
    found = cycles(graph(False))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(g) for g in found)


def test_cycle_finder_finds_a_cycle_and_the_contract_walk_follows_chains() -> None:
    fake = {
        "a": Imports(frozenset({"b"}), frozenset()),
        "b": Imports(frozenset({"c"}), frozenset()),
        "c": Imports(frozenset({"a"}), frozenset({"textual"})),
        "d": Imports(frozenset({"a"}), frozenset()),
    }
    assert cycles(fake) == [["a", "b", "c"]]
    assert cycles({**fake, "c": Imports(frozenset(), frozenset({"textual"}))}) == []
    # The real graph: the app's palette actions reach the palette, and the app Textual.
    assert "tui.ui.commands" in graph(False)["tui.ui.palette_actions"].local
    assert reached("tui.ui.app", False)["textual"] == ["tui.ui.app"]
    # Imports inside functions count, unless only eager (module-level) imports are asked for.
    assert "textual" in reached("tui.cli", False)
    assert "textual" not in reached("tui.cli", True)
