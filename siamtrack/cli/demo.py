"""``siamtrack demo``: track a generated clip, no camera or file needed."""

from __future__ import annotations

import argparse
from pathlib import Path

from siamtrack.cli.common import EXIT_OK, add_tracker_options


def run(args: argparse.Namespace) -> int:
    from siamtrack.app.demo import run_demo

    output = None if args.output in ("", "-") else Path(args.output)
    if output is not None and not output.resolve().parent.is_dir():
        from siamtrack.io.outputs import OutputError
        raise OutputError(f"cannot write {output}: folder {output.parent} does not exist")
    log = (lambda message: None) if args.quiet else print
    run_demo(output, model=args.model, backend=args.backend, device=args.device, threads=args.threads,
             log=log, config=args.config)
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="track an object through a generated clip (no camera or file needed)",
        description="Render a clip with known ground truth in memory (a textured object moving, "
                    "turning and scaling over clutter, with an occlusion), track it, write an "
                    "annotated video and print the IoU of every frame and the mean.")
    demo.add_argument("--output", default="siamtrack-demo.mp4", metavar="VIDEO",
                      help="annotated video to write (default: siamtrack-demo.mp4; '-' for none)")
    demo.add_argument("--quiet", action="store_true", help="print nothing")
    add_tracker_options(demo)
    demo.set_defaults(handler=run, config=None, backend="auto")
