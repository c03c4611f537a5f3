"""Does lost-target handling cost accuracy? Re-detection on vs off, model v4 (the default until v5), dev sequences.

    python benchmarks/redetect.py        # -> benchmarks/results/redetect/report.md

Two siamtrack variants on the same decoded frames: ``redetect`` (preset siamfc-3s-redetect)
and ``plain`` (the default config, SiamFC-3s without it). The
report gives mean success AUC for both and, on the sequences with absent-target frames (car14,
group3_2), the lost flag's precision and recall.
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
    parser.add_argument("--model", default=str(REPO / "weights" / "siamtrack-v4-onnx"))
    parser.add_argument("--report", default=str(REPO / "benchmarks" / "results" / "redetect"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    return siamtrack_main(["eval", str(SHARED / "data" / "dev"), "--trackers", "redetect,plain",
                           "--siamtrack", f"redetect={args.model}:siamfc-3s-redetect",
                           "--siamtrack", f"plain={args.model}:siamfc-3s", "--report", args.report,
                           "--threads", str(args.threads),
                           "--title", "dev set: re-detection on vs off (default model)"])


if __name__ == "__main__":
    sys.exit(main())
