"""Packaging promises: a light import, the public names, the console script."""

import subprocess
import sys

import siamtrack


def test_import_loads_nothing_heavy():
    code = "import sys, siamtrack; print(sorted(m for m in ('torch', 'cv2', 'numpy') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_public_api_names():
    for name in ("Tracker", "TrackResult", "TrackerConfig", "load_weights", "WeightsError", "InputError"):
        assert name in siamtrack.__all__ and getattr(siamtrack, name) is not None


def test_unknown_attribute():
    import pytest

    with pytest.raises(AttributeError):
        siamtrack.NoSuchThing  # noqa: B018
