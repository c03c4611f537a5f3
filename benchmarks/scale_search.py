"""Single-pass scale search against SiamFC's image pyramid, on the dev sequences, in one run.

    python benchmarks/scale_search.py     # -> benchmarks/results/scale_search/report.md

Four siamtrack entries on the same decoded frames, PyTorch backend on the CPU, 2 threads: the
published SiamFC-3s network and the project's model v4 (the default until v5, a response model),
each with the single-pass step (default config) and with the 3-scale pyramid (preset ``siamfc-3s``).
Same hyper-parameters otherwise, so the difference is the scale search alone.
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
    parser.add_argument("--report", default=str(REPO / "benchmarks" / "results" / "scale_search"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sequences", help="comma-separated subset (default: all)")
    args = parser.parse_args()
    published = SHARED / "weights" / "siamfc_reference" / "siamfc_alexnet_original_bnfolded.pth"
    entries = {"published-single": f"{published}", "published-pyramid": f"{published}:siamfc-3s",
               "default-single": args.model, "default-pyramid": f"{args.model}:siamfc-3s"}
    command = ["eval", str(SHARED / "data" / "dev"), "--trackers", ",".join(entries), "--backend", "torch",
               "--report", args.report, "--threads", str(args.threads),
               "--title", "dev set: single-pass scale search vs image pyramid"]
    for name, model in entries.items():
        command += ["--siamtrack", f"{name}={model}"]
    if args.sequences:
        command += ["--sequences", args.sequences]
    return siamtrack_main(command)


if __name__ == "__main__":
    sys.exit(main())
