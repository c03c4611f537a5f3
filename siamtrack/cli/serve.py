"""``siamtrack serve``: watch and steer live tracking of several streams from a browser, or over HTTP."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
from typing import Any, Iterator, Optional

from siamtrack.cli.common import EXIT_OK, add_tracker_options, check_outputs_apart, positive_float, positive_int, say

TOKEN_VARIABLE = "SIAMTRACK_TOKEN"
# What stops the server: Ctrl-C, a service manager's stop, a closed terminal. The command exits
# with 128 + the signal's number, as `track` does.
STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


def run(args: argparse.Namespace) -> int:
    from siamtrack.io.outputs import OutputWriteError
    from siamtrack.io.sources import SourceOptions
    from siamtrack.serve.engine import ServerSettings, TrackingServer, per_stream, stream_names
    from siamtrack.serve.webapp import check_binding, create_app

    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    check_binding(args.host, token)
    names = stream_names(args.sources)
    outputs = [str(path) for option in (args.results, args.events) for name in names
               if (path := per_stream(option, name, len(names) > 1)) is not None]
    for source in args.sources:
        check_outputs_apart(source, outputs)
    try:
        import uvicorn
    except ImportError:
        from siamtrack.errors import ConfigError

        raise ConfigError("siamtrack serve needs FastAPI and uvicorn: pip install 'siamtrack[serve]'") from None
    from siamtrack.backends import create_backend
    from siamtrack.tracking.tracker import MultiTracker

    listening = _listen(args.host, args.port)
    backend = create_backend(args.backend, args.model, device=args.device, threads=args.threads)  # shared by all
    settings = ServerSettings(max_targets=args.max_targets, loop=args.loop, results=args.results, events=args.events,
                              rotate_bytes=int(args.rotate_mb * 1e6) if args.rotate_mb else None)
    options = SourceOptions(reconnect_timeout=args.reconnect_timeout, rtsp_transport=args.rtsp_transport)
    server = TrackingServer(args.sources, lambda: MultiTracker(backend=backend, config=args.config), options,
                            settings)
    config = uvicorn.Config(create_app(server, token, args.allow_host), log_level="warning",
                            timeout_graceful_shutdown=2, proxy_headers=args.proxy_headers,
                            forwarded_allow_ips="127.0.0.1" if args.proxy_headers else None)
    web = _web_server(uvicorn, config, server)
    server.on_failure = web.stop
    server.start()
    url = f"http://{args.host}:{args.port}/" + ("?token=..." if token else "")
    say(args, f"serving {len(args.sources)} stream(s) at {url} (backend {backend.name} on {backend.device}); "
              f"Ctrl-C stops")
    try:
        web.run(sockets=[listening])
    finally:
        listening.close()
        server.close()
    if server.failure is not None:
        raise OutputWriteError(server.failure)
    if web.stopped_by is not None:
        print(f"siamtrack: stopped by {signal.Signals(web.stopped_by).name}", file=sys.stderr)
        return 128 + web.stopped_by  # 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP
    return EXIT_OK


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts: a port in use is a one-line error."""
    from siamtrack.errors import InputError

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host.strip("[]"), port))
        listening.listen(128)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    listening.set_inheritable(True)
    return listening


def _web_server(uvicorn: Any, config: Any, server: Any) -> Any:
    """uvicorn's server, which also stops on SIGHUP, ends the tracking's streams when it stops, and
    remembers the signal instead of raising it again (the command turns it into its exit code)."""

    class WebServer(uvicorn.Server):  # type: ignore[name-defined, misc]
        stopped_by: Optional[int] = None

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {signum: signal.signal(signum, self.handle_exit) for signum in STOP_SIGNALS}
            try:
                yield
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.stopped_by is None:
                self.stopped_by = sig
            self.stop()

        def stop(self) -> None:
            server.stop_tracking()  # live feeds end, so their connections close in time
            self.should_exit = True

    return WebServer(config)


def port_number(text: str) -> int:
    """A TCP port: a whole number from 1 to 65535."""
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, got {text!r}")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve", help="watch and steer live tracking from a browser, and over HTTP",
        description="Track every SOURCE (camera index, video file, image folder, RTSP/HTTP URL) live, all "
                    "targets through the network together, and serve a page (draw a box to track, click to "
                    "stop) and an HTTP API (see siamtrack.serve.webapp). Binds 127.0.0.1 unless --host says "
                    f"otherwise; any other address needs a token (--token or ${TOKEN_VARIABLE}), which every "
                    "request then needs. Exit codes: 0 stopped, 2 bad option, source or port, 4 an output "
                    "failed (the API said so first), 128 + N stopped by signal N.")
    serve.add_argument("sources", nargs="+", metavar="SOURCE", help="camera index, video file, folder or stream URL")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8000, help="port (default: 8000)")
    serve.add_argument("--token", help=f"access token for every request (default: ${TOKEN_VARIABLE}; required "
                                       f"off loopback)")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="a host name the server answers to besides the loopback names, when it has no token "
                            "(repeatable)")
    serve.add_argument("--proxy-headers", action="store_true",
                       help="trust X-Forwarded-For from a proxy on 127.0.0.1 (default: off, so clients cannot "
                            "claim another address)")
    serve.add_argument("--max-targets", type=positive_int, default=16, metavar="N",
                       help="most targets per stream (default: 16)")
    serve.add_argument("--loop", action="store_true", help="replay files and folders when they end")
    serve.add_argument("--results", metavar="FILE",
                       help="results per stream as JSON lines, appended frame by frame while the server runs; "
                            "{stream} in the name is the stream's name (several streams without it: FILE.NAME.EXT)")
    serve.add_argument("--events", metavar="FILE", help="target events per stream as JSON lines, named as --results")
    serve.add_argument("--rotate-mb", type=positive_float, metavar="MB",
                       help="when a results or events file passes this size, move it to NAME.<time>.EXT and start "
                            "it anew (default: never)")
    serve.add_argument("--reconnect-timeout", type=positive_float, default=10.0, metavar="SECONDS",
                       help="live streams: how long to keep reopening a stream that died (default: 10)")
    serve.add_argument("--rtsp-transport", choices=("auto", "tcp", "udp"), default="auto",
                       help="rtsp:// streams: tcp, udp or FFmpeg's choice (default: auto)")
    serve.add_argument("--quiet", action="store_true", help="no startup line")
    add_tracker_options(serve)
    serve.set_defaults(handler=run)
