"""All trackers on the dev sequences: success / precision table, plots, JSON.

    python benchmarks/accuracy.py                    # -> benchmarks/results/accuracy/report.md

siamtrack runs with the default model from weights/ when there is one, else (saying so in the
report) with the published SiamFC-3s network from ../shared/weights; model v4 (the default before
v5) runs beside it when weights/ has it, each with its own default config. The peers are OpenCV's CSRT,
KCF, MIL, NanoTrack v2 and VitTrack, with their models from ../shared/weights.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from siamtrack.cli import main as siamtrack_main

# Relative paths, so the command recorded in the report reproduces on another checkout.
_REPO = Path(__file__).resolve().parent.parent
REPO = Path(os.path.relpath(_REPO))
SHARED = Path(os.path.relpath(_REPO.parent / "shared"))
REFERENCE = SHARED / "weights" / "siamfc_reference" / "siamfc_alexnet_original_bnfolded.pth"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(SHARED / "data" / "dev"))
    parser.add_argument("--report", default=str(REPO / "benchmarks" / "results" / "accuracy"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-frames", type=int)
    args = parser.parse_args()
    from siamtrack.errors import WeightsError
    from siamtrack.model.builtin import available_formats, builtin_model_path
    from siamtrack.tracking.tracker import default_model_path

    try:
        siamtrack = {"siamtrack": os.path.relpath(default_model_path())}
        title = "dev set: siamtrack (default model) and peers"
        if "weights" in available_formats("v4"):
            siamtrack["siamtrack-v4"] = os.path.relpath(builtin_model_path("v4"))
    except WeightsError:
        siamtrack = {"siamtrack": str(REFERENCE)}
        title = "dev set: siamtrack (published SiamFC-3s network) and peers"
    entries = [argument for name, model in siamtrack.items() for argument in ("--siamtrack", f"{name}={model}")]
    command = ["eval", args.data, "--report", args.report,
               "--trackers", ",".join([*siamtrack, "csrt", "kcf", "mil", "nano", "vit"]), *entries,
               "--peer-models", str(SHARED / "weights"), "--threads", str(args.threads), "--title", title]
    if args.max_frames:
        command += ["--max-frames", str(args.max_frames)]
    return siamtrack_main(command)


if __name__ == "__main__":
    sys.exit(main())
