"""``siamtrack weights info|download|convert|average``: inspect and convert network weights."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from siamtrack.cli.common import EXIT_OK, Parser, positive_float, unit_float
from siamtrack.errors import SiamtrackError
from siamtrack.io.downloads import MODELS as DOWNLOADABLE
from siamtrack.model.builtin import BUILTIN_MODELS


def run_info(args: argparse.Namespace) -> int:
    from siamtrack.backends.nanotrack import is_nanotrack_folder
    from siamtrack.model.builtin import available_formats, builtin_model_name, model_path
    from siamtrack.model.contract import is_exported_model
    from siamtrack.model.metadata import describe_metadata

    name = builtin_model_name(args.file)
    # A built-in model's weights file, or where only its export is installed (no torch), that.
    file = (str(model_path(name, "weights" if "weights" in available_formats(name) else "onnx"))
            if name is not None else args.file)
    if is_nanotrack_folder(file):
        from siamtrack.backends.nanotrack import GRAPH_FILES as NANOTRACK_FILES
        from siamtrack.backends.nanotrack import nanotrack_metadata

        print("\n".join([f"nanotrack:      {file} ({', '.join(NANOTRACK_FILES)}), run as published",
                         *describe_metadata(nanotrack_metadata(file))]))
        return EXIT_OK
    if is_exported_model(file):  # an export folder: read through ONNX Runtime, no torch needed
        from siamtrack.backends.onnx_backend import OnnxBackend
        from siamtrack.model.contract import CHECKSUMS_FILE, GRAPH_FILES

        backend = OnnxBackend(file, device="cpu")
        info = backend.info
        print("\n".join([f"export:         {file} ({', '.join(GRAPH_FILES.values())}; "
                         f"checksums in {CHECKSUMS_FILE} verified)",
                         f"from weights:   sha256 {info.weights_sha256}",
                         f"kernel:         {'x'.join(str(v) for v in info.kernel_shape)} per target",
                         *describe_metadata(info.metadata)]))
        return EXIT_OK
    from siamtrack.model.weights import describe, load_weights

    print(describe(load_weights(file)))
    return EXIT_OK


def run_download(args: argparse.Namespace) -> int:
    from siamtrack.io.downloads import MODELS, download

    folder = download(args.name, root=args.cache, base_url=args.url, timeout=args.timeout)
    print(f"{folder}")
    if not args.quiet:
        print(f"siamtrack: {args.name} ({MODELS[args.name].licence}) is in {folder}; use it with --model {folder}",
              file=sys.stderr)
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
    from siamtrack.model.weights import convert, describe

    overrides = {}
    if args.input_color:
        overrides["input_color"] = args.input_color
    if args.response_scale is not None:
        overrides["response_scale"] = args.response_scale
    weights = convert(args.source, args.destination, provenance=parse_notes(args.note),
                      lost_threshold=args.lost_threshold, **overrides)
    print(f"wrote {args.destination}")
    print(describe(weights))
    return EXIT_OK


def run_average(args: argparse.Namespace) -> int:
    from siamtrack.model.weights import average_weights, save_weights

    save_weights(average_weights(args.files), args.output)
    print(f"wrote {args.output} (the mean of {len(args.files)} files)")
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> None:
    weights = commands.add_parser("weights", help="inspect and convert network weights")
    weights_commands = weights.add_subparsers(dest="weights_command", metavar="ACTION", required=True,
                                              parser_class=Parser)

    info = weights_commands.add_parser("info", help="print what a weights file holds")
    info.add_argument("file", help="weights file (siamtrack, siamfc-pytorch or BN-folded layout), exported ONNX "
                                   "folder, NanoTrack folder, or a built-in model's name "
                                   f"({', '.join(BUILTIN_MODELS)})")
    info.set_defaults(handler=run_info)

    fetch = weights_commands.add_parser(
        "download", help="fetch a published model by name into the cache (checked against its checksum)",
        description="Fetch a published model (not bundled with siamtrack) into siamtrack's cache, check every "
                    "file against its recorded SHA-256, and print the folder, which --model takes. A model "
                    "already there is not fetched again. Exit 3 when the download fails or does not match.")
    fetch.add_argument("name", choices=sorted(DOWNLOADABLE), help="the model: nanotrack (NanoTrack v2, Apache-2.0)")
    fetch.add_argument("--cache", help="folder to keep models in (default: $SIAMTRACK_CACHE/models)")
    fetch.add_argument("--url", help="base address to fetch from instead of the published one (a mirror); "
                                     "also $SIAMTRACK_DOWNLOAD_URL")
    fetch.add_argument("--timeout", type=positive_float, default=30.0,
                       help="seconds any one network wait may take (default: 30)")
    fetch.add_argument("--quiet", action="store_true", help="print only the folder")
    fetch.set_defaults(handler=run_download)

    conv = weights_commands.add_parser(
        "convert", help="write weights of any supported layout in siamtrack's own format")
    conv.add_argument("source", help="input weights file")
    conv.add_argument("destination", help="output .pth file (siamtrack format)")
    conv.add_argument("--input-color", choices=("RGB", "BGR"),
                      help="channel order the network was trained on (default: RGB, as SiamFC)")
    conv.add_argument("--response-scale", type=positive_float,
                      help="factor on the raw correlation (default: 0.001, as SiamFC)")
    conv.add_argument("--note", action="append", default=[], metavar="KEY=VALUE",
                      help="provenance entry to record, e.g. --note licence=MIT (repeatable)")
    conv.add_argument("--lost-threshold", type=unit_float, metavar="SCORE",
                      help="lost threshold calibrated for this model, recorded in its metadata: its default "
                           "config takes it (calibrate on videos with absent frames: siamtrack eval reports "
                           "the lost flag's recall and false-lost rate)")
    conv.set_defaults(handler=run_convert)

    average = weights_commands.add_parser(
        "average", help="write the mean of several weights files of one network (e.g. a run's last epochs)",
        description="Average the tensors of several siamtrack weights files of the same network, e.g. the "
                    "last epochs of a training run (runs/NAME/epochs/*.pth), which smooths out how much single "
                    "epochs differ. Exit 2 when the files are of different networks.")
    average.add_argument("files", nargs="+", help="weights files of one network (two or more)")
    average.add_argument("--output", required=True, help="the averaged weights file to write")
    average.set_defaults(handler=run_average)
