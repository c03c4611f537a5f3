"""The project's default model against its peers, in one run on the dev sequences.

    python benchmarks/default_model.py        # -> benchmarks/results/default_model/report.md

Model v4 (``weights/siamtrack-v4.pth``, the default until v5; the presets compared are a response
model's) with the 3-scale pyramid, the ``single-pass`` preset and the
``single-pass-fallback`` preset), the published SiamFC-3s network, FDSiamFC's 30 % and 15 % networks (all
through the same siamtrack tracker, default config unless named, PyTorch backend) and OpenCV's
NanoTrack v2, 2 threads,
on the same decoded frames; the report gives success AUC, precision and fps side by side, so the
speed ratios are measured on the same machine at the same time. Run it once per model, at the end:
models are chosen on held-out training sequences (benchmarks/model_selection.py), never here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from siamtrack.cli import main as siamtrack_main

_REPO = Path(__file__).resolve().parent.parent
REPO = Path(os.path.relpath(_REPO))
SHARED = Path(os.path.relpath(_REPO.parent / "shared"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(REPO / "weights" / "siamtrack-v4.pth"))
    parser.add_argument("--report", default=str(REPO / "benchmarks" / "results" / "default_model"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    weights = SHARED / "weights"
    reference = weights / "siamfc_reference" / "siamfc_alexnet_original_bnfolded.pth"
    return siamtrack_main(["eval", str(SHARED / "data" / "dev"),
                           "--trackers", "default-model,default-model-single,default-model-fallback,"
                                         "published-siamfc,fdsiamfc-30,fdsiamfc-15,nano",
                           "--siamtrack", f"default-model={args.model}",
                           "--siamtrack", f"default-model-single={args.model}:single-pass",
                           "--siamtrack", f"default-model-fallback={args.model}:single-pass-fallback",
                           "--siamtrack", f"published-siamfc={reference}",
                           "--siamtrack", f"fdsiamfc-30={weights / 'fdsiamfc' / 'FDSiamfc_30.pth'}",
                           "--siamtrack", f"fdsiamfc-15={weights / 'fdsiamfc' / 'FDSiamfc_15.pth'}",
                           "--peer-models", str(weights), "--report", args.report, "--threads", str(args.threads),
                           "--title",
                           "dev set: default model vs published SiamFC-3s, FDSiamFC, NanoTrack v2"])


if __name__ == "__main__":
    sys.exit(main())
