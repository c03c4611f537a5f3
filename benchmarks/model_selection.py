"""Model selection on held-out training sequences: tracking accuracy of candidate networks.

    python benchmarks/model_selection.py runs/default-v2/epochs/*.pth weights/siamtrack-default.pth \
        [--configs single-pass]
        # -> benchmarks/results/model_selection/report.md

The sequences are the ``holdout`` of the training preset (default ``lite0``): kept out of training,
never ``dev/``, so choosing a model here does not tune it to the dev numbers. Every candidate runs
through the default tracker (``Tracker()`` settings), PyTorch backend, 2 threads, on the same
decoded frames, as ``siamtrack eval`` does.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from siamtrack.cli import main as siamtrack_main
from siamtrack.training.config import load_train_config

_REPO = Path(__file__).resolve().parent.parent
REPO = Path(os.path.relpath(_REPO))


def candidate_name(path: Path) -> str:
    """``v2-e3`` for runs/default-v2/epochs/3.pth, else the file's stem."""
    if path.parent.name == "epochs":
        return f"{path.parent.parent.name.removeprefix('default-')}-e{path.stem}"
    return path.stem


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="weights files to compare")
    parser.add_argument("--preset", default="lite0", help="training preset whose data and holdout to use")
    parser.add_argument("--report", default=str(REPO / "benchmarks" / "results" / "model_selection"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--configs", default="",
                        help="comma-separated tracker presets to run each candidate with besides the default "
                             "(e.g. single-pass); rows are named CANDIDATE:PRESET")
    args = parser.parse_args()
    config = load_train_config(args.preset)
    if not config.holdout:
        print(f"model_selection: preset {args.preset} holds out no sequence", file=sys.stderr)
        return 2
    presets = [p.strip() for p in args.configs.split(",") if p.strip()]
    runs = [(candidate_name(path), path, "") for path in args.models]
    runs += [(f"{candidate_name(path)}:{preset}", path, f":{preset}") for path in args.models for preset in presets]
    names = [name for name, _, _ in runs]
    if len(set(names)) != len(names):
        print("model_selection: two candidates would share a name; pass files with distinct names", file=sys.stderr)
        return 2
    command = ["eval", *config.data, "--sequences", ",".join(config.holdout), "--trackers", ",".join(names),
               "--report", args.report, "--threads", str(args.threads), "--quiet",
               "--title", f"model selection on the held-out sequences of preset {args.preset}"]
    for name, path, config_suffix in runs:
        command += ["--siamtrack", f"{name}={path}{config_suffix}"]
    return siamtrack_main(command)


if __name__ == "__main__":
    sys.exit(main())
