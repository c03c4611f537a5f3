"""``siamtrack weights info|convert``: inspect and convert network weights."""

from __future__ import annotations

import argparse
from typing import Sequence

from ..errors import SiamtrackError
from .common import EXIT_OK, Parser


def run_info(args: argparse.Namespace) -> int:
    from ..export.contract import is_exported_model

    if is_exported_model(args.file):  # an export folder: read through ONNX Runtime, no torch needed
        from ..backends.onnx_backend import OnnxBackend
        from ..export.contract import CHECKSUMS_FILE, GRAPH_FILES
        from ..metadata import describe_metadata

        backend = OnnxBackend(args.file, device="cpu")
        info = backend.info
        print("\n".join([f"export:         {args.file} ({', '.join(GRAPH_FILES.values())}; "
                         f"checksums in {CHECKSUMS_FILE} verified)",
                         f"from weights:   sha256 {info.weights_sha256}",
                         f"kernel:         {'x'.join(str(v) for v in info.kernel_shape)} per target",
                         *describe_metadata(info.metadata)]))
        return EXIT_OK
    from ..weights import describe, load_weights

    print(describe(load_weights(args.file)))
    return EXIT_OK


def parse_notes(notes: Sequence[str]) -> dict[str, str]:
    parsed = {}
    for note in notes:
        key, sep, value = note.partition("=")
        if not sep or not key:
            raise SiamtrackError(f"--note takes KEY=VALUE, got {note!r}")
        parsed[key] = value
    return parsed


def run_convert(args: argparse.Namespace) -> int:
    from ..weights import convert, describe

    overrides = {}
    if args.input_color:
        overrides["input_color"] = args.input_color
    if args.response_scale is not None:
        overrides["response_scale"] = args.response_scale
    weights = convert(args.source, args.destination, provenance=parse_notes(args.note), **overrides)
    print(f"wrote {args.destination}")
    print(describe(weights))
    return EXIT_OK




def add_parser(commands: argparse._SubParsersAction) -> None:
    weights = commands.add_parser("weights", help="inspect and convert network weights")
    weights_commands = weights.add_subparsers(dest="weights_command", metavar="ACTION", required=True,
                                              parser_class=Parser)

    info = weights_commands.add_parser("info", help="print what a weights file holds")
    info.add_argument("file", help="weights file (siamtrack, siamfc-pytorch or BN-folded layout)")
    info.set_defaults(handler=run_info)

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
    conv.set_defaults(handler=run_convert)
