"""Packaging promises: a light import, the public names, the console script."""

import subprocess
import sys

import pytest

import siamtrack


def test_import_loads_nothing_heavy():
    code = "import sys, siamtrack; print(sorted(m for m in ('torch', 'cv2', 'numpy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_public_api_names():
    for name in ("Tracker", "TrackResult", "TrackerConfig", "load_weights", "WeightsError", "InputError"):
        assert name in siamtrack.__all__ and getattr(siamtrack, name) is not None


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        siamtrack.NoSuchThing  # noqa: B018


def test_the_version_is_defined_once_and_the_changelog_has_it():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    assert (repo / "CHANGELOG.md").read_text().count(f"## {siamtrack.__version__} - ") == 1
    assert siamtrack.__version__ not in (repo / "setup.py").read_text()  # setup.py reads __init__.py


@pytest.mark.slow
def test_the_wheel_installs_in_a_clean_venv_and_tracks(tmp_path):
    """python -m build makes an sdist and a wheel that twine accepts; the wheel carries the default
    model and its ONNX export, installs alone in a fresh virtual environment and runs the demo."""
    import shutil
    from pathlib import Path

    pytest.importorskip("build", reason="needs the build and twine packages (the test extra)")
    repo = Path(__file__).resolve().parents[1]
    source = tmp_path / "src"
    shutil.copytree(repo, source, ignore=shutil.ignore_patterns(".venv*", ".git", "runs", "site", "build", "dist",
                                                                "*.egg-info", "__pycache__", ".pytest_cache"))
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(source)],
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    dist = sorted((tmp_path / "dist").iterdir(), key=lambda p: p.suffix)
    assert [p.suffix for p in dist] == [".gz", ".whl"]
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    import zipfile

    names = zipfile.ZipFile(dist[1]).namelist()
    assert any(n.endswith("weights/siamtrack-default-onnx/search.onnx") for n in names)
    assert any(n.endswith("weights/siamtrack-default.pth") for n in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(dist[1])],
                               capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-2000:]
    demo = subprocess.run([str(venv / "bin" / "siamtrack"), "demo", "--output", str(tmp_path / "demo.mkv")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "mean IoU over 119 frames" in demo.stdout and "backend onnx" in demo.stdout
