"""Tracking speed of every tracker and siamtrack backend in one run, with ratios to NanoTrack.

    python benchmarks/speed.py [--threads 2] [--frames 150] [--model WEIGHTS_OR_EXPORT ...]

All trackers run on the same frames, decoded into memory beforehand, with the same thread count.
Per-frame latency (update only) gives p50 / p90 / p99 and fps; the ratio column divides each
tracker's fps by NanoTrack's measured in the same run, since this machine is shared and noisy.
The default model (v5) reads NanoTrack's layout from one search crop per frame; model v4 (the
default before it, a SiamFC response model) runs with its scale searches for comparison: ``pyramid``
(SiamFC's three search crops, its default) and ``single`` (one search crop per frame, preset
``single-pass``). For ``Tracker()`` and v4's pyramid on ONNX Runtime it also splits an update into
crop, network and head (median ms each, from ``MultiTracker.stage_times``; "other" is the rest of
the update).
Writes benchmarks/results/speed.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEQUENCES = ("car1", "Biker", "boat1")  # three sequences with targets of different sizes
DEFAULT_TRACKER = "siamtrack onnx, default model (Tracker())"
V4_PYRAMID = "siamtrack onnx, model v4, pyramid"
# label -> (model, config) of the rows whose update is split into stages
STAGED = {DEFAULT_TRACKER: (None, None), V4_PYRAMID: ("v4", None)}


def measure(tracker, sequences, frames_per_sequence: int) -> np.ndarray:
    """Per-update latencies in ms over the given sequences (after one warm-up sequence pass)."""
    latencies = []
    for sequence, frames in sequences:
        tracker.init(frames[0], tuple(sequence.boxes[0]))
        for frame in frames[1:frames_per_sequence]:
            began = time.perf_counter()
            tracker.update(frame)
            latencies.append((time.perf_counter() - began) * 1000.0)
    return np.asarray(latencies)


def stage_breakdown(tracker, sequences, frames_per_sequence: int) -> dict[str, float]:
    """Median ms per frame of each step of a single-target update: crop, network, head, other.

    The stages are the tracker's own record of its last update (``MultiTracker.stage_times``);
    ``other`` is the measured update time minus the three.
    """
    timings: dict[str, list[float]] = {"crop": [], "network": [], "head": [], "other": []}
    for sequence, frames in sequences:
        tracker.init(frames[0], tuple(sequence.boxes[0]))
        for frame in frames[1:frames_per_sequence]:
            began = time.perf_counter()
            tracker.update(frame)
            total = (time.perf_counter() - began) * 1000.0
            stages = tracker.multi_tracker.stage_times
            for key, value in (("crop", stages.crop), ("network", stages.network), ("head", stages.head),
                               ("other", total - stages.crop - stages.network - stages.head)):
                timings[key].append(value)
    return {key: float(np.median(values)) for key, values in timings.items()}


def exported(weights: Path, folder: Path) -> Path:
    """``weights`` exported to ONNX in ``folder`` (what the ONNX backend reads)."""
    from siamtrack.export.onnx_export import export_onnx

    export_onnx(weights, folder)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=150, help="frames per sequence")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "speed.json")
    parser.add_argument("--model", type=Path, action="append", default=[],
                        help="also time this weights file (exported to ONNX in a temporary folder) or export "
                             "folder through ONNX Runtime, pyramid and single pass; repeatable")
    args = parser.parse_args()
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

    from siamtrack import Tracker
    from siamtrack.datasets import load_dataset
    from siamtrack.errors import WeightsError
    from siamtrack.evaluation.entries import pin_threads
    from siamtrack.evaluation.ope import read_frames
    from siamtrack.evaluation.peers import PEER_NAMES, PeerUnavailable, create_peer
    from siamtrack.evaluation.report import machine_info, write_json
    from siamtrack.model.builtin import available_formats, default_model_path

    pin_threads(args.threads)
    scratch = Path(tempfile.mkdtemp(prefix="siamtrack-speed-"))
    dev = {s.name: s for s in load_dataset(SHARED / "data" / "dev")}
    sequences = [(dev[name], read_frames(dev[name])[:args.frames]) for name in SEQUENCES]
    published = SHARED / "weights" / "siamfc_reference" / "siamfc_alexnet_original_bnfolded.pth"
    candidates = {}
    try:
        default = default_model_path()
        candidates[DEFAULT_TRACKER] = lambda: Tracker(backend="onnx", threads=args.threads)
        candidates["siamtrack torch, default model"] = lambda: Tracker(model=default, backend="torch", device="cpu")
    except WeightsError as missing:
        print(f"note: {missing}", file=sys.stderr)
    if "onnx" in available_formats("v4"):
        candidates[V4_PYRAMID] = lambda: Tracker(model="v4", backend="onnx", threads=args.threads)
        candidates["siamtrack onnx, model v4, single"] = lambda: Tracker(model="v4", backend="onnx",
                                                                         threads=args.threads, config="single-pass")
    for search, config in (("pyramid", None), ("single", "single-pass")):
        candidates[f"siamtrack torch, published SiamFC AlexNet, {search}"] = (
            lambda config=config: Tracker(model=published, backend="torch", device="cpu", config=config))
    for index, model in enumerate(args.model):
        folder = model if model.is_dir() else exported(model, scratch / str(index))
        for search, config in (("pyramid", None), ("single", "single-pass")):
            candidates[f"siamtrack onnx, {model}, {search}"] = (
                lambda folder=folder, config=config: Tracker(model=folder, backend="onnx", threads=args.threads,
                                                             config=config))
    for name in PEER_NAMES:
        candidates[f"opencv {name}"] = (lambda name=name: create_peer(name, SHARED / "weights"))

    rows = {}
    for label, build in candidates.items():
        try:
            tracker = build()
        except PeerUnavailable as exc:
            print(f"skipping {label}: {exc}", file=sys.stderr)
            continue
        measure(tracker, sequences[:1], 10)  # warm-up: first-call allocations, lazy init
        latencies = measure(tracker, sequences, args.frames)
        rows[label] = {"fps": float(1000.0 * len(latencies) / latencies.sum()),
                       "p50_ms": float(np.percentile(latencies, 50)), "p90_ms": float(np.percentile(latencies, 90)),
                       "p99_ms": float(np.percentile(latencies, 99)), "frames": int(len(latencies))}
        print(f"{label:50s} {rows[label]['fps']:8.1f} fps", file=sys.stderr, flush=True)
    nano = rows.get("opencv nano", {}).get("fps")
    print(f"\n{'tracker':50s} {'fps':>8s} {'p50 ms':>8s} {'p90 ms':>8s} {'p99 ms':>8s} {'x nano':>7s}")
    for label, row in rows.items():
        row["ratio_to_nano"] = row["fps"] / nano if nano else None
        ratio = f"{row['ratio_to_nano']:7.3f}" if nano else "      -"
        print(f"{label:50s} {row['fps']:8.1f} {row['p50_ms']:8.2f} {row['p90_ms']:8.2f} {row['p99_ms']:8.2f} {ratio}")
    stages = {}
    for label, (model, config) in STAGED.items():
        if label not in rows:
            continue
        stages[label] = stage_breakdown(Tracker(model=model, backend="onnx", threads=args.threads, config=config),
                                        sequences, args.frames)
        print(f"\n{label}: where an update's time goes (median ms per frame)")
        for stage, value in stages[label].items():
            print(f"  {stage:10s} {value:6.2f}")
    write_json(args.json, {"command": "python " + " ".join(sys.argv), "sequences": list(SEQUENCES),
                            "frames_per_sequence": args.frames, "trackers": rows,
                            "onnx_stages_ms": stages, "machine": machine_info(args.threads)})
    print(f"wrote {args.json}")
    shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
