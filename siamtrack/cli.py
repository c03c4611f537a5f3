"""The ``siamtrack`` command line.

Exit codes: 0 done, 2 bad arguments or unreadable input (a one-line message on stderr, never a
traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import __version__
from .errors import SiamtrackError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _weights_info(args: argparse.Namespace) -> int:
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
    if args.input_colour:
        overrides["input_colour"] = args.input_colour
    if args.response_scale is not None:
        overrides["response_scale"] = args.response_scale
    weights = convert(args.source, args.destination, provenance=_parse_notes(args.note), **overrides)
    print(f"wrote {args.destination}")
    print(describe(weights))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siamtrack", description="Real-time single-object tracking with Siamese networks.")
    parser.add_argument("--version", action="version", version=f"siamtrack {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    weights = commands.add_parser("weights", help="inspect and convert network weights")
    weights_commands = weights.add_subparsers(dest="weights_command", metavar="ACTION", required=True)

    info = weights_commands.add_parser("info", help="print what a weights file holds")
    info.add_argument("file", help="weights file (siamtrack, siamfc-pytorch or BN-folded layout)")
    info.set_defaults(handler=_weights_info)

    conv = weights_commands.add_parser(
        "convert", help="write weights of any supported layout in siamtrack's own format")
    conv.add_argument("source", help="input weights file")
    conv.add_argument("destination", help="output .pth file (siamtrack format)")
    conv.add_argument("--input-colour", choices=("RGB", "BGR"),
                      help="channel order the network was trained on (default: RGB, as SiamFC)")
    conv.add_argument("--response-scale", type=float,
                      help="factor on the raw correlation (default: 0.001, as SiamFC)")
    conv.add_argument("--note", action="append", default=[], metavar="KEY=VALUE",
                      help="provenance entry to record, e.g. --note licence=MIT (repeatable)")
    conv.set_defaults(handler=_weights_convert)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script passes it to the shell)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SiamtrackError as exc:
        print(f"siamtrack: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("siamtrack: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
