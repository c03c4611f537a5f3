"""The documentation site builds in strict mode (broken links and missing references fail), and the
docs' Python examples run as written (the README's run in test_readme.py)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_runtime_install import write_clip

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted((REPO / "docs").rglob("*.md"))
EXAMPLES = [(page, block) for page in PAGES
            for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)]


@pytest.mark.slow
def test_site_builds_in_strict_mode(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs need mkdocs-material and mkdocstrings (the test extra)")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=REPO, capture_output=True, text=True, timeout=600,
                            env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    built = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("index.html")}
    assert {"guides/outputs/index.html", "reference/index.html", "model-card/index.html"} <= built
    # The API reference renders as a reader sees it: cross-references are links, not Sphinx roles
    # printed as text, and every >>> example sits in a code block, not run into a paragraph.
    reference = (tmp_path / "site" / "reference" / "index.html").read_text(encoding="utf-8")
    assert not re.search(r":(class|func|meth|mod|data|attr):", reference)
    assert reference.count("autorefs-internal") > 50
    prompts = reference.count("&gt;&gt;&gt;")
    in_code = sum(block.count("&gt;&gt;&gt;") for block in re.findall(r"<pre>.*?</pre>", reference, re.DOTALL))
    assert prompts > 0 and in_code == prompts


def test_every_page_is_in_the_navigation():
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for page in PAGES:
        assert page.relative_to(REPO / "docs").as_posix() in nav, page


@pytest.mark.parametrize("page, block", EXAMPLES, ids=[f"{p.name}-{i}" for i, (p, _) in enumerate(EXAMPLES)])
def test_docs_python_example_runs(tmp_path, page, block):
    write_clip(tmp_path / "clip.mp4", frames=8, size=(400, 240))
    result = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{page}: {result.stderr}"
