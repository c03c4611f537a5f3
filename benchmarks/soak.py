"""Soak tests: many targets for a set time; memory (and, on a stream, file descriptors) must stay flat.

    python benchmarks/soak.py --minutes 30 [--targets 8] [--backend onnx]   # -> benchmarks/results/soak.json
    python benchmarks/soak.py --stream --minutes 30 [--restart-every 180]   # -> benchmarks/results/soak_stream.json

Clip mode: a MultiTracker follows ``--targets`` boxes over a generated clip played in a loop;
every ``--churn`` frames the oldest target is removed and a new one added (what a surveillance
pipeline does as objects come and go).

Stream mode (``--stream``): the same over a real RTSP camera, GStreamer's RTSP server on
127.0.0.1 (``tests/rtsp_server.py``, run with the system's Python; needs Debian's
``gir1.2-gst-rtsp-server-1.0``, ``python3-gi`` and GStreamer's good and ugly plugins), which this
script kills and restarts every ``--restart-every`` seconds (down for ``--down`` seconds, as a
camera that reboots); the tracker reads it with ``siamtrack``'s live source over TCP, which must
reconnect every time. Every reconnect is logged by the source and counted here.

The process's resident memory (RSS) and open file descriptors are sampled every ``--sample``
seconds. After the warm-up (the first 10 % of the run, at least one minute), RSS may grow by at
most ``--allowed-growth`` MB and descriptors by none; the exit code says whether they did (0 flat,
1 grew or a restart was not reconnected, 2 too short to judge), and the JSON keeps every sample.
"""

from __future__ import annotations

import argparse
import subprocess
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


def open_descriptors() -> int:
    """File descriptors this process holds (Linux /proc)."""
    return len(list(Path("/proc/self/fd").iterdir()))


class Camera:
    """The test suite's RTSP server as a child process (see the module docstring)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"rtsp://127.0.0.1:{port}/stream"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["/usr/bin/python3", str(REPO / "tests" / "rtsp_server.py"), str(self.port)],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("soak: the RTSP server did not start (is GStreamer's RTSP server installed?)")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def judge(samples: list[tuple], warm_up: float, allowed_growth: float) -> tuple[float, int, bool] | None:
    """(RSS growth MB, descriptor growth, flat?) after the warm-up; None when too few samples."""
    settled = [sample for sample in samples if sample[0] >= warm_up]
    if len(settled) < 2:
        return None
    growth = max(sample[1] for sample in settled) - settled[0][1]
    descriptors = max(sample[3] for sample in settled) - settled[0][3]
    return growth, descriptors, growth <= allowed_growth and descriptors <= 0


def stream_soak(args: argparse.Namespace) -> int:
    import logging
    import socket

    from siamtrack import MultiTracker
    from siamtrack.evaluation.report import machine_info, write_json
    from siamtrack.io.sources import SourceOptions, open_source

    logging.basicConfig(format="%(asctime)s %(message)s", level=logging.WARNING)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    camera = Camera(port)
    camera.start()
    tracker = MultiTracker(backend=args.backend, device="cpu", threads=args.threads)
    boxes = [(40 + 60 * (i % 4), 40 + 80 * (i // 4), 40, 40) for i in range(args.targets)]
    duration = args.minutes * 60
    warm_up = max(60.0, duration * 0.1)
    samples: list[tuple[float, float, int, int]] = []  # (seconds, RSS MB, frames so far, descriptors)
    restarts, processed = [], 0
    options = SourceOptions(reconnect_timeout=args.down + 20, rtsp_transport="tcp")
    began = next_sample = time.monotonic()
    next_restart = began + args.restart_every
    try:
        with open_source(camera.url, options) as source:
            for frame in source:
                now = time.monotonic()
                if not len(tracker):
                    for box in boxes:
                        tracker.add(frame.image, box)
                else:
                    tracker.update(frame.image)
                processed += 1
                if now >= next_sample:
                    samples.append((round(now - began, 1), round(rss_megabytes(), 2), processed, open_descriptors()))
                    next_sample += args.sample
                if now >= next_restart and now - began + 30 < duration:  # the last restart still reconnects
                    camera.stop()
                    time.sleep(args.down)
                    camera.start()
                    restarts.append(round(time.monotonic() - began, 1))
                    next_restart += args.restart_every
                if now - began >= duration:
                    break
            failure, reconnects, lost, dropped = source.failure, source.reconnects, source.lost, source.dropped
    finally:
        camera.stop()
    elapsed = time.monotonic() - began
    if failure:
        print(f"soak: the stream failed: {failure}", file=sys.stderr)
    verdict = judge(samples, warm_up, args.allowed_growth)
    if verdict is None:
        print("soak: the run was too short to judge; run longer", file=sys.stderr)
        return 2
    growth, descriptors, flat = verdict
    reconnected = reconnects == len(restarts) and not failure
    print(f"{processed} frames x {args.targets} targets in {elapsed / 60:.1f} min ({processed / elapsed:.1f} fps) "
          f"from an RTSP camera restarted {len(restarts)} times, reconnected {reconnects} times, about {lost} "
          f"frames lost while it was down, {dropped} dropped to stay current; RSS {samples[0][1]:.0f} MB at start, "
          f"{growth:+.1f} MB after warm-up (allowed {args.allowed_growth:g}); descriptors {samples[0][3]} at "
          f"start, {descriptors:+d} after warm-up: {'flat' if flat else 'GREW'}")
    write_json(args.json, {"mode": "stream", "minutes": args.minutes, "targets": args.targets,
                           "backend": args.backend, "frames": processed, "restart_every_seconds": args.restart_every,
                           "down_seconds": args.down, "restarts_at_seconds": restarts, "reconnects": reconnects,
                           "frames_lost_while_down": lost, "frames_dropped": dropped, "failure": failure,
                           "warm_up_seconds": warm_up, "growth_after_warm_up_mb": round(growth, 2),
                           "descriptor_growth_after_warm_up": descriptors, "allowed_growth_mb": args.allowed_growth,
                           "flat": flat, "every_restart_reconnected": reconnected,
                           "samples_seconds_rss_mb_frames_descriptors": samples, "machine": machine_info(args.threads)})
    print(f"wrote {args.json}")
    return 0 if flat and reconnected else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--targets", type=int, default=8)
    parser.add_argument("--churn", type=int, default=50, help="frames between removing one target and adding one")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--allowed-growth", type=float, default=20.0, help="MB of RSS growth after warm-up")
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="where to write the report (default: benchmarks/results/"
                                                    "soak.json, or soak_stream.json with --stream)")
    parser.add_argument("--stream", action="store_true", help="read a real RTSP camera that restarts")
    parser.add_argument("--restart-every", type=float, default=180.0, help="stream: seconds between camera restarts")
    parser.add_argument("--down", type=float, default=2.0, help="stream: seconds the camera stays down each time")
    args = parser.parse_args()
    if args.json is None:
        args.json = REPO / "benchmarks" / "results" / ("soak_stream.json" if args.stream else "soak.json")
    if args.stream:
        return stream_soak(args)

    from siamtrack import MultiTracker
    from siamtrack.app.synthetic import ClipSpec, make_clip
    from siamtrack.evaluation.report import machine_info, write_json

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
