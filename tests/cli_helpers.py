"""Running ``siamtrack`` as a user would, for the command-line tests (fixtures in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from siamtrack.app.synthetic import ClipSpec

CLIP = ClipSpec(frames=16, width=160, height=120, object_size=(32, 24), seed=5)


# ``siamtrack`` as started from a terminal. A shell without job control starts background jobs
# with SIGINT ignored, and Python keeps it so (a CI runner may run the suite that way); this turns
# Python's Ctrl-C handling back on before the command starts, so Ctrl-C tests test the command.
SIAMTRACK_WITH_CTRL_C = [sys.executable, "-c",
                         "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                         "sys.argv = ['siamtrack', *sys.argv[1:]]; "
                         "runpy.run_module('siamtrack.cli', run_name='__main__')"]


def box_text(clip):
    """The clip's first box as ``--box`` takes it."""
    return ",".join(f"{v:.2f}" for v in clip[1][0])


def siamtrack(*args, cwd=None):
    """``python -m siamtrack.cli ARGS`` without a display; the completed process."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, "-m", "siamtrack.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=900, env=env, cwd=cwd)
