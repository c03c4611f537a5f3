"""Model selection on held-out training sequences: tracking accuracy of candidate networks.

    python benchmarks/model_selection.py runs/default-v2/epochs/*.pth weights/siamtrack-default.pth \
        [--configs single-pass]
        # -> benchmarks/results/model_selection/report.md

The sequences are the ``holdout`` of the training preset (default ``lite0``): kept out of training,
never ``dev/``, so choosing a model here does not tune it to the dev numbers. Every candidate runs
through the default tracker (``Tracker()`` settings), PyTorch backend, 2 threads, on the same
decoded frames, as ``siamtrack eval`` does.

With ``--baseline NAME`` (a candidate's name, e.g. the current default ``siamtrack-default``), each
other candidate's per-sequence AUC differences to it are bootstrapped over the sequences
(:mod:`siamtrack.evaluation.compare`) and written as a table to ``selection.md`` and
``selection.json`` beside the report: a candidate replaces the default only when its interval's
lower end is above 0.
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
    parser.add_argument("--baseline", help="candidate name to compare every other one with (bootstrap over sequences)")
    parser.add_argument("--baseline-report", type=Path,
                        help="an earlier report of this script on the same preset holding the baseline's run (tracking "
                             "is deterministic: its per-sequence AUCs are reused instead of tracking it again)")
    parser.add_argument("--backend", default="torch", help="backend every candidate runs on (default: torch)")
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
               "--report", args.report, "--threads", str(args.threads), "--quiet", "--backend", args.backend,
               "--title", f"model selection on the held-out sequences of preset {args.preset}"]
    if args.baseline and args.baseline not in names and args.baseline_report is None:
        print(f"model_selection: --baseline {args.baseline} is none of the candidates ({', '.join(names)})",
              file=sys.stderr)
        return 2
    for name, path, config_suffix in runs:
        command += ["--siamtrack", f"{name}={path}{config_suffix}"]
    code = siamtrack_main(command)
    if code == 0 and args.baseline:
        compare_with_baseline(Path(args.report), names, args.baseline, args.baseline_report)
    return code


def compare_with_baseline(report: Path, names: list[str], baseline: str, earlier: Path | None = None) -> None:
    """Per candidate: mean AUC difference to the baseline, its 95 % bootstrap interval, sequences won."""
    from siamtrack.evaluation.compare import bootstrap_difference

    sequences = json.loads((report / "report.json").read_text())["sequences"]
    if earlier is not None:
        sequences += [row for row in json.loads((earlier / "report.json").read_text())["sequences"]
                      if row["tracker"] == baseline]
    auc: dict[str, dict[str, float]] = {}
    for row in sequences:
        if row.get("error") is None:
            auc.setdefault(row["tracker"], {})[row["sequence"]] = row["auc"]
    rows = []
    for name in names:
        if name == baseline or name not in auc:
            continue
        difference = bootstrap_difference(auc[name], auc[baseline])
        rows.append({"candidate": name, "baseline": baseline, "mean_difference": difference.mean,
                     "low": difference.low, "high": difference.high, "sequences": difference.sequences,
                     "better_on": difference.better, "replaces_baseline": difference.significant})
    lines = [f"# Against {baseline}: mean per-sequence AUC difference, 95 % bootstrap interval over sequences", "",
             "| candidate | difference | interval | better on | replaces the baseline |", "|---|---:|---|---:|---|"]
    lines += [f"| {r['candidate']} | {r['mean_difference']:+.3f} | [{r['low']:+.3f}, {r['high']:+.3f}] | "
              f"{r['better_on']} of {r['sequences']} | {'yes' if r['replaces_baseline'] else 'no'} |" for r in rows]
    (report / "selection.md").write_text("\n".join(lines) + "\n")
    (report / "selection.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
