"""``siamtrack track``: one source, its targets, outputs, a window, a detector."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from siamtrack.cli.common import (
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    add_tracker_options,
    check_outputs_apart,
    non_negative_int,
    parse_box,
    parse_point,
    positive_float,
    positive_int,
    say,
    tracker_from,
    unit_float,
)
from siamtrack.io.formats import RESULT_FORMATS, VIDEO_CODECS, listed

# Whether --detect also re-acquires lost targets unless --reacquire says otherwise: chosen from
# benchmarks/reacquire.py (docs/benchmarks.md, "Re-acquisition from detections").
REACQUIRE_DEFAULT = "on"
REACQUIRE_THRESHOLD = 0.75  # siamtrack.app.loop.REACQUIRE_THRESHOLD; this module imports no torch-heavy one at start


def check_track_arguments(args: argparse.Namespace, outputs: list[str], have_display: bool) -> None:
    """Refuse, before anything starts, what cannot work: a display that is not there, choices
    among detections without a detector, outputs that clash or cannot be written."""
    from siamtrack.io.outputs import OutputError, describe_path

    if args.show and not have_display:
        raise OutputError("--show needs a display, and none is available (no DISPLAY); "
                          "drop --show to run headless")
    if args.box is None and args.detect is None and not have_display:
        raise OutputError("no --box or --detect given and no display to select the target on; pass --box x,y,w,h "
                          "or --detect person|face|onnx:PATH")
    if (args.max_targets is not None or args.pick is not None) and args.detect is None:
        raise OutputError("--max-targets and --pick choose among detections: give --detect too")
    check_outputs_apart(args.source, outputs)
    if args.output is not None:
        suffix = Path(args.output).suffix.lower()
        if suffix not in VIDEO_CODECS:
            raise OutputError(f"cannot write video {describe_path(args.output)}: use {listed(VIDEO_CODECS)}")
        if not Path(args.output).resolve().parent.is_dir():
            raise OutputError(f"cannot write {describe_path(args.output)}: folder "
                              f"{describe_path(Path(args.output).parent)} does not exist")
    if "-" in args.results and args.results_format is None:
        raise OutputError("--results - (standard output) needs --results-format jsonl, csv or mot")
    for path in args.results:
        told = RESULT_FORMATS.get(Path(path).suffix.lower())
        if args.results_format is not None and told is not None and told != args.results_format:
            raise OutputError(f"--results {describe_path(path)} is a {told} name but --results-format says "
                              f"{args.results_format}; name the file .{args.results_format} or drop the option")


def report(args: argparse.Namespace, summary: Any, source: Any, tracker: Any, outputs: list[str]) -> None:
    """What the run did, after it (so that bad input still ends with exactly one line, the error)."""
    from siamtrack.io.outputs import describe_path

    dropped = f", {summary.dropped} live frames dropped to stay current" if source.live else ""
    if source.reconnects:
        dropped += (f", reconnected {source.reconnects} time(s), about {source.lost} frames lost while the "
                    f"stream was down")
    say(args, f"tracker: backend {tracker.backend_name} on {tracker.device}, model "
               f"{args.model or 'the default model'}, {tracker.config.scale_search} scale search")
    say(args, f"tracked {summary.tracked} of {summary.frames} frames in {summary.seconds:.1f} s "
               f"({summary.fps:.1f} fps{dropped})")
    for path in outputs:
        if path != "-":
            say(args, f"wrote {describe_path(path)}")


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from siamtrack.app.display import OpenCVDisplay, display_available
    from siamtrack.app.events import EventLog
    from siamtrack.app.loop import run_tracking
    from siamtrack.app.progress import Progress
    from siamtrack.io.outputs import ResultWriter
    from siamtrack.io.sources import SourceOptions, open_source

    show = args.show
    outputs = [*args.results, *([args.output] if args.output else []), *([args.events] if args.events else [])]
    check_track_arguments(args, outputs, display_available())
    options = SourceOptions(start=args.start, stride=args.stride, end=args.end,
                            reconnect_timeout=args.reconnect_timeout, rtsp_transport=args.rtsp_transport)
    tracker = tracker_from(args, args.model)
    detection = None
    if args.detect is not None:
        from siamtrack.app.loop import DetectorUse
        from siamtrack.detection.detectors import create_detector

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
        say(args, "selection cancelled; nothing tracked")
        return EXIT_OK
    report(args, summary, source, tracker, outputs)
    if summary.ended_by not in ("end", "user"):
        # Said even with --quiet: a script must be able to tell a dead camera from a clean end.
        print(f"siamtrack: error: the source failed: {summary.ended_by}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> None:
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
                            "ONNX detector): without --box, start targets from detections (every --detect-every "
                            "frames until --max-targets run; without it, every detection of the first frame that has "
                            "any); while a target is lost, re-acquire it from detections")
    track.add_argument("--max-targets", type=positive_int, metavar="N",
                       help="with --detect: keep starting targets on new detections until N run")
    track.add_argument("--pick", type=parse_point, metavar="X,Y",
                       help="with --detect: start on the detection nearest this point only")
    track.add_argument("--reacquire", choices=("on", "off"), default=REACQUIRE_DEFAULT,
                       help=f"with --detect: re-acquire lost targets from detections (default: {REACQUIRE_DEFAULT})")
    track.add_argument("--detect-every", type=positive_int, default=5, metavar="N",
                       help="with --detect: run the detector every N frames while a target is lost or fewer than "
                            "--max-targets run (default: 5)")
    track.add_argument("--reacquire-threshold", type=unit_float, default=REACQUIRE_THRESHOLD, metavar="SCORE",
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
                       help="results format for '-' and names whose extension does not tell (a clash with a "
                            "known extension is an error)")
    track.add_argument("--start", type=non_negative_int, default=0, help="first frame index (files and folders)")
    track.add_argument("--stride", type=positive_int, default=1, help="use every N-th frame (files and folders)")
    track.add_argument("--end", type=non_negative_int, help="stop before this frame index")
    track.add_argument("--reconnect-timeout", type=positive_float, default=10.0, metavar="SECONDS",
                       help="live streams: how long to keep reopening a stream that died (default: 10)")
    track.add_argument("--rtsp-transport", choices=("auto", "tcp", "udp"), default="auto",
                       help="rtsp:// streams: RTP over the RTSP connection (tcp), over UDP, or FFmpeg's "
                            "choice (auto, the default: UDP, then TCP)")
    track.add_argument("--quiet", action="store_true", help="no progress line or summary")
    add_tracker_options(track)
    track.set_defaults(handler=run)
