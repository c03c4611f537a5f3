"""Running ``siamtrack`` as a user would, for the command-line tests (fixtures in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from siamtrack.synthetic import ClipSpec

CLIP = ClipSpec(frames=16, width=160, height=120, object_size=(32, 24), seed=5)


def box_text(clip):
    """The clip's first box as ``--box`` takes it."""
    return ",".join(f"{v:.2f}" for v in clip[1][0])


def siamtrack(*args, cwd=None):
    """``python -m siamtrack.cli ARGS`` without a display; the completed process."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, "-m", "siamtrack.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=900, env=env, cwd=cwd)
