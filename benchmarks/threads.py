"""Thread settings on an idle and on a busy CPU: which defaults degrade gracefully?

    python benchmarks/threads.py [--frames 150] [--loads 0,1,2]

Each variant (backend, thread count, idle threads spinning or not) tracks the built-in demo clip
in its own process, so process-wide settings (torch's thread pool, OpenMP's wait policy) cannot
leak between variants. A load of N starts N processes that keep one core busy each (a pure
Python loop), as other work on a shared machine would, for as long as the variant runs. fps is
frames over the time of ``update`` calls; the ratio column divides each variant's fps by its
backend's own framework defaults (ONNX Runtime: idle threads spin; torch: OpenMP's default
wait policy, which spins before sleeping) measured under the same load in the same run. siamtrack's
defaults were chosen from this table: no spinning for ONNX Runtime, ``OMP_WAIT_POLICY=PASSIVE``
for torch (set by the ``siamtrack`` command).
Writes benchmarks/results/threads.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# label -> (backend, threads or None for every core, idle threads spin?)
VARIANTS = {
    "onnx, all cores, spinning": ("onnx", None, True),
    "onnx, all cores, no spinning": ("onnx", None, False),
    "onnx, 1 thread": ("onnx", 1, False),
    "torch, all cores, OpenMP default wait": ("torch", None, True),
    "torch, all cores, passive wait": ("torch", None, False),
    "torch, 1 thread": ("torch", 1, True),
}
# Each backend's framework defaults, the base of the ratio column.
BASES = {"onnx": "onnx, all cores, spinning", "torch": "torch, all cores, OpenMP default wait"}


def busy() -> None:
    while True:
        pass


def measure(backend_name: str, threads: int | None, spin: bool, frames: int) -> dict:
    """Runs in the variant's own process: fps and CPU seconds of ``frames`` updates on the demo clip."""
    from siamtrack import Tracker
    from siamtrack.app.demo import DEMO_CLIP
    from siamtrack.app.synthetic import make_clip
    from siamtrack.backends import create_backend

    options = {"spin_threads": spin} if backend_name == "onnx" else {"cpu_graph": "auto"}
    device = "cpu"
    backend = create_backend(backend_name, device=device, threads=threads, **options)
    tracker = Tracker(backend=backend)
    images, truth = make_clip(DEMO_CLIP)
    tracker.init(images[0], tuple(truth[0]))
    for image in images[1:6]:  # warm-up
        tracker.update(image)
    tracker.init(images[0], tuple(truth[0]))
    clip = [images[1 + i % (len(images) - 1)] for i in range(frames)]
    cpu_began, began = time.process_time(), time.perf_counter()
    for image in clip:
        tracker.update(image)
    seconds = time.perf_counter() - began
    return {"fps": frames / seconds, "cpu_seconds_per_frame": (time.process_time() - cpu_began) / frames}


def run_variant(label: str, frames: int) -> dict:
    backend, threads, spin = VARIANTS[label]
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if backend == "torch" and not spin:
        env["OMP_WAIT_POLICY"] = "PASSIVE"  # OpenMP threads sleep instead of spinning between calls
    result = subprocess.run([sys.executable, __file__, "--variant", label, "--frames", str(frames)],
                            capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"{label}: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--loads", default="0,1,2", help="busy processes to run beside the tracker, per pass")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "threads.json")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # internal: measure one variant, print JSON
    args = parser.parse_args()
    if args.variant:
        backend, threads, spin = VARIANTS[args.variant]
        print(json.dumps(measure(backend, threads, spin, args.frames)))
        return 0

    from siamtrack.evaluation.report import machine_info, write_json

    loads = [int(v) for v in args.loads.split(",")]
    rows: dict[str, dict[str, dict]] = {}
    for load in loads:
        hogs = [multiprocessing.Process(target=busy, daemon=True) for _ in range(load)]
        for hog in hogs:
            hog.start()
        try:
            for label in VARIANTS:
                rows.setdefault(label, {})[str(load)] = run_variant(label, args.frames)
                print(f"load {load}: {label:40s} {rows[label][str(load)]['fps']:7.1f} fps", file=sys.stderr,
                      flush=True)
        finally:
            for hog in hogs:
                hog.terminate()
    for label, (backend, _, _) in VARIANTS.items():
        for load, row in rows[label].items():
            row["ratio_to_base"] = row["fps"] / rows[BASES[backend]][load]["fps"]
    header = "".join(f"{f'load {load} fps':>13s}{'x base':>8s}{'cpu ms':>8s}" for load in loads)
    print(f"\n{'variant':40s}{header}")
    for label, by_load in rows.items():
        cells = "".join(f"{by_load[str(load)]['fps']:13.1f}{by_load[str(load)]['ratio_to_base']:8.2f}"
                        f"{1000 * by_load[str(load)]['cpu_seconds_per_frame']:8.1f}" for load in loads)
        print(f"{label:40s}{cells}")
    write_json(args.json, {"command": "python " + " ".join(sys.argv), "frames": args.frames, "loads": loads,
                           "clip": "siamtrack.app.demo.DEMO_CLIP", "variants": rows, "bases": BASES,
                           "machine": machine_info(os.cpu_count() or 1)})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
