"""Track something in a webcam stream: draw a box around it, then watch it being followed.

    python demos/webcam.py --camera 0 [--model weights.pth]

Keys: space re-select, r reset, q or Esc quit. Needs a display and a camera.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from siamtrack import Tracker
from siamtrack.app.display import OpenCVDisplay, display_available
from siamtrack.app.loop import LoopSummary, run_tracking
from siamtrack.app.progress import Progress
from siamtrack.errors import SiamtrackError
from siamtrack.io.sources import SourceOptions, open_source


def track_webcam(camera: int = 0, model: Optional[str] = None, threads: Optional[int] = None) -> LoopSummary:
    """Open ``camera``, let the user select the target, and track it live until q/Esc.

    The camera is read by a background thread that keeps only the newest frame, so the view
    never lags behind when tracking is slower than the camera.
    """
    if not display_available():
        raise SiamtrackError("this demo needs a display")
    tracker = Tracker(model=model, threads=threads)
    display = OpenCVDisplay("siamtrack webcam")
    try:
        with open_source(camera, SourceOptions()) as source:
            return run_tracking(source, tracker, None, display=display, progress=Progress(None, enabled=False))
    finally:
        display.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    parser.add_argument("--model", help="weights file (default: the default model)")
    parser.add_argument("--threads", type=int, help="CPU threads for inference")
    args = parser.parse_args()
    try:
        summary = track_webcam(args.camera, args.model, args.threads)
    except SiamtrackError as exc:
        sys.exit(f"error: {exc}")
    print(f"{summary.tracked} frames tracked at {summary.fps:.1f} fps, {summary.dropped} camera frames dropped")
