"""The README's Python examples run as written, on a generated ``clip.mp4`` in the working folder."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_runtime_install import write_clip

README = Path(__file__).resolve().parents[1] / "README.md"
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_has_python_examples():
    assert len(PYTHON_BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_python_example_runs(tmp_path, index):
    write_clip(tmp_path / "clip.mp4", frames=8, size=(400, 240))
    result = subprocess.run([sys.executable, "-c", PYTHON_BLOCKS[index]], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # Printed boxes are plain floats, not NumPy scalars.
    assert "np.float" not in result.stdout


def test_readme_gpu_table_is_the_one_its_results_give():
    results = README.parent / "benchmarks" / "results"
    table = subprocess.run([sys.executable, "benchmarks/gpu.py", "--table", str(results / "gpu.json"),
                            str(results / "gpu_single_pass.json")], cwd=README.parent, capture_output=True,
                           text=True, timeout=60, check=True).stdout
    assert table.count("\n") >= 3 and table.strip() in README.read_text(encoding="utf-8")


def test_readme_nanotrack_table_is_the_one_its_results_give():
    results = README.parent / "benchmarks" / "results" / "nanotrack_native.json"
    table = subprocess.run([sys.executable, "benchmarks/nanotrack_native.py", "--table", str(results)],
                           cwd=README.parent, capture_output=True, text=True, timeout=60, check=True).stdout
    assert table.count("\n") >= 3 and table.strip() in README.read_text(encoding="utf-8")
