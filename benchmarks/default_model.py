"""The project's default model against the published SiamFC-3s network, in one run on the dev sequences.

    python benchmarks/default_model.py        # -> benchmarks/results/default_model/report.md

Both run through the same tracker (default config: 3 scales), PyTorch backend, 2 threads, on the
same decoded frames; the report gives success AUC, precision and fps side by side, so the speed
ratio is measured on the same machine at the same time.
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
    parser.add_argument("--model", default=str(REPO / "weights" / "siamtrack-default.pth"))
    parser.add_argument("--report", default=str(REPO / "benchmarks" / "results" / "default_model"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    reference = SHARED / "weights" / "siamfc_reference" / "siamfc_alexnet_original_bnfolded.pth"
    return siamtrack_main(["eval", str(SHARED / "data" / "dev"), "--trackers", "default-model,published-siamfc",
                           "--siamtrack", f"default-model={args.model}",
                           "--siamtrack", f"published-siamfc={reference}", "--report", args.report,
                           "--threads", str(args.threads), "--title", "dev set: default model vs published SiamFC-3s"])


if __name__ == "__main__":
    sys.exit(main())
