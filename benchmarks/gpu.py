"""GPU pipeline: latency for one target, throughput against targets and streams, eager vs CUDA graphs.

    python benchmarks/gpu.py [--device cuda] [--frames 200]     # -> benchmarks/results/gpu.json
    python benchmarks/gpu.py --model runs/box/model.pth --json box.json   # another weights file (torch only)
    python benchmarks/gpu.py --table benchmarks/results/gpu*.json          # the README's table from results

Every variant runs the whole per-frame step (upload, crops, network, head, box update) on real
dev frames held in memory: the torch backend with the tensor pipeline, eagerly and replayed as a
CUDA graph, and TensorRT where it is installed. Latency is per ``update`` call (one target,
p50/p99); throughput is target-updates per second for 1..32 targets in one stream and for the
same targets split over several streams (one MultiTracker each).

The floor is what the hardware needs at the least: the network's multiply-adds at the GPU's
dense fp16 rate, and the bytes that must move (the frame over PCIe, weights and activations
through GPU memory), at its peak bandwidths. Peak figures come from the vendor data sheets in
``PEAKS`` (pass --peak-tflops/--peak-gbps for another GPU).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEQUENCE = "Crossing"
# name fragment -> (dense fp16 TFLOP/s, memory GB/s, host-to-device GB/s): vendor data sheets.
PEAKS = {"H200": (989.0, 4800.0, 55.0), "H100 PCIe": (756.0, 2000.0, 55.0), "H100": (989.0, 3350.0, 55.0),
         "A100": (312.0, 2039.0, 25.0)}


def network_cost(weights_path: Path, crops: int) -> dict[str, float]:
    """Multiply-adds and bytes of one search pass over ``crops`` crops (conv and linear layers)."""
    from siamtrack.export.onnx_export import inference_network
    from siamtrack.model.weights import load_weights
    from siamtrack.network.cost import search_cost

    cost = search_cost(inference_network(load_weights(weights_path)))  # per crop; fp16: 2 bytes a value
    return {"macs": float(cost.backbone_macs * crops), "activation_bytes": float(cost.activation_values * crops * 2),
            "weight_bytes": float(cost.parameters * 2)}


def floor_ms(cost: dict[str, float], frame_bytes: int, peaks: tuple[float, float, float]) -> dict[str, float]:
    tflops, memory_gbps, upload_gbps = peaks
    compute = 2 * cost["macs"] / (tflops * 1e12) * 1e3
    memory = (cost["weight_bytes"] + 2 * cost["activation_bytes"]) / (memory_gbps * 1e9) * 1e3  # write + read
    upload = frame_bytes / (upload_gbps * 1e9) * 1e3
    return {"compute_ms": compute, "memory_ms": memory, "upload_ms": upload,
            "floor_ms": max(compute, memory) + upload}


def near(box: tuple, index: int) -> tuple:
    """Target ``index`` of many on one object: shifted by 3 px steps on an 8-wide grid (inside the frame)."""
    return (box[0] + (index % 8) * 3.0, box[1] + (index // 8) * 3.0, box[2], box[3])


def time_updates(trackers, frames, rounds: int) -> np.ndarray:
    """Per-round latencies (ms) of updating every tracker on the next frame."""
    import torch

    latencies = []
    for index in range(rounds):
        frame = frames[1 + index % (len(frames) - 1)]
        began = time.perf_counter()
        for tracker in trackers:
            tracker.update(frame)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        latencies.append((time.perf_counter() - began) * 1000.0)
    return np.asarray(latencies)


def table(paths: list[Path]) -> str:
    """A Markdown table of earlier results: one row per file and variant."""
    import json

    rows: list[str] = []
    counts: list[str] = []
    for path in paths:
        run = json.loads(path.read_text())
        for label, latency in run["results"]["latency_one_target"].items():
            rates = run["results"]["throughput_targets"][label]
            counts = counts or list(rates)
            rows.append(f"| {run['model']}, {run.get('config', 'default')} | {label} | {latency['p50_ms']:.2f} | "
                        + " | ".join(f"{rates[c]['target_updates_per_s']:,.0f}" for c in rates) + " |")
    header = "| model, config | backend | 1 target, ms (p50) | " + " | ".join(
        f"{c} target{'s' if c != '1' else ''}, updates/s" for c in counts) + " |"
    return "\n".join([header, "|---|---|" + "---:|" * (1 + len(counts))] + rows)


def measured_variants(default_model: bool) -> dict[str, dict]:
    """The pipelines measured here: torch eager and CUDA graphs; TensorRT where it is installed
    (it reads the default model's ONNX export)."""
    variants = {"torch eager": dict(backend="torch", graphs=False),
                "torch cuda-graph": dict(backend="torch", graphs=True)}
    try:
        import tensorrt  # noqa: F401

        if default_model:
            variants["tensorrt cuda-graph"] = dict(backend="tensorrt", graphs=True)
    except ImportError:
        print("TensorRT is not installed: its rows are left out", file=sys.stderr)
    return variants


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", type=Path, help="a weights file instead of the default model (torch rows only: "
                                                   "TensorRT reads the default model's ONNX export)")
    parser.add_argument("--config", default=None, help="tracker preset (default: the tracker's own, SiamFC-3s)")
    parser.add_argument("--frames", type=int, default=200, help="timed rounds per measurement")
    parser.add_argument("--targets", default="1,8,32,128")
    parser.add_argument("--streams", default="1,2,4")
    parser.add_argument("--table", nargs="+", type=Path, help="print the Markdown table of these result files")
    parser.add_argument("--peak-tflops", type=float)
    parser.add_argument("--peak-gbps", type=float)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "gpu.json")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return 0
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    import torch

    from siamtrack import MultiTracker
    from siamtrack.backends import create_backend
    from siamtrack.datasets import load_dataset
    from siamtrack.errors import SiamtrackError
    from siamtrack.evaluation.ope import read_frames
    from siamtrack.evaluation.report import machine_info, write_json
    from siamtrack.model.builtin import default_model_path

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: this benchmark needs a GPU (use --device cpu only to check the script)",
              file=sys.stderr)
        return 2
    sequence = next(s for s in load_dataset(SHARED / "data" / "dev") if s.name == SEQUENCE)
    frames = read_frames(sequence)[:60]
    box = tuple(sequence.boxes[0])
    height, width = frames[0].shape[:2]
    gpu = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "cpu"
    weights = args.model or default_model_path("weights")

    variants = measured_variants(args.model is None)

    def build(variant: dict, backend_object=None) -> MultiTracker:
        model = weights if variant["backend"] == "torch" else default_model_path("onnx")
        graphs = variant["graphs"]
        if backend_object is not None:
            return MultiTracker(backend=backend_object, pipeline="tensor", cuda_graphs=graphs, config=args.config)
        return MultiTracker(model=model, backend=variant["backend"], device=args.device, pipeline="tensor",
                            config=args.config, cuda_graphs=graphs)

    results: dict = {"latency_one_target": {}, "throughput_targets": {}, "throughput_streams": {}}
    target_counts = [int(v) for v in args.targets.split(",")]
    for label, variant in variants.items():
        try:
            tracker = build(variant)
        except SiamtrackError as exc:
            print(f"skipping {label}: {exc}", file=sys.stderr)
            continue
        tracker.add(frames[0], box)
        time_updates([tracker], frames, 20)  # warm-up, graph capture
        latencies = time_updates([tracker], frames, args.frames)
        results["latency_one_target"][label] = {"p50_ms": float(np.percentile(latencies, 50)),
                                                "p99_ms": float(np.percentile(latencies, 99))}
        print(f"{label:22s} 1 target: p50 {np.percentile(latencies, 50):.3f} ms  "
              f"p99 {np.percentile(latencies, 99):.3f} ms")
        rows = {}
        for count in target_counts:
            tracker.clear()
            for index in range(count):
                tracker.add(frames[0], near(box, index))
            time_updates([tracker], frames, 10)
            latencies = time_updates([tracker], frames, args.frames // 2)
            rows[count] = {"median_ms": float(np.median(latencies)),
                           "target_updates_per_s": float(count * 1000.0 / np.median(latencies))}
            print(f"{label:22s} {count:3d} targets: {rows[count]['median_ms']:.3f} ms/frame, "
                  f"{rows[count]['target_updates_per_s']:.0f} target-updates/s")
        results["throughput_targets"][label] = rows
        model = weights if variant["backend"] == "torch" else default_model_path("onnx")
        shared = create_backend(str(variant["backend"]), model, device=args.device)
        stream_rows = {}
        for streams in [int(v) for v in args.streams.split(",")]:
            trackers = [build(variant, shared) for _ in range(streams)]
            per_stream = max(target_counts) // streams
            for tracker in trackers:
                for index in range(per_stream):
                    tracker.add(frames[0], near(box, index))
            time_updates(trackers, frames, 10)
            latencies = time_updates(trackers, frames, args.frames // 2)
            median = float(np.median(latencies))
            stream_rows[streams] = {"targets_per_stream": per_stream, "median_ms_per_round": median,
                                    "target_updates_per_s": streams * per_stream * 1000.0 / median}
            rate = stream_rows[streams]["target_updates_per_s"]
            print(f"{label:22s} {streams} streams x {per_stream} targets: {rate:.0f} target-updates/s")
        results["throughput_streams"][label] = stream_rows

    peaks = next((v for k, v in PEAKS.items() if k in gpu), None)
    if args.peak_tflops and args.peak_gbps:
        peaks = (args.peak_tflops, args.peak_gbps, 25.0)
    floors = {}
    if peaks is not None:
        for count in (1, 32):
            cost = network_cost(weights, count)  # single-pass step: one search crop per target
            floors[count] = {**cost, **floor_ms(cost, width * height * 3, peaks)}
            print(f"floor for {count} target(s): {floors[count]['floor_ms']:.4f} ms "
                  f"(compute {floors[count]['compute_ms']:.4f}, memory {floors[count]['memory_ms']:.4f}, "
                  f"upload {floors[count]['upload_ms']:.4f})")
    write_json(args.json, {"command": "python " + " ".join(sys.argv), "device": gpu, "model": weights.name,
                           "config": args.config or "default", "sequence": SEQUENCE,
                           "frame_size": [width, height], "results": results, "floor": floors,
                           "peaks_used": peaks, "machine": machine_info(torch.get_num_threads())})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
