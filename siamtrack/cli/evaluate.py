"""``siamtrack eval``: trackers side by side on annotated sequences."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from siamtrack.cli.common import EXIT_OK, add_tracker_options, positive_int


def run(args: argparse.Namespace) -> int:
    import shlex

    from siamtrack.datasets import load_dataset
    from siamtrack.errors import InputError
    from siamtrack.evaluation.entries import SiamtrackVariant, build_entries, pin_threads
    from siamtrack.evaluation.harness import evaluate
    from siamtrack.evaluation.report import machine_info, write_report
    from siamtrack.files import check_folder_possible

    check_folder_possible(args.report, InputError)  # before the evaluation's minutes, not after
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


def add_parser(commands: argparse._SubParsersAction) -> None:
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
    evaluation.add_argument("--max-frames", type=positive_int, help="frames per sequence (default: all)")
    evaluation.add_argument("--title", default="evaluation", help="report title")
    evaluation.add_argument("--quiet", action="store_true", help="no per-sequence lines")
    add_tracker_options(evaluation, device="cpu")  # CPU by default: peers run on the CPU too
    evaluation.set_defaults(handler=run, backend="auto")
