"""The package's shape: which part may import which, no import cycles, short functions.

Read from the source (imports inside functions included, ``if TYPE_CHECKING:`` blocks not: they
never run), so a lazy import cannot hide a layer crossing or a cycle. From the bottom:

* the top-level modules (``errors``, ``config``, ``results``, ``geometry``, ``files``);
* the core, which does no I/O beyond reading model files: ``model``, ``network``, ``backends``,
  ``tracking`` (a frame's way to a box);
* ``io`` (sources, outputs, downloads) and ``detection``, on the core; ``datasets`` beside them;
* ``app``, ``evaluation``, ``training``, ``export``, and over everything ``batch``, ``serve``, ``cli``.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "siamtrack"
TOP = {"errors", "config", "results", "geometry", "files"}
CORE = {"model", "network", "backends", "tracking"}
SERVICES = {"app", "evaluation", "training", "export", "batch", "serve", "cli"}
# What each part must never import (its own layer's neighbours and everything below are allowed).
FORBIDDEN = {
    **{name: CORE | {"io", "detection", "datasets"} | SERVICES for name in TOP},
    **{name: {"io", "detection", "datasets"} | SERVICES for name in CORE},
    "io": {"detection"} | SERVICES,
    "detection": {"io", "datasets"} | SERVICES,
    "datasets": {"io", "detection"} | SERVICES,
    "app": {"batch", "serve", "cli", "evaluation", "training", "export"},
    "evaluation": {"app", "batch", "serve", "cli", "training", "export"},
    "export": {"app", "batch", "serve", "cli", "evaluation", "training"},
    "training": {"batch", "serve", "cli", "evaluation", "export"},
    "batch": {"serve", "cli", "evaluation", "training", "export"},
    "serve": {"batch", "cli", "evaluation", "training", "export"},
}
MAX_TOP_LEVEL_MODULES = 12
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if path.name == "__init__.py" else relative.parts
    return ".".join(parts)


def runtime_nodes(tree: ast.AST):
    """Every node that can run: ``if TYPE_CHECKING:`` bodies are skipped."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *runtime_nodes(child)])
            continue
        yield node
        yield from runtime_nodes(node)


def imported_modules(path: Path, known: set[str], package: str = "") -> set[str]:
    """The siamtrack modules ``path`` imports (``from pkg import module`` names the module);
    ``package``: the one relative imports start from (by default ``path``'s)."""
    if not package:
        package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "siamtrack":
                target = node.module
            else:
                continue
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "siamtrack")
    return found


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def import_graph() -> dict[str, set[str]]:
    known = {module_name(path) for path in sources()}
    return {module_name(path): imported_modules(path, known) - {module_name(path)} for path in sources()}


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_it(path):
    known = {module_name(p) for p in sources()}
    own = part(module_name(path))
    crossings = sorted(module for module in imported_modules(path, known) if part(module) in FORBIDDEN.get(own, ()))
    assert not crossings, f"{path.relative_to(PACKAGE)} ({own}) imports {crossings}"


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in ``graph`` (empty if there is none)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = 2
        path.pop()
        return []

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return []


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert not cycle, " -> ".join(cycle)


def test_a_cycle_through_a_lazy_import_is_found(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    source = tmp_path / "tracker.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from siamtrack.io import outputs\n"
                      "def f():\n    from siamtrack.evaluation.metrics import iou\n")
    assert imported_modules(source, set(), "siamtrack.tracking") == {"siamtrack.evaluation.metrics"}


def test_the_top_level_holds_few_modules():
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def test_no_function_is_longer_than_80_lines():
    long = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long
