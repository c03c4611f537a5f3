"""Training-signal ablation: what distillation and hard negatives each add, on held-out sequences.

    python benchmarks/signal_ablation.py            # trains 3 networks (~1 hour on 2 cores), then tracks
        # -> benchmarks/results/signal_ablation/{report.md, ablation.json}

Three runs of one training preset (default ``alexnet15``) with the same seed and budget (8 epochs of
6,000 pairs): everything on, distillation off (``distill_weight=0``), hard negatives off
(``negative_fraction=0``). Each trained network then tracks the preset's held-out sequences
(never ``dev/``) with the pyramid and with a single pass, in one ``siamtrack eval`` run. A run whose
``OUTPUT/model.pth`` exists is not trained again, so the command can be repeated to re-measure.

The budget is a fifth of the default model's, so absolute numbers sit below it; the comparison is
between the rows. One seed per variant: a difference of a few hundredths is inside the held-out
spread (one of 7 sequences moves a mean by 0.02 - 0.04).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from siamtrack.cli import main as siamtrack_main
from siamtrack.training.config import load_train_config

_REPO = Path(__file__).resolve().parent.parent
REPO = Path(os.path.relpath(_REPO))

BUDGET = ["epochs=8", "pairs_per_epoch=6000"]
VARIANTS = {
    "all-signals": [],
    "no-distillation": ["distill_weight=0"],
    "no-hard-negatives": ["negative_fraction=0"],
}
SCALE_SEARCHES = {"pyramid": "", "single-pass": ":single-pass"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="alexnet15", help="training preset (data, holdout, signals)")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "signal_ablation",
                        help="where the trained networks go (one folder per variant)")
    parser.add_argument("--report", type=Path, default=REPO / "benchmarks" / "results" / "signal_ablation")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    config = load_train_config(args.preset)
    if not config.holdout:
        print(f"signal_ablation: preset {args.preset} holds out no sequence", file=sys.stderr)
        return 2
    if not config.teacher or config.distill_weight == 0 or config.negative_fraction == 0:
        print(f"signal_ablation: preset {args.preset} must switch on distillation and hard negatives",
              file=sys.stderr)
        return 2

    for variant, overrides in VARIANTS.items():
        output = args.runs / variant
        if (output / "model.pth").is_file():
            print(f"{variant}: trained already ({output / 'model.pth'})")
            continue
        status = siamtrack_main(["train", "--preset", args.preset, "--output", str(output), *BUDGET, *overrides])
        if status != 0:
            return status

    names = [f"{variant}{suffix}" for variant in VARIANTS for suffix in SCALE_SEARCHES.values()]
    command = ["eval", *config.data, "--sequences", ",".join(config.holdout), "--trackers", ",".join(names),
               "--report", str(args.report), "--threads", str(args.threads), "--quiet",
               "--title", f"training-signal ablation on the held-out sequences of preset {args.preset}"]
    for variant in VARIANTS:
        for suffix in SCALE_SEARCHES.values():
            command += ["--siamtrack", f"{variant}{suffix}={args.runs / variant / 'model.pth'}{suffix}"]
    status = siamtrack_main(command)
    if status != 0:
        return status

    summary = json.loads((args.report / "report.json").read_text())["summary"]
    rows = []
    for variant, overrides in VARIANTS.items():
        row = {"variant": variant, "overrides": BUDGET + overrides}
        for search, suffix in SCALE_SEARCHES.items():
            auc = summary[f"{variant}{suffix}"]["auc"]
            reference = summary[f"all-signals{suffix}"]["auc"]
            row[search] = {"auc": round(auc, 4), "vs_all_signals": round(auc / reference, 3)}
        rows.append(row)
    result = {"preset": args.preset, "holdout": list(config.holdout), "budget": BUDGET, "rows": rows}
    (args.report / "ablation.json").write_text(json.dumps(result, indent=2) + "\n")

    print()
    print("| variant | pyramid AUC | x all signals | single-pass AUC | x all signals |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        pyramid, single = row["pyramid"], row["single-pass"]
        print(f"| {row['variant']} | {pyramid['auc']:.3f} | {pyramid['vs_all_signals']:.2f}x "
              f"| {single['auc']:.3f} | {single['vs_all_signals']:.2f}x |")
    print(f"\nwritten: {args.report / 'ablation.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
