"""A real RTSP camera for the tests: GStreamer's RTSP server streaming H.264 on 127.0.0.1.

Run by the tests with the system's Python (Debian's ``python3-gi`` and
``gir1.2-gst-rtsp-server-1.0``, which ``.ci/run`` installs)::

    /usr/bin/python3 tests/rtsp_server.py PORT [tcp|udp|any]

It serves ``rtsp://127.0.0.1:PORT/stream`` (a moving ball, 320 x 240, 25 fps, x264 with a key
frame every second) over RTP on UDP, interleaved in the RTSP TCP connection, or either (``any``,
the default: as the client asks), prints ``ready`` once it listens, and runs until killed.
:class:`RtspCamera` starts, restarts and stops it from a test.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
PIPELINE = ("( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 "
            "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 "
            "! rtph264pay name=pay0 pt=96 config-interval=1 )")


def serve(port: int, protocols: str = "any") -> None:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE)
    factory.set_shared(True)
    lower = GstRtsp.RTSPLowerTrans
    factory.set_protocols({"tcp": lower.TCP, "udp": lower.UDP, "any": lower.TCP | lower.UDP}[protocols])
    server.get_mount_points().add_factory("/stream", factory)
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


def unavailable() -> str:
    """Why the RTSP server cannot run here ('' when it can)."""
    if not Path(SYSTEM_PYTHON).is_file():
        return f"no system Python at {SYSTEM_PYTHON}"
    check = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); "
                            "gi.require_version('Gst', '1.0'); from gi.repository import Gst, GstRtspServer; "
                            "Gst.init(None); assert Gst.ElementFactory.find('x264enc')"],
                           capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        return ("GStreamer's RTSP server is not installed (apt-get install gir1.2-gst-rtsp-server-1.0 python3-gi "
                "gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly): " + check.stderr.strip().splitlines()[-1])
    return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RtspCamera:
    """The server above as a child process: ``start``, ``stop`` (kill: a camera that loses power),
    ``restart``; ``url`` stays the same across restarts."""

    def __init__(self, port: int | None = None, protocols: str = "any") -> None:
        self.port = port or free_port()
        self.protocols = protocols
        self.url = f"rtsp://127.0.0.1:{self.port}/stream"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "RtspCamera":
        self.process = subprocess.Popen([SYSTEM_PYTHON, str(Path(__file__).resolve()), str(self.port), self.protocols],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # "ready", or "" if it died
        if line.strip() != "ready" or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"the RTSP server did not start on port {self.port}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def __enter__(self) -> "RtspCamera":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: rtsp_server.py PORT [tcp|udp|any]")
    serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) == 3 else "any")
