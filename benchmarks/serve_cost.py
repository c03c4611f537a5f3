"""What serving the view costs per frame: annotating and JPEG-encoding against tracking itself.

    python benchmarks/serve_cost.py        # -> benchmarks/results/serve_cost.json (+ a table)

``siamtrack serve`` encodes each processed frame as a JPEG while someone watches (or asks for a
snapshot); nothing else it adds runs per frame. This times, on the same frames of a generated clip
at two sizes, the default tracker's update with one target (ONNX Runtime, 2 threads) and the work the
view adds (drawing the box, ``cv2.imencode`` at quality 80), and reports the added share.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    import cv2

    from siamtrack import MultiTracker
    from siamtrack.app.annotate import annotate
    from siamtrack.app.synthetic import ClipSpec, make_clip
    from siamtrack.evaluation.report import machine_info, write_json
    from siamtrack.serve.engine import JPEG_QUALITY

    rows = []
    for width, height in ((320, 240), (640, 360), (1280, 720)):
        frames, truth = make_clip(ClipSpec(frames=150, width=width, height=height, object_size=(64, 48), seed=2))
        tracker = MultiTracker(backend="onnx", threads=2)
        tracker.add(frames[0], truth[0])
        tracking, viewing = [], []
        for frame in frames[1:]:
            began = time.perf_counter()
            results = tracker.update(frame)
            tracked = time.perf_counter()
            canvas = frame.copy()
            for result in results.values():
                annotate(canvas, result, label=f"#{result.target_id}", in_place=True)
            ok, _ = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            assert ok
            viewing.append(time.perf_counter() - tracked)
            tracking.append(tracked - began)
        track_ms, view_ms = 1e3 * float(np.median(tracking[10:])), 1e3 * float(np.median(viewing[10:]))
        rows.append({"frame": f"{width}x{height}", "tracking_ms": round(track_ms, 2), "view_ms": round(view_ms, 2),
                     "added": round(view_ms / track_ms, 3)})
    print("| frame | tracking (ms, median) | view: draw + JPEG (ms, median) | added to a frame |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['frame']} | {row['tracking_ms']:.2f} | {row['view_ms']:.2f} | +{100 * row['added']:.0f} % |")
    path = REPO / "benchmarks" / "results" / "serve_cost.json"
    write_json(path, {"rows": rows, "machine": machine_info(2)})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
