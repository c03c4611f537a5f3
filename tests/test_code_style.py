"""The code passes ruff and mypy (settings in pyproject.toml), and the package says it is typed."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it comes with the 'test' extra)")
    result = subprocess.run([ruff, "check", "siamtrack", "tests", "benchmarks", "demos"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # half a minute without a cache
def test_mypy_finds_nothing(tmp_path):
    if shutil.which("mypy", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("mypy is not installed (it comes with the 'test' extra)")
    # Through this interpreter, so mypy sees the packages installed beside siamtrack (torch, numpy).
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_ships_py_typed():
    assert (REPO / "siamtrack" / "py.typed").is_file()


def test_docstrings_use_the_cross_reference_style_the_docs_render():
    """mkdocstrings renders ``[Name][siamtrack.path]`` links; Sphinx roles would show as literal text."""
    import re

    roles = [f"{path.relative_to(REPO)}:{number}" for path in (REPO / "siamtrack").rglob("*.py")
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r":(class|func|meth|mod|data|attr):`", line)]
    assert not roles, roles


def test_every_error_class_lives_in_errors_py():
    """One place to see what siamtrack raises; a write failure is the world's fault, not a bad value."""
    import ast

    from siamtrack.errors import OutputWriteError

    defined = [f"{path.relative_to(REPO)}: {node.name}" for path in (REPO / "siamtrack").rglob("*.py")
               if path.name != "errors.py"
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.ClassDef) and (node.name.endswith("Error") or node.name.endswith("Unavailable"))]
    assert not defined, defined
    assert issubclass(OutputWriteError, OSError) and not issubclass(OutputWriteError, ValueError)
