"""``siamtrack batch``: many videos, local worker processes or a Ray cluster."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from siamtrack.cli.common import EXIT_FAILED, EXIT_OK, add_tracker_options, positive_int, say


def run(args: argparse.Namespace) -> int:
    import shlex

    from siamtrack.batch.jobs import TrackerCache, TrackerSettings, read_jobs
    from siamtrack.batch.ray_pool import ray_available
    from siamtrack.batch.run import run_batch
    from siamtrack.errors import InputError
    from siamtrack.files import check_folder_possible

    if args.ray is not None and not ray_available():
        raise InputError("--ray needs Ray, which is not installed: pip install \"siamtrack[cluster]\"")
    jobs = read_jobs(args.jobs)
    output = Path(args.output)
    check_folder_possible(output, InputError)
    settings = TrackerSettings(args.model, args.config, args.backend, args.device, args.threads_per_job, args.events)
    workers = args.workers or max(1, (os.cpu_count() or 1) // args.threads_per_job)
    if args.ray is None or not args.device.startswith("cuda"):
        # Built once here so that a bad model, config or backend is one error line before any work.
        tracker = TrackerCache(settings).get(None, None)
        engine = f"Ray ({args.ray})" if args.ray else f"{min(workers, len(jobs))} local worker(s)"
        say(args, f"batch: {len(jobs)} jobs on {engine}; backend {tracker.backend_name} on {tracker.device}, "
                   f"model {args.model or 'the default model'}, {args.threads_per_job} thread(s) per job")
    began = time.monotonic()
    counts = {"ok": 0, "failed": 0, "skipped": 0}
    frames = 0

    def progress(outcome) -> None:
        nonlocal frames
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
        frames += outcome.frames if outcome.status == "ok" else 0
        done = sum(counts.values())
        elapsed = time.monotonic() - began
        ran = counts["ok"] + counts["failed"]
        eta = elapsed / ran * (len(jobs) - done) if ran else 0.0
        detail = {"ok": f"{outcome.frames} frames, {outcome.fps:.1f} fps", "failed": outcome.error,
                  "skipped": f"finished earlier, {outcome.frames} frames"}[outcome.status]
        say(args, f"[{done}/{len(jobs)}] {outcome.id}: {outcome.status} ({detail}); {counts['failed']} failed, "
                   f"{frames / elapsed if elapsed > 0 else 0:.1f} frames/s overall, ETA {eta:.0f} s")

    run = run_batch(jobs, output, settings, workers, args.ray, progress, local_ray_cpus=args.workers,
                    command="siamtrack " + " ".join(shlex.quote(a) for a in args.argv), job_file=Path(args.jobs))
    failed = run.failed
    names = f"; failed: {', '.join(o.id for o in failed)}" if failed else ""
    say(args, f"{counts['ok']} jobs ok, {counts['skipped']} skipped, {len(failed)} failed in {run.seconds:.1f} s"
               f"{names}; summary: {output / 'summary.json'}")
    return EXIT_FAILED if failed else EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> None:
    batch = commands.add_parser(
        "batch", help="track through many video files or image folders (local processes or a Ray cluster)",
        description="Run every job of JOBS (CSV with a header, or JSON lines: source, box 'x,y,w,h' with ';' "
                    "between targets, and optionally id, start, end, config, model; relative sources are "
                    "relative to JOBS). Each job writes DIR/<id>.jsonl when it completes; a rerun skips "
                    "finished jobs and reruns those whose result is empty, damaged or foreign. DIR/summary.json "
                    "and summary.csv list every job, however the run ends. A job that fails for a reason a "
                    "retry may change is retried once. Exit codes: 0 all jobs ok, 1 some failed (named in the "
                    "summary), 2 bad arguments or job file, 130/143/129 interrupted.")
    batch.add_argument("jobs", help="job file (.csv or .jsonl)")
    batch.add_argument("--output", required=True, metavar="DIR", help="folder for results and summaries")
    batch.add_argument("--workers", type=positive_int, metavar="N",
                       help="local worker processes (default: CPU cores // threads per job); with --ray local, "
                            "the CPUs Ray may use (default: all)")
    batch.add_argument("--threads-per-job", type=positive_int, default=1, metavar="T",
                       help="CPU threads each job's tracker uses (default: 1)")
    batch.add_argument("--ray", metavar="ADDRESS",
                       help="run on a Ray cluster: its address (ray start --head prints it; 'auto' finds a local "
                            "one) or 'local' to start Ray on this machine (pip install \"siamtrack[cluster]\")")
    batch.add_argument("--events", action="store_true",
                       help="also write each job's target events (started, lost, left, reacquired, ended) to "
                            "ID.events.jsonl")
    batch.add_argument("--quiet", action="store_true", help="no progress lines or summary")
    add_tracker_options(batch, device="cpu", threads=False)
    batch.set_defaults(handler=run)
