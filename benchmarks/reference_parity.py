"""siamtrack's Tracker against the literal reference SiamFC loop on the dev sequences.

Both run the same network (default: the published SiamFC-3s AlexNet from ../shared) on the same
decoded frames, one pass per sequence from the first annotated frame. Prints a table of success
AUC (21 IoU thresholds, OTB definition) and precision@20px per sequence and writes JSON.

    python benchmarks/reference_parity.py                       # all of ../shared/data/dev
    python benchmarks/reference_parity.py --sequences Biker,car1 --max-frames 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from siamtrack import Tracker, TrackerConfig
from siamtrack.backends import create_backend
from siamtrack.datasets.otb import list_sequences, load_sequence
from siamtrack.evaluation.ope import mean_auc, read_frames, run_sequence
from siamtrack.evaluation.reference import ReferenceSiamFC
from siamtrack.evaluation.report import machine_info, write_json
from siamtrack.files import sha256_of
from siamtrack.model.weights import load_weights

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def compare(data: Path, weights_path: Path, names: list[str] | None, max_frames: int | None,
            threads: int, config: TrackerConfig) -> dict:
    weights = load_weights(weights_path)
    ours = Tracker(model=weights, device="cpu", threads=threads, config=config)
    reference = ReferenceSiamFC(create_backend("torch", weights, device="cpu", threads=threads), config)
    folders = list_sequences(data)
    if names:
        missing = sorted(set(names) - {f.name for f in folders})
        if missing:
            raise SystemExit(f"no such sequence(s) in {data}: {', '.join(missing)}")
        folders = [f for f in folders if f.name in names]
    rows, ours_runs, reference_runs = [], [], []
    for folder in folders:
        sequence = load_sequence(folder)
        frames = read_frames(sequence)
        a = run_sequence(ours, sequence, frames, max_frames)
        b = run_sequence(reference, sequence, frames, max_frames)
        ours_runs.append(a)
        reference_runs.append(b)
        rows.append({"sequence": sequence.name, "frames": len(a.boxes),
                     "auc_siamtrack": a.auc, "auc_reference": b.auc,
                     "precision20_siamtrack": a.precision, "precision20_reference": b.precision,
                     "fps_siamtrack": a.fps, "fps_reference": b.fps})
        print(f"{sequence.name:15s} {len(a.boxes):6d} {a.auc:9.3f} {b.auc:9.3f} {a.auc - b.auc:+7.3f}"
              f" {a.precision:8.3f} {b.precision:8.3f} {a.fps:7.1f} {b.fps:7.1f}", flush=True)
    summary = {"mean_auc_siamtrack": mean_auc(ours_runs), "mean_auc_reference": mean_auc(reference_runs)}
    summary["difference"] = summary["mean_auc_siamtrack"] - summary["mean_auc_reference"]
    summary["mean_fps_siamtrack"] = float(np.mean([r["fps_siamtrack"] for r in rows]))
    summary["mean_fps_reference"] = float(np.mean([r["fps_reference"] for r in rows]))
    return {"sequences": rows, "summary": summary, "weights": str(weights_path),
            "weights_sha256": sha256_of(weights_path), "config": config.to_dict()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED / "data" / "dev")
    parser.add_argument("--weights", type=Path,
                        default=SHARED / "weights" / "siamfc_reference" / "siamfc_alexnet_original_bnfolded.pth")
    parser.add_argument("--sequences", help="comma-separated names (default: all)")
    parser.add_argument("--max-frames", type=int, help="frames per sequence (default: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--config", default="siamfc-3s", help="preset name or JSON file")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "reference_parity.json")
    args = parser.parse_args()
    from siamtrack.config import load_config

    print(f"{'sequence':15s} {'frames':>6s} {'AUC ours':>9s} {'AUC ref':>9s} {'diff':>7s}"
          f" {'P20 ours':>8s} {'P20 ref':>8s} {'fps ours':>7s} {'fps ref':>7s}")
    began = time.time()
    result = compare(args.data, args.weights, args.sequences.split(",") if args.sequences else None,
                     args.max_frames, args.threads, load_config(args.config))
    summary = result["summary"]
    print(f"{'mean':15s} {'':6s} {summary['mean_auc_siamtrack']:9.3f} {summary['mean_auc_reference']:9.3f}"
          f" {summary['difference']:+7.3f}")
    result["command"] = " ".join(["python"] + sys.argv)
    result["machine"] = machine_info(args.threads)
    result["wall_seconds"] = round(time.time() - began, 1)
    write_json(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
