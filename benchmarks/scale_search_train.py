"""Scale searches compared on the training videos (model selection never looks at dev).

    python benchmarks/scale_search_train.py [--frames 200]   # -> benchmarks/results/scale_search_train.json

Every sequence of ../shared/data/train (video.mp4 + groundtruth_rect.txt, OTB convention), its first
``--frames`` frames, model v4 (the default until v5, a response model) on the PyTorch CPU backend, 2
threads. Entries:

* ``pyramid``: the default tracker (SiamFC's three search crops);
* ``single``: preset ``single-pass`` (one search crop, an exemplar kernel per scale);
* ``feature-pyramid``: an experiment that is not part of siamtrack: the pyramid's geometry and
  single kernel, but one backbone pass per frame, the side scales' features made by resampling
  the middle crop's feature map (bilinear, border replicated). It tells whether a single pass
  that resamples features is worth building into the backends.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

_REPO = Path(__file__).resolve().parent.parent
REPO = Path(os.path.relpath(_REPO))
SHARED = Path(os.path.relpath(_REPO.parent / "shared"))


class FeaturePyramidBackend:
    """A pyramid-mode backend running the backbone on the middle crop only (the experiment)."""

    name = "feature-pyramid"
    device = "cpu"

    def __init__(self, inner, scales: np.ndarray) -> None:
        self.inner, self.scales, self.metadata = inner, scales, inner.metadata

    def template(self, crops):
        return self.inner.template(crops)

    def stack(self, kernels):
        return self.inner.stack(kernels)

    def track(self, crops, kernels):
        import torch
        import torch.nn.functional as F

        from siamtrack.network.correlation import cross_correlate

        count = len(self.scales)
        if len(crops) % count or len(kernels) != len(crops):  # not a pyramid call (init, tiles)
            return self.inner.track(crops, kernels)
        network = self.inner.network
        with torch.inference_mode():
            middles = torch.from_numpy(np.ascontiguousarray(crops[count // 2::count]))
            features = network.backbone(network.preprocess(middles))  # (T, C, H, W)
            theta = torch.zeros(count, 2, 3)
            theta[:, 0, 0] = theta[:, 1, 1] = torch.as_tensor(self.scales, dtype=torch.float32)
            resampled = []
            for one in features:
                stack = one[None].expand(count, -1, -1, -1)
                grid = F.affine_grid(theta, list(stack.shape), align_corners=True)
                resampled.append(F.grid_sample(stack, grid, mode="bilinear", padding_mode="border", align_corners=True))
            meta = network.metadata
            return cross_correlate(kernels, torch.cat(resampled), meta.response_scale, meta.response_bias).numpy()


def first_frames(sequence, frames: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The first ``frames`` frames of a sequence and their boxes, from its first labelled frame."""
    import cv2

    first = int(np.flatnonzero(~sequence.absent)[0])
    images = [cv2.imread(str(path)) for path in sequence.frames[first:frames]]
    return images, sequence.boxes[first:frames]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "scale_search_train.json")
    args = parser.parse_args()

    from siamtrack import Tracker
    from siamtrack.backends import create_backend
    from siamtrack.config import TrackerConfig
    from siamtrack.datasets import load_dataset
    from siamtrack.evaluation.metrics import success_auc
    from siamtrack.evaluation.report import machine_info, write_json
    from siamtrack.tracking.peaks import scale_factors

    backend = create_backend("torch", REPO / "weights" / "siamtrack-v4.pth", device="cpu",
                             threads=args.threads, cpu_graph="eager")
    pyramid_scales = scale_factors(TrackerConfig())
    entries = {"pyramid": lambda: Tracker(backend=backend),
               "single": lambda: Tracker(backend=backend, config="single-pass"),
               "feature-pyramid": lambda: Tracker(backend=FeaturePyramidBackend(backend, pyramid_scales))}
    sequences = {s.name: first_frames(s, args.frames) for s in load_dataset(SHARED / "data" / "train")}
    results: dict = {}
    for label, build in entries.items():
        began, scores = time.time(), {}
        for name, (frames, boxes) in sequences.items():
            tracker = build()
            tracker.init(frames[0], tuple(boxes[0]))
            found = np.array([tracker.update(frame).box for frame in frames[1:]])
            scores[name] = success_auc(found, boxes[1:])  # frames without a box are left out
        results[label] = {"mean_auc": float(np.mean(list(scores.values()))), "per_sequence": scores,
                          "seconds": round(time.time() - began, 1)}
        print(f"{label:16s} mean AUC {results[label]['mean_auc']:.3f} over {len(scores)} sequences", flush=True)
    write_json(args.json, {"command": "python " + " ".join(sys.argv), "frames_per_sequence": args.frames,
                           "model": "weights/siamtrack-v4.pth", "entries": results,
                           "machine": machine_info(args.threads)})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
