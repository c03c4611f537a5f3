"""NanoTrack v2's own files through siamtrack against OpenCV's TrackerNano: accuracy, then many targets.

    python benchmarks/nanotrack_native.py [--sequence car1] [--targets 1,4,16] [--skip-accuracy]

1. Accuracy: every dev sequence tracked by ``siamtrack`` with ``--model`` the NanoTrack folder
   (ONNX Runtime, siamtrack's crops and decoder) and by ``cv2.TrackerNano`` on the same frames, in
   one ``siamtrack eval`` run (-> benchmarks/results/nanotrack_native/report.md). siamtrack's decoder
   is meant to be TrackerNano's: the AUCs should agree within 0.005.
2. Many targets: N targets on one sequence's frames (held in memory), updated each frame by one
   MultiTracker (every crop in one backbone call and one head call) or by N TrackerNano objects one
   after the other. Milliseconds per frame, target updates per second and the ratio, each the median
   of ``--repeats`` passes; both with ``--threads`` CPU threads.

Writes benchmarks/results/nanotrack_native.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

_REPO = Path(__file__).resolve().parent.parent
REPO = Path(os.path.relpath(_REPO))
SHARED = Path(os.path.relpath(_REPO.parent / "shared"))
NANO = SHARED / "weights" / "nanotrack_v2"
RESULTS = REPO / "benchmarks" / "results"


def accuracy(threads: int) -> dict:
    from siamtrack.cli import main as siamtrack_main

    report = RESULTS / "nanotrack_native"
    code = siamtrack_main(["eval", str(SHARED / "data" / "dev"), "--report", str(report),
                           "--trackers", "nanotrack-native,nano", "--siamtrack", f"nanotrack-native={NANO}",
                           "--peer-models", str(SHARED / "weights"), "--threads", str(threads),
                           "--title", "NanoTrack v2: siamtrack's pipeline and cv2.TrackerNano"])
    if code != 0:
        raise SystemExit(code)
    results = json.loads((report / "report.json").read_text())
    return {name: {"auc": entry["auc"], "fps": entry["fps"]} for name, entry in results["summary"].items()}


def opencv_tracker():
    params = cv2.TrackerNano_Params()
    params.backbone = str(NANO / "nanotrack_backbone_sim.onnx")
    params.neckhead = str(NANO / "nanotrack_head_sim.onnx")
    return cv2.TrackerNano.create(params)


def starting_boxes(box: np.ndarray, count: int, frame_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """``count`` boxes of the target's size on a grid of 8 px steps around it, inside the frame."""
    height, width = frame_shape[:2]
    boxes = []
    for index in range(count):
        dx, dy = (index % 4 - 1.5) * 8, (index // 4 - 1.5) * 8
        x = int(min(max(box[0] + dx, 0), width - box[2]))
        y = int(min(max(box[1] + dy, 0), height - box[3]))
        boxes.append((x, y, int(box[2]), int(box[3])))
    return boxes


def time_pass(frames: list[np.ndarray], boxes: list[tuple[int, ...]], siamtrack: bool, threads: int) -> float:
    """Seconds per frame of updating every target (after adding them on the first frame)."""
    if siamtrack:
        from siamtrack import MultiTracker

        tracker = MultiTracker(model=NANO, backend="onnx", threads=threads)
        for box in boxes:
            tracker.add(frames[0], box)
        began = time.perf_counter()
        for frame in frames[1:]:
            tracker.update(frame)
    else:
        trackers = [opencv_tracker() for _ in boxes]
        for tracker, box in zip(trackers, boxes):
            tracker.init(frames[0], box)
        began = time.perf_counter()
        for frame in frames[1:]:
            for tracker in trackers:
                tracker.update(frame)
    return (time.perf_counter() - began) / (len(frames) - 1)


def many_targets(sequence: str, counts: list[int], repeats: int, threads: int) -> list[dict]:
    from siamtrack.datasets import load_dataset

    cv2.setNumThreads(threads)
    (loaded,) = load_dataset(SHARED / "data" / "dev" / sequence)
    frames = [cv2.imread(str(path)) for path in loaded.frames[:61]]
    rows = []
    for count in counts:
        boxes = starting_boxes(loaded.boxes[0], count, frames[0].shape)
        ours = statistics.median(time_pass(frames, boxes, True, threads) for _ in range(repeats))
        theirs = statistics.median(time_pass(frames, boxes, False, threads) for _ in range(repeats))
        rows.append({"targets": count, "siamtrack_ms": ours * 1e3, "opencv_ms": theirs * 1e3,
                     "siamtrack_updates_per_s": count / ours, "opencv_updates_per_s": count / theirs,
                     "speedup": theirs / ours})
    return rows


def table(result: dict) -> str:
    """The README's table: dev AUC of both in one run, then N targets per frame against N TrackerNano objects."""
    accuracy = result["accuracy"] or {}
    native, opencv = accuracy.get("nanotrack-native"), accuracy.get("nano")
    lines = ["| NanoTrack v2 run by | dev AUC | 1 target, updates/s | 4 targets | 16 targets |",
             "|---|---:|---:|---:|---:|"]
    rows = {row["targets"]: row for row in result["many_targets"]}
    for label, entry, key in (("siamtrack (`--model FOLDER`, ONNX Runtime)", native, "siamtrack_updates_per_s"),
                              ("OpenCV's `TrackerNano`, one per target", opencv, "opencv_updates_per_s")):
        auc = f"{entry['auc']:.3f}" if entry else "-"
        counts = " | ".join(f"{rows[n][key]:,.0f}" if n in rows else "-" for n in (1, 4, 16))
        lines.append(f"| {label} | {auc} | {counts} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequence", default="car1")
    parser.add_argument("--targets", default="1,4,16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-accuracy", action="store_true", help="many targets only (keeps the stored accuracy)")
    parser.add_argument("--table", type=Path, help="print the README's table from this results file and stop")
    args = parser.parse_args()
    if args.table is not None:
        print(table(json.loads(args.table.read_text())))
        return 0
    output = RESULTS / "nanotrack_native.json"
    previous = json.loads(output.read_text()) if output.is_file() else {}
    result = {"command": "python benchmarks/nanotrack_native.py " + " ".join(sys.argv[1:]), "cpu_threads": args.threads,
              "opencv": cv2.__version__, "sequence": args.sequence,
              "accuracy": previous.get("accuracy") if args.skip_accuracy else accuracy(args.threads),
              "many_targets": many_targets(args.sequence, [int(v) for v in args.targets.split(",")], args.repeats,
                                           args.threads)}
    print(table(result))
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
