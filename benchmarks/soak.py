"""Soak test: many targets on a looping clip for a set time; memory must stay flat.

    python benchmarks/soak.py --minutes 30 [--targets 8] [--backend onnx]   # -> benchmarks/results/soak.json

A MultiTracker follows ``--targets`` boxes over a generated clip played in a loop; every
``--churn`` frames the oldest target is removed and a new one added (what a surveillance
pipeline does as objects come and go). The process's resident memory (RSS) is sampled every
``--sample`` seconds. After the warm-up (the first 10 % of the run, at least one minute), RSS may
grow by at most ``--allowed-growth`` MB; the exit code says whether it did (0 flat, 1 grew, 2 too
short to judge), and the JSON keeps every sample.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def rss_megabytes() -> float:
    """Resident set size of this process (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (this benchmark needs Linux)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--targets", type=int, default=8)
    parser.add_argument("--churn", type=int, default=50, help="frames between removing one target and adding one")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--allowed-growth", type=float, default=20.0, help="MB of RSS growth after warm-up")
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "soak.json")
    args = parser.parse_args()

    from siamtrack import MultiTracker
    from siamtrack.evaluation.report import machine_info, write_json
    from siamtrack.synthetic import ClipSpec, make_clip

    frames, truth = make_clip(ClipSpec(frames=120, width=640, height=360, seed=3))
    x, y, w, h = truth[0]
    boxes = [(min(max(x + dx, 0), 600 - w), min(max(y + dy, 0), 320 - h), w, h)
             for dx, dy in [(0, 0), (-150, -80), (150, 80), (-150, 80), (150, -80), (-250, 0), (250, 0), (0, -120),
                            (0, 120), (-60, 40)]]
    tracker = MultiTracker(backend=args.backend, device="cpu", threads=args.threads)
    live = [tracker.add(frames[0], boxes[i % len(boxes)]).target_id for i in range(args.targets)]
    duration = args.minutes * 60
    warm_up = max(60.0, duration * 0.1)
    began = next_sample = time.monotonic()
    samples: list[tuple[float, float, int]] = []  # (seconds, RSS MB, frames so far)
    processed = added = 0
    while True:
        now = time.monotonic()
        if now >= next_sample:
            samples.append((round(now - began, 1), round(rss_megabytes(), 2), processed))
            next_sample += args.sample
        if now - began >= duration:
            break
        frame = frames[processed % len(frames)]
        tracker.update(frame)
        processed += 1
        if processed % args.churn == 0:
            tracker.remove(live.pop(0))
            live.append(tracker.add(frame, boxes[added % len(boxes)]).target_id)
            added += 1
    settled = [rss for seconds, rss, _ in samples if seconds >= warm_up]
    if len(settled) < 2:
        print(f"soak: the run was too short to judge ({len(settled)} samples after the "
              f"{warm_up:.0f} s warm-up); run longer", file=sys.stderr)
        return 2
    growth = max(settled) - settled[0]
    flat = growth <= args.allowed_growth
    elapsed = time.monotonic() - began
    print(f"{processed} frames x {args.targets} targets in {elapsed / 60:.1f} min ({processed / elapsed:.1f} fps), "
          f"{added} targets replaced; RSS {samples[0][1]:.0f} MB at start, "
          f"{settled[0]:.1f} MB after warm-up, max {max(r for _, r, _ in samples):.1f} MB; "
          f"growth after warm-up {growth:+.1f} MB (allowed {args.allowed_growth:g}): {'flat' if flat else 'GREW'}")
    write_json(args.json, {"minutes": args.minutes, "targets": args.targets, "churn_frames": args.churn,
                           "backend": args.backend, "frames": processed, "targets_replaced": added,
                           "warm_up_seconds": warm_up, "growth_after_warm_up_mb": round(growth, 2),
                           "allowed_growth_mb": args.allowed_growth, "flat": flat,
                           "samples_seconds_rss_mb_frames": samples, "machine": machine_info(args.threads)})
    print(f"wrote {args.json}")
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
