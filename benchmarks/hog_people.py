"""Where OpenCV's HOG people detector (``--detect person``) can start a target: its first detection
on sequences whose target is a person, at ground level and from the air.

    python benchmarks/hog_people.py        # -> benchmarks/results/hog_people.json

Per sequence: the detector runs on the first ``--frames`` frames until it finds anything (as
``siamtrack track --detect person`` starts); that frame's most confident detection is a hit when
it overlaps the labelled person by IoU >= 0.5 (in a group, another member counts as a miss, so the
precision is a lower bound there). Reported per group: sequences with a detection, hits among
them (the precision of the first detection) and the median frames waited.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np

_REPO = Path(__file__).resolve().parent.parent
SHARED = _REPO.parent / "shared" / "data"
# Sequences whose labelled target is a person, by viewpoint.
GROUND = {"dev": ["Crossing", "Biker", "KiteSurf"],
          "train": ["Couple", "Jogging-1", "Jogging-2", "Gym", "Skating2-1", "Singer2", "Subway", "Diving", "Boxing1",
                    "Skiing", "Woman", "David", "Freeman1", "Human9", "Dancer2", "Singer1", "vot2014_drunk",
                    "vot2014_gymnastics", "vot2016_graduate", "vot2016_iceskater1", "Basketball", "Bolt2"]}
AERIAL = {"dev": ["person11", "group3_2", "wakeboard4", "Surfing06"],
          "train": ["group1_1", "group1_2", "group2_1", "group2_3", "person9", "person12_1", "wakeboard3",
                    "wakeboard7"]}


def first_detection(sequence, detector, frames: int) -> dict:
    from siamtrack.evaluation.metrics import iou

    for index, path in enumerate(sequence.frames[:frames]):
        found = detector.detect(cv2.imread(str(path)))
        if len(found):
            best = int(np.argmax(found.scores))
            truth = np.asarray(sequence.boxes[index], dtype=float)
            overlap = float(iou(found.boxes[best][None], truth[None])[0]) if np.isfinite(truth).all() else 0.0
            return {"sequence": sequence.name, "frame": index, "iou": round(overlap, 3), "hit": overlap >= 0.5}
    return {"sequence": sequence.name, "frame": None, "iou": None, "hit": False}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    from siamtrack.datasets import load_dataset
    from siamtrack.detection.detectors import PeopleDetector

    detector = PeopleDetector()
    result: dict = {"command": "python benchmarks/hog_people.py " + " ".join(sys.argv[1:]), "frames": args.frames}
    print("| viewpoint | sequences | with a detection | first detection on the person | median frames waited |")
    print("|---|---:|---:|---:|---:|")
    for group, names in (("ground", GROUND), ("aerial", AERIAL)):
        rows = []
        for split, sequences in names.items():
            for name in sequences:
                if (SHARED / split / name).is_dir():
                    (sequence,) = load_dataset(SHARED / split / name)
                    rows.append(first_detection(sequence, detector, args.frames))
        found = [row for row in rows if row["frame"] is not None]
        hits = sum(row["hit"] for row in found)
        waited = statistics.median(row["frame"] for row in found) if found else None
        result[group] = {"sequences": rows, "detected": len(found), "hits": hits,
                         "precision": hits / len(found) if found else None, "median_frames": waited}
        print(f"| {group} | {len(rows)} | {len(found)} | {hits} of {len(found)} | {waited} |")
    output = _REPO / "benchmarks" / "results" / "hog_people.json"
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {os.path.relpath(output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
