"""What a new user meets first: the Makefile's install step on a network without PyTorch's index,
the README's words about system packages, and the demo's output as the README quotes it."""

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_an_index_that_never_answers_costs_seconds_not_minutes():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts, never answers
        index = f"http://127.0.0.1:{silent.getsockname()[1]}/whl/cpu"
        began = time.monotonic()
        plan = subprocess.run(["make", "-n", "-B", "install", f"TORCH_INDEX={index}", f"PYTHON={sys.executable}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        took = time.monotonic() - began
    assert plan.returncode == 0, plan.stderr
    assert took < 15 and "--extra-index-url" not in plan.stdout and "does not answer" in plan.stderr


def test_the_readme_names_the_system_packages_ci_installs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installed = set(re.search(r"--no-install-recommends \\\n(.*?)>/dev/null", ci, re.DOTALL).group(1).split())
    named = set(re.search(r"`sudo apt-get install ([^`]*)`", README).group(1).split())
    assert named == installed - {"\\"}


def test_the_demo_prints_what_the_readme_quotes(tmp_path):
    quoted = re.search(r"```text\n(.*?)```", README, re.DOTALL).group(1).splitlines()
    demo = subprocess.run([sys.executable, "-m", "siamtrack.cli", "demo", "--backend", "onnx"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr
    printed = demo.stdout.splitlines()
    for line in quoted[:2]:
        assert line in printed
