"""The direction of imports: the tracking core does no I/O and knows nothing of the application.

Read from the source (imports inside functions included), so a lazy import cannot hide a layer
crossing. The core is what a frame passes through on its way to a box; above it sit detection,
I/O (sources, outputs, events), the application (loop, display, annotation, demo), batch, serve,
evaluation, training and the command line.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "siamtrack"
CORE = ["tracker", "steps", "head", "box_reader", "crops", "redetect", "frames", "config", "results", "geometry",
        "metadata", "models", "errors", "network", "backends", "gpu"]
ABOVE = ["outputs", "sources", "events", "loop", "display", "annotate", "demo", "batch", "server", "webapp",
         "evaluation", "training", "cli", "downloads", "datasets", "synthetic"]


def imported_modules(path: Path, package: str) -> set[str]:
    """Every siamtrack module ``path`` imports, as a dotted name below ``siamtrack``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base[1:] + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("siamtrack."):
                target = node.module[len("siamtrack."):]
            else:
                continue
            found.add(target)
            found.update(f"{target}.{alias.name}" if target else alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name[len("siamtrack."):] for a in node.names if a.name.startswith("siamtrack."))
    return found


def core_files():
    for name in CORE:
        folder = PACKAGE / name
        yield from (sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{name}.py"])


@pytest.mark.parametrize("path", list(core_files()), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_tracking_core_imports_nothing_above_it(path):
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    package = ".".join(relative.parts[:-1]) if path.name != "__init__.py" else ".".join(relative.parts[:-1])
    crossings = sorted(module for module in imported_modules(path, package)
                       if module.split(".")[0] in ABOVE)
    assert not crossings, f"{path.relative_to(PACKAGE)} imports {crossings}"


def test_a_lazy_crossing_is_found(tmp_path):
    source = tmp_path / "tracker.py"
    source.write_text("def f():\n    from .evaluation.metrics import iou\n"
                      "    from siamtrack.outputs import ResultWriter\n")
    found = imported_modules(source, "siamtrack")
    assert {"evaluation.metrics", "outputs"} <= found
