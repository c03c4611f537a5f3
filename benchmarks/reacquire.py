"""Re-acquisition from detections on real sequences: where it helps and where it hurts.

    python benchmarks/reacquire.py            # -> benchmarks/results/reacquire.json (+ a table)

Sequences: every training and dev sequence in which the target leaves the view or is hidden
(rows with no box: UAV123's group2_1/2/3, person9, person12_2, dev group3_2), and the OTB people
sequences with occlusions that OpenCV's HOG people detector can see (Jogging-1, Jogging-2, Woman,
Couple, Human9). Each runs with the default tracker (``Tracker()``, or ``--model``'s) as it is, and with the capture
loop's re-acquisition (detector every 5 frames while the target is lost,
:meth:`siamtrack.MultiTracker.reacquire`) fed by:

* ``oracle``: the true box whenever the target is visible, plus two look-alike distractors (boxes of
  the target's size elsewhere in the frame): the mechanism itself, with a perfect detector;
* ``person``: OpenCV's HOG people detector (``--detect person``), on the people sequences.

Reported per sequence and variant: success AUC (over frames with a box), the lost flag's precision
and recall on the frames with no box, and the re-acquisitions (how many, and how many landed on
the target: IoU > 0.3 with the truth).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
ABSENT = ("group2_1", "group2_2", "group2_3", "person9", "person12_2", "group3_2")
PEOPLE = ("Jogging-1", "Jogging-2", "Woman", "Couple", "Human9")


class OracleDetector:
    """The truth when the target is visible, and two boxes of its size elsewhere (look-alike places)."""

    names = ("target",)

    def __init__(self, boxes: np.ndarray, seed: int = 0) -> None:
        self.boxes, self.index, self.rng = boxes, 0, np.random.default_rng(seed)

    def detect(self, frame: np.ndarray):
        from siamtrack.detection.detectors import Detections

        height, width = frame.shape[:2]
        truth = self.boxes[self.index]
        finite = self.boxes[np.isfinite(self.boxes).all(axis=1)]
        w, h = (truth[2:] if np.isfinite(truth).all() else finite[-1, 2:])
        found = [(self.rng.uniform(0, max(width - w, 1)), self.rng.uniform(0, max(height - h, 1)), w, h)
                 for _ in range(2)]
        if np.isfinite(truth).all():
            found.append(tuple(truth))
        return Detections(np.array(found), np.full(len(found), 0.9), np.zeros(len(found), np.int64), self.names)


def track(sequence, images, detector=None, every: int = 5, model=None) -> dict:
    from siamtrack import MultiTracker
    from siamtrack.evaluation.metrics import iou, lost_flag_scores, success_auc

    tracker = MultiTracker(model=model, device="cpu", threads=2)
    boxes, lost, reacquired = [], [], []
    first = int(np.flatnonzero(np.isfinite(sequence.boxes).all(axis=1))[0])
    began = time.monotonic()
    for index, image in enumerate(images):
        if index < first:
            boxes.append((np.nan,) * 4)
            lost.append(True)
            continue
        if index == first:
            result = tracker.add(image, sequence.boxes[index])
        else:
            result = tracker.update(image)[1]
            if detector is not None and index % every == 0 and tracker.lost_ids():
                detector.index = index
                back = tracker.reacquire(image, detector.detect(image))
                if back:
                    result = back[1]
                    truth = sequence.boxes[index]
                    hit = bool(np.isfinite(truth).all() and iou(np.array(result.box), truth[None])[0] > 0.3)
                    reacquired.append((index, hit))
        boxes.append(result.box)
        lost.append(result.lost)
    predicted = np.array(boxes, dtype=np.float64)
    flags = lost_flag_scores(np.array(lost), ~np.isfinite(sequence.boxes).all(axis=1))
    return {"auc": round(success_auc(predicted, sequence.boxes), 4), **{k: round(v, 4) for k, v in flags.items()},
            "reacquisitions": len(reacquired), "on_target": sum(hit for _, hit in reacquired),
            "seconds": round(time.monotonic() - began, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+",
                        default=[REPO.parent / "shared" / "data" / "train", REPO.parent / "shared" / "data" / "dev"])
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "reacquire.json")
    parser.add_argument("--model", help="weights, export folder or built-in model name (default: the default model)")
    args = parser.parse_args()

    from siamtrack.datasets import load_dataset
    from siamtrack.detection.detectors import PeopleDetector
    from siamtrack.evaluation.ope import read_frames
    from siamtrack.evaluation.report import machine_info, write_json

    sequences = {s.name: s for root in args.data for s in load_dataset(root) if s.name in ABSENT + PEOPLE}
    rows = []
    for name in [n for n in ABSENT + PEOPLE if n in sequences]:
        sequence = sequences[name]
        images = read_frames(sequence)
        variants = {"plain": None, "oracle": OracleDetector(sequence.boxes)}
        if name in PEOPLE:
            variants["person"] = PeopleDetector()
        for variant, detector in variants.items():
            absent = int((~np.isfinite(sequence.boxes).all(axis=1)).sum())
            row = {"sequence": name, "variant": variant, "frames": len(images), "absent": absent,
                   **track(sequence, images, detector, model=args.model)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print("| sequence | absent frames | variant | AUC | lost precision | lost recall | re-acquired (on target) |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['sequence']} | {row['absent']} | {row['variant']} | {row['auc']:.3f} | "
              f"{row['precision']:.3f} | {row['recall']:.3f} | {row['reacquisitions']} ({row['on_target']}) |")
    summary = {}
    for variant in ("oracle", "person"):
        names = {row["sequence"] for row in rows if row["variant"] == variant}
        with_it = [row["auc"] for row in rows if row["variant"] == variant]
        without = [row["auc"] for row in rows if row["variant"] == "plain" and row["sequence"] in names]
        summary[variant] = {"sequences": len(names), "auc_without": round(float(np.mean(without)), 4),
                            "auc_with": round(float(np.mean(with_it)), 4)}
        print(f"{variant}: mean AUC {summary[variant]['auc_without']:.3f} without re-acquisition, "
              f"{summary[variant]['auc_with']:.3f} with it, over the same {len(names)} sequences")
    write_json(args.json, {"command": "python " + " ".join(sys.argv), "model": args.model or "default",
                           "rows": rows, "summary": summary, "machine": machine_info(2)})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
