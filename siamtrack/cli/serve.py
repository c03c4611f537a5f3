"""``siamtrack serve``: watch and steer live tracking of several streams from a browser, or over HTTP."""

from __future__ import annotations

import argparse
import os

from .common import EXIT_OK, add_tracker_options, positive_int, say

TOKEN_VARIABLE = "SIAMTRACK_TOKEN"


def run(args: argparse.Namespace) -> int:
    from ..server import ServerSettings, TrackingServer
    from ..sources import SourceOptions
    from ..webapp import check_binding, create_app

    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    check_binding(args.host, token)
    try:
        import uvicorn
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError("siamtrack serve needs FastAPI and uvicorn: pip install 'siamtrack[serve]'") from None
    from ..backends import create_backend
    from ..tracker import MultiTracker

    backend = create_backend(args.backend, args.model, device=args.device, threads=args.threads)  # shared by all
    settings = ServerSettings(max_targets=args.max_targets, loop=args.loop, results=args.results, events=args.events)
    options = SourceOptions(reconnect_timeout=args.reconnect_timeout, rtsp_transport=args.rtsp_transport)
    server = TrackingServer(args.sources, lambda: MultiTracker(backend=backend, config=args.config), options,
                            settings).start()
    url = f"http://{args.host}:{args.port}/" + ("?token=..." if token else "")
    say(args, f"serving {len(args.sources)} stream(s) at {url} (backend {backend.name} on {backend.device}); "
              f"Ctrl-C stops")
    try:
        uvicorn.run(create_app(server, token), host=args.host, port=args.port, log_level="warning",
                    timeout_graceful_shutdown=2)
    finally:
        server.close()
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve", help="watch and steer live tracking from a browser, and over HTTP",
        description="Track every SOURCE (camera index, video file, image folder, RTSP/HTTP URL) live, all "
                    "targets through the network together, and serve a page (draw a box to track, click to "
                    "stop) and an HTTP API (see siamtrack.webapp). Binds 127.0.0.1 unless --host says "
                    f"otherwise; any other address needs a token (--token or ${TOKEN_VARIABLE}), which every "
                    "request then needs.")
    serve.add_argument("sources", nargs="+", metavar="SOURCE", help="camera index, video file, folder or stream URL")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=positive_int, default=8000, help="port (default: 8000)")
    serve.add_argument("--token", help=f"access token for every request (default: ${TOKEN_VARIABLE}; required "
                                       f"off loopback)")
    serve.add_argument("--max-targets", type=positive_int, default=16, metavar="N",
                       help="most targets per stream (default: 16)")
    serve.add_argument("--loop", action="store_true", help="replay files and folders when they end")
    serve.add_argument("--results", metavar="FILE",
                       help="results per stream as JSON lines; {stream} in the name is the stream's name (several "
                            "streams without it: FILE.NAME.EXT)")
    serve.add_argument("--events", metavar="FILE", help="target events per stream as JSON lines, named as --results")
    serve.add_argument("--reconnect-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="live streams: how long to keep reopening a stream that died (default: 10)")
    serve.add_argument("--rtsp-transport", choices=("auto", "tcp", "udp"), default="auto",
                       help="rtsp:// streams: tcp, udp or FFmpeg's choice (default: auto)")
    serve.add_argument("--quiet", action="store_true", help="no startup line")
    add_tracker_options(serve)
    serve.set_defaults(handler=run)
