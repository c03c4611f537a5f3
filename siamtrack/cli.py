"""The ``siamtrack`` command line.

Exit codes: 0 done, 1 some batch jobs failed (``batch`` only; the summary names them), 2 bad
arguments or unreadable input (a one-line message on stderr, never a traceback), 3 a live source
failed mid-run (outputs hold everything tracked until then), 4 an output could not be written
part-way (disk full, I/O error; what was written is kept as NAME.incomplete.EXT, the other outputs
are finalised), 130 interrupted (Ctrl-C), 143 stopped by SIGTERM, 129 by SIGHUP; outputs are
finalised in every case.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import NoReturn, Optional, Sequence

from . import __version__
from .backends import BACKEND_NAMES
from .config import preset_names
from .errors import SiamtrackError
from .formats import RESULT_FORMATS, VIDEO_CODECS, listed
from .models import BUILTIN_MODELS

EXIT_OK = 0
EXIT_FAILED = 1  # batch: some jobs failed
EXIT_USAGE = 2
EXIT_SOURCE_FAILED = 3  # a live source died and did not come back within --reconnect-timeout
EXIT_OUTPUT_FAILED = 4  # writing an output failed part-way (disk full, I/O error)
EXIT_INTERRUPTED = 130
# Whether --detect also re-acquires lost targets unless --reacquire says otherwise: chosen from
# benchmarks/reacquire.py (README, "Detectors in the loop").
REACQUIRE_DEFAULT = "on"
REACQUIRE_THRESHOLD = 0.75  # siamtrack.loop.REACQUIRE_THRESHOLD; the CLI imports no torch-heavy module at start

# torch's OpenMP threads spin while they wait for work; on a shared CPU they take the cores the
# other work needs (3.4x slower beside one busy process, `python benchmarks/threads.py`). Read by
# OpenMP when torch is first imported, so main() sets it before any command imports torch; a value
# the user exported wins.
OPENMP_WAIT_POLICY = ("OMP_WAIT_POLICY", "PASSIVE")


def _weights_info(args: argparse.Namespace) -> int:
    from .export.contract import is_exported_model

    if is_exported_model(args.file):  # an export folder: read through ONNX Runtime, no torch needed
        from .backends.onnx_backend import OnnxBackend
        from .export.contract import CHECKSUMS_FILE, GRAPH_FILES
        from .metadata import describe_metadata

        backend = OnnxBackend(args.file, device="cpu")
        info = backend.info
        print("\n".join([f"export:         {args.file} ({', '.join(GRAPH_FILES.values())}; "
                         f"checksums in {CHECKSUMS_FILE} verified)",
                         f"from weights:   sha256 {info.weights_sha256}",
                         f"kernel:         {'x'.join(str(v) for v in info.kernel_shape)} per target",
                         *describe_metadata(info.metadata)]))
        return EXIT_OK
    from .weights import describe, load_weights

    print(describe(load_weights(args.file)))
    return EXIT_OK


def _parse_notes(notes: Sequence[str]) -> dict[str, str]:
    parsed = {}
    for note in notes:
        key, sep, value = note.partition("=")
        if not sep or not key:
            raise SiamtrackError(f"--note takes KEY=VALUE, got {note!r}")
        parsed[key] = value
    return parsed


def _weights_convert(args: argparse.Namespace) -> int:
    from .weights import convert, describe

    overrides = {}
    if args.input_color:
        overrides["input_color"] = args.input_color
    if args.response_scale is not None:
        overrides["response_scale"] = args.response_scale
    weights = convert(args.source, args.destination, provenance=_parse_notes(args.note), **overrides)
    print(f"wrote {args.destination}")
    print(describe(weights))
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``siamtrack: error: ...``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"siamtrack: error: {message} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    """An option value that must be a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def parse_box(text: str) -> tuple[float, float, float, float]:
    """``x,y,w,h`` -> four floats (0-based pixels)."""
    parts = text.replace(" ", "").split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"--box takes x,y,w,h (four numbers), got {text!r}")
    return values  # type: ignore[return-value]


