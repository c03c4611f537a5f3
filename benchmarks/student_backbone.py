"""How much of NanoTrack's features a student's backbone has learnt: the student's backbone in front of
NanoTrack's own head (a diagnostic, never shipped), on the held-out training videos.

    python benchmarks/student_backbone.py runs/v5/epochs/12.pth [--preset nanostudent]
        # -> benchmarks/results/student_backbone/report.md

Three trackers on the same frames, all through siamtrack's pipeline and NanoTrack's decoder:
``nanotrack`` (its backbone and head), ``student+nanohead`` (the student's backbone features fed to
NanoTrack's head graph: the student's 48 channels are trained to be NanoTrack's), and ``student``
(the student's own head). The gap between the first two is what the backbone has not yet learnt;
between the last two, what the student's head adds or loses. The videos are the training preset's
holdout, never dev.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

_REPO = Path(__file__).resolve().parent.parent
REPO = Path(os.path.relpath(_REPO))
NANO = Path(os.path.relpath(_REPO.parent / "shared" / "weights" / "nanotrack_v2"))


class StudentBackboneNanoHead:
    """A :class:`~siamtrack.backends.Backend`: the student's backbone (torch) and NanoTrack's head (ONNX Runtime)."""

    name = "diagnostic"
    device = "cpu"

    def __init__(self, student: Path, threads: int) -> None:
        import torch

        from siamtrack.backends.nanotrack import NanoTrackOnnxBackend
        from siamtrack.model.weights import load_weights
        from siamtrack.network.siamese import SiameseNet

        weights = load_weights(student)
        network = SiameseNet(weights.metadata)
        network.load_state_dict(dict(weights.state_dict))
        self._network = network.eval().fold_batch_norm()
        torch.set_num_threads(threads)
        self._nano = NanoTrackOnnxBackend(NANO, threads=threads)
        self.metadata = self._nano.metadata
        self._torch = torch

    def _features(self, crops: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            return self._network.template(self._torch.from_numpy(np.ascontiguousarray(crops))).numpy()

    def template(self, exemplar_crops: np.ndarray) -> np.ndarray:
        return self._features(exemplar_crops)

    def stack(self, kernels: Sequence[np.ndarray]) -> np.ndarray:
        return kernels[0] if len(kernels) == 1 else np.concatenate(kernels)

    def track(self, search_crops: np.ndarray, kernels: np.ndarray) -> np.ndarray:
        return np.concatenate(self._nano.head_maps(kernels, self._features(search_crops)), axis=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("student", type=Path, help="a nanotrack-layout weights file (runs/v5/epochs/N.pth)")
    parser.add_argument("--preset", default="nanostudent", help="training preset whose holdout to use")
    parser.add_argument("--report", default=str(REPO / "benchmarks" / "results" / "student_backbone"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from siamtrack import Tracker
    from siamtrack.datasets import load_dataset
    from siamtrack.evaluation.entries import pin_threads
    from siamtrack.evaluation.harness import TrackerEntry, evaluate
    from siamtrack.evaluation.report import write_report
    from siamtrack.training.config import load_train_config

    pin_threads(args.threads)
    config = load_train_config(args.preset)
    sequences = [s for root in config.data for s in load_dataset(root) if s.name in config.holdout]
    hybrid = Tracker(backend=StudentBackboneNanoHead(args.student, args.threads))
    nanotrack = Tracker(model=NANO, backend="onnx", threads=args.threads)
    student = Tracker(model=args.student, backend="torch", device="cpu", threads=args.threads)
    entries = [TrackerEntry("nanotrack", lambda: nanotrack), TrackerEntry("student+nanohead", lambda: hybrid),
               TrackerEntry("student", lambda: student)]
    outcomes = evaluate(entries, sequences)
    report = write_report(outcomes, Path(args.report), title=f"student backbone {args.student} before NanoTrack's head",
                          command="python benchmarks/student_backbone.py " + " ".join(sys.argv[1:]))
    for name, row in report["summary"].items():
        print(f"{name:>18}  AUC {row['auc']:.3f}  P@20 {row['precision20']:.3f}  {row['fps']:.1f} fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
