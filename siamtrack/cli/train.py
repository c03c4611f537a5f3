"""``siamtrack train``: train a network from a preset (resumable)."""

from __future__ import annotations

import argparse
from pathlib import Path

from siamtrack.cli.common import EXIT_OK


def run(args: argparse.Namespace) -> int:
    import shlex

    from siamtrack.app.progress import Progress
    from siamtrack.backends.torch_backend import resolve_torch_device
    from siamtrack.errors import ConfigError
    from siamtrack.files import check_folder_possible
    from siamtrack.training.config import load_train_config
    from siamtrack.training.trainer import train

    config = load_train_config(args.preset, args.set)
    check_folder_possible(args.output, ConfigError)
    resolve_torch_device(args.device)  # an unknown or absent device is a one-line error before any work
    model = train(config, Path(args.output), device=args.device, show_progress=Progress.wanted(args.quiet),
                  log=(lambda message: None) if args.quiet else print,
                  command="siamtrack " + " ".join(shlex.quote(a) for a in args.argv))
    if not args.quiet:
        print(f"trained model: {model}")
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> None:
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
    training.set_defaults(handler=run)