def parse_point(text: str) -> tuple[float, float]:
    """``x,y`` -> two floats (pixels)."""
    try:
        x, y = (float(p) for p in text.replace(" ", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes x,y (two numbers), got {text!r}") from None
    return x, y


def _tracker_from(args: argparse.Namespace, model: Optional[str]):
    from .tracker import MultiTracker

    return MultiTracker(model=model, backend=args.backend, device=args.device, config=args.config,
                        threads=args.threads)


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr)


def _check_outputs_apart(source: str, outputs: Sequence[str]) -> None:
    """Refuse outputs that would overwrite the source or each other."""
    from .outputs import OutputError, check_path_fits, describe_path
    from .sources import describe_spec

    for path in outputs:
        if path != "-":
            check_path_fits(Path(path))
    resolved = [Path(path).resolve() for path in outputs if path != "-"]
    if len(set(resolved)) != len(resolved):
        raise OutputError("the same file is named twice among --output and --results")
    if describe_spec(source) == "file" and Path(source).resolve() in resolved:
        raise OutputError(f"an output would overwrite the source {describe_path(source)}; choose another file name")


def _track(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from .display import OpenCVDisplay, display_available
    from .events import EventLog
    from .loop import run_tracking
    from .outputs import OutputError, ResultWriter, describe_path
    from .progress import Progress
    from .sources import SourceOptions, open_source

    show = args.show
    if show and not display_available():
        raise OutputError("--show needs a display, and none is available (no DISPLAY); "
                          "drop --show to run headless")
    if args.box is None and args.detect is None and not display_available():
        raise OutputError("no --box or --detect given and no display to select the target on; pass --box x,y,w,h "
                          "or --detect person|face|onnx:PATH")
    if (args.max_targets is not None or args.pick is not None) and args.detect is None:
        raise OutputError("--max-targets and --pick choose among detections: give --detect too")
    outputs = [*args.results, *([args.output] if args.output else []), *([args.events] if args.events else [])]
    _check_outputs_apart(args.source, outputs)
    if args.output is not None:
        suffix = Path(args.output).suffix.lower()
        if suffix not in VIDEO_CODECS:
            raise OutputError(f"cannot write video {describe_path(args.output)}: use {listed(VIDEO_CODECS)}")
        if not Path(args.output).resolve().parent.is_dir():
            raise OutputError(f"cannot write {describe_path(args.output)}: folder "
                              f"{describe_path(Path(args.output).parent)} does not exist")
    if "-" in args.results and args.results_format is None:
        raise OutputError("--results - (standard output) needs --results-format jsonl, csv or mot")
    options = SourceOptions(start=args.start, stride=args.stride, end=args.end,
                            reconnect_timeout=args.reconnect_timeout, rtsp_transport=args.rtsp_transport)
    tracker = _tracker_from(args, args.model)
    detection = None
    if args.detect is not None:
        from .detect import create_detector
        from .loop import DetectorUse

        detection = DetectorUse(create_detector(args.detect, threads=args.threads), start=args.box is None,
                                max_targets=args.max_targets, pick=args.pick, reacquire=args.reacquire == "on",
                                every=args.detect_every, threshold=args.reacquire_threshold)
    with ExitStack() as stack:
        writers = [stack.enter_context(ResultWriter(path, args.results_format)) for path in args.results]
        events = stack.enter_context(EventLog(path=args.events)) if args.events else None
        source = stack.enter_context(open_source(args.source, options))
        display = None
        if show or (args.box is None and detection is None):
            display = OpenCVDisplay()
            stack.callback(display.close)
        progress = Progress(source.frame_count, enabled=Progress.wanted(args.quiet))
        try:
            summary = run_tracking(source, tracker, args.box, writers, args.output, display, progress, detection,
                                   events)
        finally:
            progress.close()
    if summary.ended_by == "cancelled":
        _say(args, "selection cancelled; nothing tracked")
        return EXIT_OK
    dropped = f", {summary.dropped} live frames dropped to stay current" if source.live else ""
    if source.reconnects:
        dropped += (f", reconnected {source.reconnects} time(s), about {source.lost} frames lost while the "
                    f"stream was down")
    # After the run, so that bad input still ends with exactly one line (the error).
    _say(args, f"tracker: backend {tracker.backend_name} on {tracker.device}, model "
               f"{args.model or 'the default model'}, {tracker.config.scale_search} scale search")
    _say(args, f"tracked {summary.tracked} of {summary.frames} frames in {summary.seconds:.1f} s "
               f"({summary.fps:.1f} fps{dropped})")
    for path in outputs:
        if path != "-":
            _say(args, f"wrote {describe_path(path)}")
    if summary.ended_by not in ("end", "user"):
        # Said even with --quiet: a script must be able to tell a dead camera from a clean end.
        print(f"siamtrack: error: the source failed: {summary.ended_by}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    output = None if args.output in ("", "-") else Path(args.output)
    if output is not None and not output.resolve().parent.is_dir():
        from .outputs import OutputError
        raise OutputError(f"cannot write {output}: folder {output.parent} does not exist")
    log = (lambda message: None) if args.quiet else print
    run_demo(output, model=args.model, backend=args.backend, device=args.device, threads=args.threads,
             log=log, config=args.config)
    return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    import shlex

    from .datasets import load_dataset
    from .errors import InputError
    from .evaluation.entries import SiamtrackVariant, build_entries, pin_threads
    from .evaluation.harness import evaluate
    from .evaluation.report import machine_info, write_report

    threads = args.threads or os.cpu_count() or 1
    pin_threads(threads)
    variants = [SiamtrackVariant.parse(text) for text in args.siamtrack]
    if args.model or args.config:
        variants.append(SiamtrackVariant("siamtrack", args.model, args.config))
    names = [n.strip() for n in args.trackers.split(",") if n.strip()]
    names += [v.name for v in variants if v.name not in names]
    sequences = [s for root in args.data for s in load_dataset(root)]
    if args.sequences:
        wanted = set(args.sequences.split(","))
        missing = wanted - {s.name for s in sequences}
        if missing:
            raise InputError(f"no sequence(s) named {', '.join(sorted(missing))} in {', '.join(args.data)}")
        sequences = [s for s in sequences if s.name in wanted]
    entries, skipped = build_entries(names, variants, args.peer_models, args.device, args.backend, threads)
    for name, reason in skipped.items():
        print(f"siamtrack: skipping {name}: {reason}", file=sys.stderr)
    if not entries:
        raise InputError("none of the requested trackers can run here")
    for entry in entries:
        if entry.description and not args.quiet:
            print(f"siamtrack: tracker {entry.name!r}: {entry.description}", file=sys.stderr)
    if not Path(args.report).resolve().parent.is_dir():
        raise InputError(f"cannot write the report: folder {Path(args.report).parent} does not exist")

    def progress(outcome) -> None:
        if not args.quiet:
            state = f"FAILED ({outcome.error})" if outcome.error else f"AUC {outcome.metrics['auc']:.3f}"
            print(f"{outcome.tracker:>12s} {outcome.sequence:<20s} {state} "
                  f"{outcome.metrics['fps']:7.1f} fps", file=sys.stderr)

    outcomes = evaluate(entries, sequences, args.max_frames, progress)
    notes = [f"Skipped {name}: {reason}" for name, reason in skipped.items()]
    report = write_report(outcomes, Path(args.report), args.title,
                          command="siamtrack " + " ".join(shlex.quote(a) for a in args.argv),
                          environment=machine_info(threads), notes=notes)
    for name, row in sorted(report["summary"].items(), key=lambda item: -(item[1]["auc"] or 0)):
        print(f"{name:>12s}  AUC {row['auc']:.3f}  P@20 {row['precision20']:.3f}  {row['fps']:7.1f} fps"
              f"{'  failures: ' + str(len(row['failures'])) if row['failures'] else ''}")
    print(f"report: {Path(args.report) / 'report.md'}")
    return EXIT_OK


def _batch(args: argparse.Namespace) -> int:
    import shlex

    from .batch import TrackerCache, TrackerSettings, ray_available, read_jobs, run_batch
    from .errors import InputError

    if args.ray is not None and not ray_available():
        raise InputError("--ray needs Ray, which is not installed: pip install \"siamtrack[cluster]\"")
    jobs = read_jobs(args.jobs)
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise InputError(f"--output {output} is a file, not a folder")
    settings = TrackerSettings(args.model, args.config, args.backend, args.device, args.threads_per_job, args.events)
    workers = args.workers or max(1, (os.cpu_count() or 1) // args.threads_per_job)
    if args.ray is None or not args.device.startswith("cuda"):
        # Built once here so that a bad model, config or backend is one error line before any work.
        tracker = TrackerCache(settings).get(None, None)
        engine = f"Ray ({args.ray})" if args.ray else f"{min(workers, len(jobs))} local worker(s)"
        _say(args, f"batch: {len(jobs)} jobs on {engine}; backend {tracker.backend_name} on {tracker.device}, "
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
        _say(args, f"[{done}/{len(jobs)}] {outcome.id}: {outcome.status} ({detail}); {counts['failed']} failed, "
                   f"{frames / elapsed if elapsed > 0 else 0:.1f} frames/s overall, ETA {eta:.0f} s")

    run = run_batch(jobs, output, settings, workers, args.ray, progress, local_ray_cpus=args.workers,
                    command="siamtrack " + " ".join(shlex.quote(a) for a in args.argv), job_file=Path(args.jobs))
    failed = run.failed
    names = f"; failed: {', '.join(o.id for o in failed)}" if failed else ""
    _say(args, f"{counts['ok']} jobs ok, {counts['skipped']} skipped, {len(failed)} failed in {run.seconds:.1f} s"
               f"{names}; summary: {output / 'summary.json'}")
    return EXIT_FAILED if failed else EXIT_OK


def _train(args: argparse.Namespace) -> int:
    import shlex

    from .progress import Progress
    from .training.config import load_train_config
    from .training.trainer import train

    config = load_train_config(args.preset, args.set)
    model = train(config, Path(args.output), device=args.device, show_progress=Progress.wanted(args.quiet),
                  log=(lambda message: None) if args.quiet else print,
                  command="siamtrack " + " ".join(shlex.quote(a) for a in args.argv))
    if not args.quiet:
        print(f"trained model: {model}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from .export.contract import is_exported_model
    from .models import model_path

    model = model_path(args.model, "weights")
    output = Path(args.output)
    if args.format == "tensorrt":  # fail before writing anything when engines cannot be built here
        from .backends.tensorrt_backend import gpu_identity, import_tensorrt

        import_tensorrt()
        gpu_identity(args.device)
    if args.format == "onnx" or not is_exported_model(model):
        from .export.onnx_export import export_onnx

        onnx_folder = output if args.format == "onnx" else output / "onnx"
        export_onnx(model, onnx_folder, opset=args.opset)
        _say(args, f"wrote {onnx_folder}/template.onnx and search.onnx (checked with onnx.checker)")
    else:
        onnx_folder = model
    if args.format == "tensorrt":
        from .export.tensorrt_engines import export_engines

        fp16_choices: dict[str, str | bool] = {"auto": "auto", "on": True, "off": False}
        fp16 = fp16_choices[args.fp16]
        paths = export_engines(onnx_folder, output, fp16=fp16, max_batch=args.max_batch, device=args.device)
        _say(args, "wrote " + " and ".join(str(p) for p in paths.values()))
    return EXIT_OK


def _add_tracker_options(parser: argparse.ArgumentParser, device: str = "auto", threads: bool = True) -> None:
    group = parser.add_argument_group("tracker")
    group.add_argument("--model", help=f"weights file, exported ONNX folder, or a built-in model: "
                                        f"{listed(BUILTIN_MODELS)} (default: default)")
    group.add_argument("--config", help=f"preset name ({', '.join(preset_names())}) or JSON file of tracker "
                                        f"settings (default: siamfc-3s)")
    group.add_argument("--backend", default="auto", choices=BACKEND_NAMES,
                       help="inference backend; auto picks tensorrt (if it passes a parity check against "
                            "onnx), torch on CUDA, onnx, torch on CPU, in that order, among those installed "
                            "(default: auto)")
    group.add_argument("--device", default=device, help=f"auto, cpu, cuda or cuda:N (default: {device})")
    if threads:
        group.add_argument("--threads", type=positive_int, help="CPU threads for inference (default: the framework's)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="siamtrack", description="Real-time single-object tracking with Siamese networks.")
    parser.add_argument("--version", action="version", version=f"siamtrack {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    track = commands.add_parser(
        "track", help="track an object in a video file, image folder, camera or stream",
        description="Track one object, or several (repeat --box). SOURCE is a video file, a folder of images, "
                    "a camera index (0) or an RTSP/HTTP URL. Live sources are read in real time: the tracker always "
                    "works on the newest frame and frames it had no time for are dropped and counted.")
    track.add_argument("source", help="video file, image folder, camera index or stream URL")
    track.add_argument("--box", type=parse_box, action="append", metavar="X,Y,W,H",
                       help="initial box on the first frame, 0-based pixels; repeat it for several targets "
                            "(ids 1, 2, ... in order; all go through the network in one batch per frame). "
                            "Default: select one in a window")
    track.add_argument("--detect", metavar="DETECTOR",
                       help="person (OpenCV's HOG), face (OpenCV's Haar cascade) or onnx:PATH (a YOLOv5/v8/11-layout "
                            "ONNX detector): without --box, start targets from the detections of the first frame "
                            "that has any; while a target is lost, re-acquire it from detections")
    track.add_argument("--max-targets", type=positive_int, metavar="N",
                       help="with --detect: start on the N most confident detections only")
    track.add_argument("--pick", type=parse_point, metavar="X,Y",
                       help="with --detect: start on the detection nearest this point only")
    track.add_argument("--reacquire", choices=("on", "off"), default=REACQUIRE_DEFAULT,
                       help=f"with --detect: re-acquire lost targets from detections (default: {REACQUIRE_DEFAULT})")
    track.add_argument("--detect-every", type=positive_int, default=5, metavar="N",
                       help="with --detect: run the detector every N frames while a target is lost (default: 5)")
    track.add_argument("--reacquire-threshold", type=float, default=REACQUIRE_THRESHOLD, metavar="SCORE",
                       help=f"with --detect: match score (0..1) a detection needs to re-acquire a target "
                            f"(default: {REACQUIRE_THRESHOLD})")
    track.add_argument("--events", metavar="FILE",
                       help="write target events (started, lost, left, reacquired, ended) as JSON lines")
    track.add_argument("--show", action="store_true",
                       help="show a live window (keys: space re-select, r reset, q/Esc quit)")
    track.add_argument("--output", metavar="VIDEO", help=f"write an annotated video: {listed(VIDEO_CODECS)}")
    track.add_argument("--results", action="append", default=[], metavar="FILE",
                       help=f"write per-frame results, format by extension: {listed(RESULT_FORMATS)} "
                            f"({', '.join(f'{k} {v}' for k, v in RESULT_FORMATS.items())}); '-' is standard output; "
                            f"repeatable")
    track.add_argument("--results-format", choices=("jsonl", "csv", "mot"),
                       help="results format when the extension does not tell")
    track.add_argument("--start", type=int, default=0, help="first frame index (files and folders)")
    track.add_argument("--stride", type=int, default=1, help="use every N-th frame (files and folders)")
    track.add_argument("--end", type=int, help="stop before this frame index")
    track.add_argument("--reconnect-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="live streams: how long to keep reopening a stream that died (default: 10)")
    track.add_argument("--rtsp-transport", choices=("auto", "tcp", "udp"), default="auto",
                       help="rtsp:// streams: RTP over the RTSP connection (tcp), over UDP, or FFmpeg's "
                            "choice (auto, the default: UDP, then TCP)")
    track.add_argument("--quiet", action="store_true", help="no progress line or summary")
    _add_tracker_options(track)
    track.set_defaults(handler=_track)

    demo = commands.add_parser(
        "demo", help="track an object through a generated clip (no camera or file needed)",
        description="Render a clip with known ground truth in memory (a textured object moving, "
                    "turning and scaling over clutter, with an occlusion), track it, write an "
                    "annotated video and print the IoU of every frame and the mean.")
    demo.add_argument("--output", default="siamtrack-demo.mp4", metavar="VIDEO",
                      help="annotated video to write (default: siamtrack-demo.mp4; '-' for none)")
    demo.add_argument("--quiet", action="store_true", help="print nothing")
    _add_tracker_options(demo)
    demo.set_defaults(handler=_demo, config=None, backend="auto")

    batch = commands.add_parser(
        "batch", help="track through many video files or image folders (local processes or a Ray cluster)",
        description="Run every job of JOBS (CSV with a header, or JSON lines: source, box 'x,y,w,h' with ';' "
                    "between targets, and optionally id, start, end, config, model; relative sources are "
                    "relative to JOBS). Each job writes DIR/<id>.jsonl when it completes; a rerun skips "
                    "finished jobs. DIR/summary.json and summary.csv list every job. A failed job is retried "
                    "once. Exit codes: 0 all jobs ok, 1 some failed (named in the summary), 2 bad arguments "
                    "or job file.")
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
    _add_tracker_options(batch, device="cpu", threads=False)
    batch.set_defaults(handler=_batch)

    evaluation = commands.add_parser(
        "eval", help="score trackers side by side on annotated sequences (video, OTB, GOT-10k, VOT, LaSOT)",
        description="One-pass evaluation of each tracker over every sequence, on the same decoded frames "
                    "and the same thread count. Writes raw results (OTB format), report.json, report.md "
                    "and success/precision plots to --report.")
    evaluation.add_argument("data", nargs="+", help="dataset folder(s); the layout is recognised")
    evaluation.add_argument("--trackers", default="siamtrack,csrt,kcf,mil,nano,vit",
                            help="comma-separated: siamtrack, csrt, kcf, mil, nano, vit, or --siamtrack names")
    evaluation.add_argument("--report", required=True, metavar="DIR", help="folder for the report")
    evaluation.add_argument("--peer-models", type=Path, metavar="DIR",
                            help="folder with the NanoTrack / VitTrack ONNX models (laid out as ../shared/weights)")
    evaluation.add_argument("--siamtrack", action="append", default=[], metavar="NAME=MODEL[:CONFIG]",
                            help="add a siamtrack variant, e.g. ref5s=siamfc.pth:siamfc-5s (repeatable)")
    evaluation.add_argument("--sequences", help="comma-separated sequence names (default: all)")
    evaluation.add_argument("--max-frames", type=int, help="frames per sequence (default: all)")
    evaluation.add_argument("--title", default="evaluation", help="report title")
    evaluation.add_argument("--quiet", action="store_true", help="no per-sequence lines")
    _add_tracker_options(evaluation, device="cpu")  # CPU by default: peers run on the CPU too
    evaluation.set_defaults(handler=_eval, backend="auto")

    training = commands.add_parser(
        "train", help="train a Siamese network (resumable; torchrun for several GPUs or machines)",
        description="Train from a preset (a name in siamtrack/presets/training or a JSON file) with "
                    "KEY=VALUE overrides. Running it again with the same --output resumes; Ctrl-C "
                    "writes a checkpoint first. The trained network is OUTPUT/model.pth.")
    training.add_argument("--preset", default="lite0", help="training preset name or JSON file (default: lite0)")
    training.add_argument("--output", required=True, help="folder for checkpoint.pth, log.csv and model.pth")
    training.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    training.add_argument("--quiet", action="store_true", help="no progress or epoch lines")
    training.add_argument("set", nargs="*", metavar="KEY=VALUE",
                          help="override preset values, e.g. epochs=5 data='[\"path/to/GOT-10k/train\"]'")
    training.set_defaults(handler=_train)

    export = commands.add_parser(
        "export", help="export a model for deployment: ONNX graphs or TensorRT engines",
        description="Write the template and search branches as ONNX graphs (for ONNX Runtime or TensorRT; "
                    "no torch needed to run them) or build TensorRT engines for this GPU. MODEL is a weights "
                    "file, or for --format tensorrt also an ONNX export folder.")
    export.add_argument("model", nargs="?", help="weights file or built-in model name (default: the default model)")
    export.add_argument("--format", required=True, choices=("onnx", "tensorrt"), help="what to write")
    export.add_argument("--output", required=True, metavar="DIR", help="folder to write into (created)")
    export.add_argument("--opset", type=int, default=18, help="ONNX opset, >= 17 (default: 18)")
    export.add_argument("--fp16", choices=("auto", "on", "off"), default="auto",
                        help="TensorRT FP16 kernels; auto enables them where the GPU has fast FP16")
    export.add_argument("--max-batch", type=int, default=48,
                        help="TensorRT: most search crops (targets x scales) per frame (default: 48)")
    export.add_argument("--device", default="cuda", help="TensorRT: the GPU to build for (default: cuda)")
    export.add_argument("--quiet", action="store_true", help="print nothing")
    export.set_defaults(handler=_export)

    weights = commands.add_parser("weights", help="inspect and convert network weights")
    weights_commands = weights.add_subparsers(dest="weights_command", metavar="ACTION", required=True,
                                              parser_class=_Parser)

    info = weights_commands.add_parser("info", help="print what a weights file holds")
    info.add_argument("file", help="weights file (siamtrack, siamfc-pytorch or BN-folded layout)")
    info.set_defaults(handler=_weights_info)

    conv = weights_commands.add_parser(
        "convert", help="write weights of any supported layout in siamtrack's own format")
    conv.add_argument("source", help="input weights file")
    conv.add_argument("destination", help="output .pth file (siamtrack format)")
    conv.add_argument("--input-color", choices=("RGB", "BGR"),
                      help="channel order the network was trained on (default: RGB, as SiamFC)")
    conv.add_argument("--response-scale", type=float,
                      help="factor on the raw correlation (default: 0.001, as SiamFC)")
    conv.add_argument("--note", action="append", default=[], metavar="KEY=VALUE",
                      help="provenance entry to record, e.g. --note licence=MIT (repeatable)")
    conv.set_defaults(handler=_weights_convert)
    return parser


def _quiet_native_logs() -> None:
    """Keep OpenCV's and FFmpeg's own log lines off stderr (our errors say what failed).

    Must run before cv2 is imported; a user's own settings win.
    """
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    os.environ.setdefault("OPENCV_VIDEOIO_DEBUG", "0")


def _attach_negative_boxes(argv: list[str]) -> list[str]:
    """``--box -50,10,80,60`` -> ``--box=-50,10,80,60``: argparse takes a value that starts with
    ``-`` (and is not a plain negative number) for an option, though a box may start left of
    or above the frame."""
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] == "--box" and re.match(r"-\.?\d", arg):
            joined[-1] = f"--box={arg}"
        else:
            joined.append(arg)
    return joined


class StoppedBySignal(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C, so every output is finalised on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_on_signals() -> None:
    """Turn SIGTERM (timeout, docker stop, systemd) and SIGHUP (a closed terminal) into
    :class:`StoppedBySignal`; their default action would kill the process with outputs unfinished."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # handlers can only be installed from the main thread

    def stop(signum: int, frame: object) -> NoReturn:
        raise StoppedBySignal(signum)

    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):  # no SIGHUP on Windows
        if signum is not None:
            signal.signal(signum, stop)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script passes it to the shell)."""
    os.environ.setdefault(*OPENMP_WAIT_POLICY)
    _quiet_native_logs()
    _stop_on_signals()
    # Library warnings (a truncated file, a slow backend choice) reach the user as one line each.
    logging.basicConfig(format="siamtrack: warning: %(message)s", level=logging.WARNING)
    argv = _attach_negative_boxes(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    args.argv = argv
    from .files import describe_path
    from .outputs import OutputWriteError

    try:
        return args.handler(args)
    except OutputWriteError as exc:
        print(f"siamtrack: error: {describe_path(exc)}", file=sys.stderr)
        return EXIT_OUTPUT_FAILED
    except SiamtrackError as exc:  # control characters from names in the message are escaped
        print(f"siamtrack: error: {describe_path(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "siamtrack":
            raise  # our own bug, not the user's environment
        package = exc.name.split(".")[0] if exc.name else str(exc)
        print(f"siamtrack: error: this command needs the Python package {package!r}, which is not "
              f"installed or cannot be imported (pip install 'siamtrack[torch]', '[export]', "
              f"'[train]' or '[onnx]')", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (`siamtrack weights info ... | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    except StoppedBySignal as stop:
        import signal

        print(f"siamtrack: stopped by {signal.Signals(stop.signum).name}", file=sys.stderr)
        return 128 + stop.signum  # the shell's convention: 143 for SIGTERM, 129 for SIGHUP
    except KeyboardInterrupt:
        print("siamtrack: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
