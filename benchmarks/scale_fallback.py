"""Single pass with a pyramid fallback (``pyramid_below``) against the pyramid and the plain single
pass, on the 45 training videos, one ``siamtrack eval`` run per network.

    python benchmarks/scale_fallback.py [--networks fdsiamfc15,default] [--thresholds 0.5,0.6,0.7,0.8]
        # -> benchmarks/results/scale_fallback/<network>/report.md

FDSiamFC-15 (``../shared/weights/fdsiamfc``; the default ``--networks``) never saw these videos, so
its rows measure the step on 14,443 frames that no choice was tuned on. Model v4 (``default``, the
default until v5) was trained on 38 of the 45, so its rows (``--networks default``) compare steps,
not its accuracy. Each entry: PyTorch backend, 2 threads, same decoded frames.
The tracker configs are written beside each report (``configs/``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from siamtrack.cli import main as siamtrack_main

_REPO = Path(__file__).resolve().parent.parent
REPO = Path(os.path.relpath(_REPO))
SHARED = Path(os.path.relpath(_REPO.parent / "shared"))
NETWORKS = {"fdsiamfc15": SHARED / "weights" / "fdsiamfc" / "FDSiamfc_15.pth",
            "default": REPO / "weights" / "siamtrack-v4.pth"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", default="fdsiamfc15", help=f"comma-separated, of {', '.join(NETWORKS)}")
    parser.add_argument("--thresholds", default="0.5,0.6,0.7,0.8", help="pyramid_below values to try")
    parser.add_argument("--report", type=Path, default=REPO / "benchmarks" / "results" / "scale_fallback")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    thresholds = [float(value) for value in args.thresholds.split(",")]
    for network in args.networks.split(","):
        report = args.report / network
        configs = report / "configs"
        configs.mkdir(parents=True, exist_ok=True)
        entries = {"pyramid": "", "single": ":single-pass"}
        for threshold in thresholds:
            path = configs / f"fallback-{threshold:g}.json"
            path.write_text(json.dumps({"scale_search": "single", "pyramid_below": threshold}) + "\n")
            entries[f"fallback-{threshold:g}"] = f":{path}"
        command = ["eval", str(SHARED / "data" / "train"), "--trackers", ",".join(entries), "--backend", "torch",
                   "--report", str(report), "--threads", str(args.threads), "--quiet",
                   "--title", f"{network}: pyramid, single pass, pyramid fallback (45 training videos)"]
        for name, config in entries.items():
            command += ["--siamtrack", f"{name}={NETWORKS[network]}{config}"]
        code = siamtrack_main(command)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
