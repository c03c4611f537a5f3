"""What the commands share: exit codes, the parser class, argument types, the tracker options."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, Optional, Sequence

from siamtrack.backends import BACKEND_NAMES
from siamtrack.config import preset_names
from siamtrack.io.formats import listed
from siamtrack.model.builtin import BUILTIN_MODELS

EXIT_OK = 0
EXIT_FAILED = 1  # batch: some jobs failed
EXIT_USAGE = 2
EXIT_SOURCE_FAILED = 3  # a live source died and did not come back within --reconnect-timeout
EXIT_OUTPUT_FAILED = 4  # writing an output failed part-way (disk full, I/O error)
EXIT_INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``siamtrack: error: ...``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"siamtrack: error: {message} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    """An option value that must be a whole number >= 1."""
    return whole_number(text, 1)


def finite_float(text: str, low: float | None = None, high: float | None = None, low_open: bool = False) -> float:
    """An option value that must be a finite number, within [low, high] (``low_open``: above ``low``).

    The one rule every numeric option goes through, so ``nan``, ``inf`` and out-of-range values
    are a one-line usage error (exit 2) wherever they are given."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise argparse.ArgumentTypeError(f"must be {'>' if low_open else '>='} {low:g}, got {text!r}")
    if high is not None and value > high:
        raise argparse.ArgumentTypeError(f"must be <= {high:g}, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An option value that must be a finite number > 0 (seconds, sizes)."""
    return finite_float(text, 0.0, low_open=True)


def unit_float(text: str) -> float:
    """An option value that must be a finite number in [0, 1] (scores, thresholds)."""
    return finite_float(text, 0.0, 1.0)


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
    """``x,y`` -> two finite floats (pixels)."""
    import math

    try:
        x, y = (float(p) for p in text.replace(" ", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes x,y (two numbers), got {text!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise argparse.ArgumentTypeError(f"takes x,y (two finite numbers), got {text!r}")
    return x, y


def whole_number(text: str, low: int = 0, high: int | None = None) -> int:
    """An option value that must be a whole number within [low, high]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An option value that must be a whole number >= 0 (frame indexes)."""
    return whole_number(text, 0)


def tracker_from(args: argparse.Namespace, model: Optional[str]):
    from siamtrack.tracking.tracker import MultiTracker

    return MultiTracker(model=model, backend=args.backend, device=args.device, config=args.config,
                        threads=args.threads)


def say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr)


def check_outputs_apart(source: str, outputs: Sequence[str]) -> None:
    """Refuse outputs that would overwrite the source or each other."""
    from siamtrack.io.outputs import OutputError, check_path_fits, describe_path
    from siamtrack.io.sources import describe_spec

    for path in outputs:
        if path != "-":
            check_path_fits(Path(path))
    resolved = [Path(path).resolve() for path in outputs if path != "-"]
    if len(set(resolved)) != len(resolved):
        raise OutputError("the same file is named twice among --output and --results")
    if describe_spec(source) == "file" and Path(source).resolve() in resolved:
        raise OutputError(f"an output would overwrite the source {describe_path(source)}; choose another file name")


def add_tracker_options(parser: argparse.ArgumentParser, device: str = "auto", threads: bool = True) -> None:
    group = parser.add_argument_group("tracker")
    group.add_argument("--model", help=f"weights file, exported ONNX folder, or a built-in model: "
                                        f"{listed(BUILTIN_MODELS)} (default: default)")
    group.add_argument("--config", help=f"preset name ({', '.join(preset_names())}) or JSON file of tracker "
                                        f"settings (default: the model's own: nanotrack for a NanoTrack-layout "
                                        f"model such as the default, with the lost threshold its file carries; "
                                        f"siamfc-3s for a SiamFC one such as v4)")
    group.add_argument("--backend", default="auto", choices=BACKEND_NAMES,
                       help="inference backend; auto picks tensorrt (if it passes a parity check against "
                            "onnx), torch on CUDA, onnx, torch on CPU, in that order, among those installed "
                            "(default: auto)")
    group.add_argument("--device", default=device, help=f"auto, cpu, cuda or cuda:N (default: {device})")
    if threads:
        group.add_argument("--threads", type=positive_int, help="CPU threads for inference (default: the framework's)")
