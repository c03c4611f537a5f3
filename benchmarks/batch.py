"""Throughput of ``siamtrack batch`` on an archive of recorded sequences, against a shell loop.

    python benchmarks/batch.py [--frames 150] [--sequences 12] [--no-ray]

The archive is the first ``--sequences`` dev sequences (image folders), each job tracking its
ground-truth target from frame 0 for ``--frames`` frames. Engines, timed end to end as a user
runs them (process start, model loads, every job, summaries):

* ``shell loop``: one ``siamtrack track`` per job, one after another (the peer: what people write
  without ``batch``);
* ``batch, N workers``: the local pool with 1 and 2 worker processes (one thread per job);
* ``batch, Ray local``: one Ray task per job on a Ray instance started by the command (2 CPUs).

Reports jobs/s, frames/s, the ratio to the shell loop, and Ray's overhead per job against the
local pool with as many workers. Writes benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def timed(command: list[str]) -> float:
    began = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=3600)
    return time.monotonic() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED / "data" / "dev")
    parser.add_argument("--frames", type=int, default=150, help="frames per job")
    parser.add_argument("--sequences", type=int, default=12, help="jobs (dev sequences, in name order)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray engine")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "batch.json")
    args = parser.parse_args()

    from siamtrack.datasets import load_dataset
    from siamtrack.evaluation.report import machine_info, write_json

    sequences = sorted(load_dataset(args.data), key=lambda s: s.name)[:args.sequences]
    siamtrack = [sys.executable, "-m", "siamtrack.cli"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="siamtrack-batch-bench-") as scratch:
        work = Path(scratch)
        jobs_file = work / "jobs.csv"
        # A sequence may start part way into its image folder (OTB's David starts at image 300).
        starts = {s.name: sorted(p.name for p in s.frames[0].parent.iterdir()).index(s.frames[0].name)
                  for s in sequences}
        boxes = {s.name: ",".join(f"{v:.1f}" for v in s.boxes[0]) for s in sequences}
        with jobs_file.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "source", "box", "start", "end"])
            for s in sequences:
                writer.writerow([s.name, str(s.frames[0].parent), boxes[s.name], starts[s.name],
                                 starts[s.name] + args.frames])
        frames = sum(min(args.frames, len(s.frames)) for s in sequences)

        def shell_loop() -> list[str]:
            script = work / "loop.sh"
            lines = [" ".join([*siamtrack, "track", f"'{s.frames[0].parent}'", f"--box={boxes[s.name]}",
                               "--start", str(starts[s.name]), "--end", str(starts[s.name] + args.frames),
                               "--threads", "1", "--quiet", "--results", str(work / f"loop-{s.name}.jsonl")])
                     for s in sequences]
            script.write_text("set -e\n" + "\n".join(lines) + "\n")
            return ["bash", str(script)]

        engines = [("shell loop (siamtrack track per job)", shell_loop())]
        for workers in (1, 2):
            engines.append((f"batch, {workers} worker(s)", [*siamtrack, "batch", str(jobs_file), "--output",
                                                             str(work / f"out-{workers}"), "--workers", str(workers),
                                                             "--quiet"]))
        if not args.no_ray and importlib.util.find_spec("ray") is not None:
            engines.append(("batch, Ray local (2 CPUs)", [*siamtrack, "batch", str(jobs_file), "--output",
                                                          str(work / "out-ray"), "--ray", "local", "--workers",
                                                          "2", "--quiet"]))
        for name, command in engines:
            seconds = timed(command)
            rows.append({"engine": name, "seconds": round(seconds, 2), "jobs_per_second": len(sequences) / seconds,
                         "frames_per_second": frames / seconds})
            print(f"{name:<40s} {seconds:7.1f} s", file=sys.stderr)

    base = rows[0]["seconds"]
    local = {row["engine"]: row["seconds"] for row in rows}
    ray_row = next((row for row in rows if "Ray" in row["engine"]), None)
    ray_overhead = ((ray_row["seconds"] - local["batch, 2 worker(s)"]) / len(sequences)) if ray_row else None
    print(f"\n{len(sequences)} jobs x {args.frames} frames ({frames} frames) from {args.data}\n")
    print("| engine | seconds | jobs/s | frames/s | vs shell loop |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        row["speedup_vs_shell_loop"] = base / row["seconds"]
        print(f"| {row['engine']} | {row['seconds']:.1f} | {row['jobs_per_second']:.2f} | "
              f"{row['frames_per_second']:.0f} | {row['speedup_vs_shell_loop']:.2f}x |")
    if ray_overhead is not None:
        print(f"\nRay's overhead against the 2-worker local pool: {ray_overhead:+.2f} s per job")
    write_json(args.json, {"jobs": len(sequences), "frames_per_job": args.frames, "frames": frames,
                           "rows": rows, "ray_overhead_seconds_per_job": ray_overhead,
                           "machine": machine_info(1)})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
