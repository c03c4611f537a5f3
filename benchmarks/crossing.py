"""Two objects cross, one in front of the other: does each target keep its own object?

    python benchmarks/crossing.py [MODEL ...] [--seeds 12]     # -> benchmarks/results/crossing.json

Synthetic clips (``siamtrack.app.synthetic.make_crossing_clip``, 60 frames): A moves left to right,
B right to left in front of it and covers much of A at the crossing. Both targets are tracked in
one ``MultiTracker`` with each model (default tracker settings otherwise). A target is kept when
its box overlaps its own object (IoU > 0.5) in every one of the last 10 frames. The numbers
measure a model's hold through an occlusion by a different object, which the held-out sequences
cover only through a few crowd scenes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def kept(model: str, seed: int) -> tuple[bool, bool]:
    from siamtrack import MultiTracker
    from siamtrack.app.synthetic import make_crossing_clip
    from siamtrack.evaluation.metrics import iou

    frames, truth_a, truth_b = make_crossing_clip(frames=60, seed=seed)
    tracker = MultiTracker(model=model, device="cpu", threads=2)
    a, b = tracker.add(frames[0], truth_a[0]).target_id, tracker.add(frames[0], truth_b[0]).target_id
    history = [tracker.update(image) for image in frames[1:]]
    tail = range(len(frames) - 10, len(frames))

    def holds(target: int, truth: np.ndarray) -> bool:
        return min(float(iou(np.asarray(history[i - 1][target].box), truth[i])[0]) for i in tail) > 0.5

    return holds(a, truth_a), holds(b, truth_b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=[str(REPO / "weights" / "siamtrack-default.pth")])
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "crossing.json")
    args = parser.parse_args()
    from siamtrack.evaluation.report import machine_info, write_json

    rows = {}
    print(f"{'model':40s} {'A kept':>8s} {'B kept':>8s} {'both':>6s}   of {args.seeds} clips")
    for model in args.models:
        outcomes = np.array([kept(model, seed) for seed in range(args.seeds)])
        row = rows[Path(model).name] = {
            "a_kept": int(outcomes[:, 0].sum()), "b_kept": int(outcomes[:, 1].sum()),
            "both_kept": int(outcomes.all(axis=1).sum()), "a_lost_seeds": np.flatnonzero(~outcomes[:, 0]).tolist()}
        print(f"{model:40s} {row['a_kept']:8d} {row['b_kept']:8d} {row['both_kept']:6d}")
    write_json(args.json, {"command": "python " + " ".join(sys.argv), "seeds": args.seeds, "models": rows,
                           "machine": machine_info(2)})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
