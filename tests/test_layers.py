"""The import graph of ``src/trovato`` follows the layers of DESIGN §14.

Every import of a Trovato module counts, wherever it is written: at the top of a module, inside
a function, or under ``if TYPE_CHECKING:``. A type-only import is still a dependency: the
importing module's meaning names the imported one, and a cycle of type hints is a cycle in the
design, so none is exempt. Relative imports are resolved, and ``from trovato.x import y``
counts as an import of ``trovato.x.y`` when ``y`` is a module.

A module belongs to its top-level package (``trovato.content.fields.text`` to ``content``); a
module at the top (``trovato/ids.py``) is a package of its own, and ``trovato/__init__.py`` is
``trovato``. :data:`LAYERS` places every package, lowest first. Three checks read the graph:

- no cycle between packages;
- every import points to a lower layer, or within its own layer where that layer allows it
  (its packages' imports among themselves are then kept acyclic by the first check);
- the rules §14 states as "never" (:data:`NEVER`), which hold whatever the table's order.

A package missing from the table fails until it is placed, so the table stays complete.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Final

ROOT: Final = "trovato"
SRC: Final = Path(__file__).resolve().parents[1] / "src" / ROOT


@dataclass(frozen=True)
class Layer:
    name: str
    packages: frozenset[str]
    lateral: bool  # whether its packages may import one another (never in a cycle)


def _layer(name: str, *packages: str, lateral: bool = False) -> Layer:
    return Layer(name, frozenset(packages), lateral)


# Lowest first; an import may point down, never up.
LAYERS: Final = (
    # What every layer may use; ``names`` is the one folding of typed names, which the accounts
    # service and the migration storing its keys both compute; ``caches`` the in-process caches
    # bounded in bytes that rendering, the services and the kernel keep; ``errors`` the one
    # error type every service raises (``ServiceError``).
    _layer("base", "trovato", "ids", "settings", "observability", "names", "caches", "errors",
           "patterns"),
    _layer("database", "db"),
    _layer("shared state", "store"),
    # Render elements, sanitizer, text formats, theme engine: below every service, because
    # text formats belong to rendering.
    _layer("rendering", "render"),
    # Which stage a request reads and what a read in it sees: the database is all it needs,
    # and every reader of content (the plugin host included) asks it.
    _layer("stages", "stages"),
    # The contract between the content service's reference checks and each record kind's
    # owner, below all of them.
    _layer("records", "records"),
    # Runtime, host functions, taps' front door, registry: the services it calls are injected.
    _layer("plugin system", "plugins"),
    _layer("services", "users", "content", "categories", "files", "cron", "forms", "batch",
           "gather", "tiles", "search", "routing",
           lateral=True),
    # Configuration management: exports and imports every kind of configuration through
    # the services that own them, above all of them.
    _layer("configuration", "config"),
    # The request pipeline and the composition of the services (the Kernel).
    _layer("kernel", "kernel"),
    _layer("routes", "web", "api"),
    _layer("entry points", "app", "cli", "__main__", lateral=True),
)


def _packages(*layers: str) -> frozenset[str]:
    return frozenset().union(*(layer.packages for layer in LAYERS if layer.name in layers))


ALL: Final = _packages(*(layer.name for layer in LAYERS))
BASE: Final = _packages("base")
SERVICES: Final = _packages("services") | {"stages"}  # §14 counts stages among the services


@dataclass(frozen=True)
class Never:
    sources: frozenset[str]
    targets: frozenset[str]
    rule: str


# DESIGN §14's "never", independent of the order of LAYERS.
NEVER: Final = (
    Never(
        frozenset({"db"}),
        ALL - BASE - {"db"},
        "db/ imports nothing above it (only the base: ids, settings, observability, names)",
    ),
    Never(
        frozenset({"store"}),
        ALL - BASE - {"db", "store"},
        "store/ imports nothing above it (only db/ and the base)",
    ),
    Never(
        frozenset({"render"}),
        SERVICES,
        "render/ never imports a service (text formats belong to rendering)",
    ),
    Never(
        frozenset({"render"}),
        frozenset({"db", "store"}),
        "rendering never touches the database or the shared store",
    ),
    Never(
        frozenset({"plugins"}),
        frozenset({"content", "users"}),
        "the plugin runtime never imports content/ or users/ (host functions get the"
        " services they call injected)",
    ),
    Never(
        SERVICES,
        frozenset({"kernel"}),
        "a service never imports kernel/ (the kernel hands services what they need)",
    ),
    Never(
        ALL - {"web", "api", "cli", "app", "__main__"},
        frozenset({"web", "api", "cli"}),
        "nothing below web/, api/ and cli/ imports them",
    ),
)


@dataclass(frozen=True)
class Import:
    path: Path  # the importing file
    line: int
    module: str  # the importing module
    imported: str  # the imported module

    @property
    def source(self) -> str:
        return package_of(self.module)

    @property
    def target(self) -> str:
        return package_of(self.imported)

    def __str__(self) -> str:
        repository = SRC.parents[1]
        where = (
            self.path.relative_to(repository) if self.path.is_relative_to(repository) else self.path
        )
        return f"{where}:{self.line}: {self.module} imports {self.imported}"


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(root: Path, dotted: str) -> bool:
    path = root.parent.joinpath(*dotted.split("."))
    return path.with_name(path.name + ".py").is_file() or (path / "__init__.py").is_file()


def _from_base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from … import`` names, relative ones resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if node.level - 1 >= len(package):
        raise ValueError(f"{module}:{node.lineno}: relative import beyond the top package")
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(root: Path, path: Path) -> Iterator[Import]:
    """Every import of a module of ``root``'s package in the file ``path``."""
    module = module_name(root, path)
    package = root.name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node, module, path.name == "__init__.py")
            names = [
                f"{base}.{alias.name}" if _is_module(root, f"{base}.{alias.name}") else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name == package or name.startswith(package + "."):
                yield Import(path, node.lineno, module, name)


def scan(root: Path) -> list[Import]:
    return [imp for path in sorted(root.rglob("*.py")) for imp in imports_of(root, path)]


def packages_in(root: Path) -> set[str]:
    return {package_of(module_name(root, path)) for path in root.rglob("*.py")}


def cycles(imports: Iterable[Import]) -> list[list[str]]:
    """Package cycles, each as a path that returns to its start (at least one per tangle)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.source != imp.target:
            graph.setdefault(imp.source, set()).add(imp.target)
            graph.setdefault(imp.target, set())
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    on_path: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        on_path.append(node)
        for following in sorted(graph[node]):
            if following in on_path:
                cycle = [*on_path[on_path.index(following) :], following]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(cycle)
            elif following not in done:
                visit(following)
        on_path.pop()
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node)
    return found


def layer_violations(imports: Iterable[Import], layers: Sequence[Layer]) -> list[str]:
    rank = {
        package: (index, layer) for index, layer in enumerate(layers) for package in layer.packages
    }
    found = []
    for imp in imports:
        if imp.source == imp.target:
            continue
        unplaced = [p for p in (imp.source, imp.target) if p not in rank]
        if unplaced:
            found.append(f"{imp}: {', '.join(unplaced)} is in no layer of LAYERS")
            continue
        (low, source_layer), (high, target_layer) = rank[imp.source], rank[imp.target]
        if high > low:
            found.append(
                f"{imp}: {imp.source} ({source_layer.name}) may not import"
                f" {imp.target} ({target_layer.name}), a higher layer"
            )
        elif high == low and not source_layer.lateral:
            found.append(
                f"{imp}: {imp.source} may not import {imp.target}: the packages of"
                f" the {source_layer.name} layer do not import one another"
            )
    return found


def never_violations(imports: Iterable[Import], rules: Iterable[Never]) -> list[str]:
    return [
        f"{imp}: {imp.source} -> {imp.target} breaks DESIGN §14: {rule.rule}"
        for imp in imports
        for rule in rules
        if imp.source in rule.sources and imp.target in rule.targets
    ]


@cache
def _trovato() -> tuple[Import, ...]:
    return tuple(scan(SRC))


def test_every_package_is_in_exactly_one_layer() -> None:
    placed = [package for layer in LAYERS for package in layer.packages]
    assert len(placed) == len(set(placed)), f"a package is in two layers: {sorted(placed)}"
    found = packages_in(SRC)
    assert not found - ALL, (
        f"place these packages in LAYERS (tests/test_layers.py) and in"
        f" docs/architecture.md: {sorted(found - ALL)}"
    )
    assert not ALL - found, f"LAYERS names packages that no longer exist: {sorted(ALL - found)}"


def test_the_package_graph_has_no_cycle() -> None:
    imports = _trovato()
    report = []
    for cycle in cycles(imports):
        report.append("package cycle: " + " -> ".join(cycle))
        for source, target in pairwise(cycle):
            report += [
                f"  {imp}" for imp in imports if (imp.source, imp.target) == (source, target)
            ]
    assert not report, "\n".join(report)


def test_every_import_points_down_the_layers() -> None:
    violations = layer_violations(_trovato(), LAYERS)
    assert not violations, "\n".join(violations)


def test_the_never_rules_of_design_14_hold() -> None:
    violations = never_violations(_trovato(), NEVER)
    assert not violations, "\n".join(violations)


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Type-only, relative, in-function and ``from package import module`` imports are edges;
    other packages (``trovato_sdk``) and a package's imports of itself are not."""
    root = tmp_path / ROOT
    files = {
        "__init__.py": "",
        "settings.py": "",
        "low/__init__.py": "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from trovato.high import thing\n",
        "low/deep.py": "def later():\n    from ..high import helpers\n",
        "high/__init__.py": "import trovato_sdk\nfrom . import helpers\n",
        "high/helpers.py": "from trovato import settings\n"
        "import trovato.low.deep\n"
        "from trovato import __version__\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    imports = scan(root)
    assert {(imp.module, imp.line, imp.imported) for imp in imports} == {
        ("trovato.low", 3, "trovato.high"),
        ("trovato.low.deep", 2, "trovato.high.helpers"),
        ("trovato.high", 2, "trovato.high.helpers"),
        ("trovato.high.helpers", 1, "trovato.settings"),
        ("trovato.high.helpers", 2, "trovato.low.deep"),
        ("trovato.high.helpers", 3, "trovato"),
    }
    assert packages_in(root) == {"trovato", "settings", "low", "high"}
    assert cycles(imports) == [["high", "low", "high"]]
    layers = (_layer("base", "trovato", "settings"), _layer("low", "low"), _layer("high", "high"))
    assert [v.split(": ", 1)[1] for v in layer_violations(imports, layers)] == [
        "trovato.low imports trovato.high: low (low) may not import high (high), a higher layer",
        "trovato.low.deep imports trovato.high.helpers: low (low) may not import high"
        " (high), a higher layer",
    ]
    rules = [Never(frozenset({"low"}), frozenset({"high"}), "low never imports high")]
    assert len(never_violations(imports, rules)) == 2
    assert layer_violations(imports, layers[:2]) == [
        f"{imp}: high is in no layer of LAYERS"
        for imp in imports
        if "high" in (imp.source, imp.target) and imp.source != imp.target
    ]
