"""Per-frame time against the number of targets tracked together (MultiTracker, CPU).

    python benchmarks/targets.py [--threads 2] [--frames 40] [--backend onnx]

Targets (1, 2, 4, 8, 16 boxes spread over real dev frames) are all updated by one MultiTracker,
so their crops go through the network in one batched call per frame. Reports the median and p90
ms per frame, the ratio to one target, and ms per target. Writes benchmarks/results/targets.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
COUNTS = (1, 2, 4, 8, 16)
SEQUENCE = "Crossing"


def spread_boxes(count: int, first: tuple[float, ...], width: int, height: int) -> list[tuple[float, ...]]:
    """The sequence's own box first, then boxes of the same size on a grid over the frame."""
    boxes = [tuple(first)]
    w, h = first[2], first[3]
    columns = 4
    for index in range(count - 1):
        row, column = divmod(index, columns)
        x = (column + 0.5) * width / columns - w / 2
        y = (row % 4 + 0.5) * height / 4 - h / 2
        boxes.append((x, y, w, h))
    return boxes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=40, help="frames timed per target count")
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "targets.json")
    args = parser.parse_args()
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

    from siamtrack import MultiTracker
    from siamtrack.datasets import load_dataset
    from siamtrack.evaluation.entries import pin_threads
    from siamtrack.evaluation.ope import read_frames
    from siamtrack.evaluation.report import machine_info, write_json

    pin_threads(args.threads)
    sequence = next(s for s in load_dataset(SHARED / "data" / "dev") if s.name == SEQUENCE)
    frames = read_frames(sequence)[:args.frames + 1]
    height, width = frames[0].shape[:2]
    tracker = MultiTracker(backend=args.backend, device="cpu", threads=args.threads)
    rows = {}
    for count in COUNTS:
        tracker.clear()
        for box in spread_boxes(count, tuple(sequence.boxes[0]), width, height):
            tracker.add(frames[0], box)
        tracker.update(frames[1])  # warm-up: allocations for this batch size
        latencies = []
        for frame in frames[1:]:
            began = time.perf_counter()
            tracker.update(frame)
            latencies.append((time.perf_counter() - began) * 1000.0)
        rows[count] = {"median_ms": float(np.median(latencies)), "p90_ms": float(np.percentile(latencies, 90))}
        print(f"{count:3d} targets: {rows[count]['median_ms']:7.1f} ms/frame", file=sys.stderr, flush=True)
    single = rows[1]["median_ms"]
    print(f"\n{'targets':>7s} {'ms/frame':>9s} {'p90 ms':>8s} {'x 1 target':>10s} {'ms/target':>9s}")
    for count, row in rows.items():
        row["ratio_to_one"] = row["median_ms"] / single
        row["ms_per_target"] = row["median_ms"] / count
        print(f"{count:7d} {row['median_ms']:9.1f} {row['p90_ms']:8.1f} {row['ratio_to_one']:10.2f} "
              f"{row['ms_per_target']:9.1f}")
    write_json(args.json, {"command": "python " + " ".join(sys.argv), "sequence": SEQUENCE,
                           "frame_size": [width, height], "backend": args.backend, "frames": args.frames,
                           "targets": {str(k): v for k, v in rows.items()}, "machine": machine_info(args.threads)})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
