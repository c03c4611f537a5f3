"""Localhost stream servers for the live-source tests: each runs in a daemon thread, serves on a
free port and stops with :meth:`close` (or the test process)."""

from __future__ import annotations

import socket
import threading
import time

import cv2
import numpy as np


class StreamServer:
    """An HTTP MJPEG server: the first connection gets ``frames`` frames and then silence (the
    connection stays open, as a hung camera's does); every later connection is accepted and
    never answered. ``frames=0`` never answers anyone (a host that accepts and hangs)."""

    def __init__(self, frames: int = 20, period: float = 0.03, port: int = 0) -> None:
        self.frames, self.period = frames, period
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self._socket.listen(8)
        self._held: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/stream.mjpg"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        answered = False
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed
            self._held.append(connection)
            if answered or not self.frames:
                continue
            answered = True
            try:
                self._send_frames(connection)
            except OSError:
                pass  # the client went away: nothing more to serve

    def _send_frames(self, connection: socket.socket) -> None:
        connection.recv(4096)  # the request
        connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n")
        for index in range(self.frames):
            image = np.full((120, 160, 3), 60, np.uint8)
            image[40:80, 30 + 2 * index:70 + 2 * index] = (40, 190, 230)
            data = cv2.imencode(".jpg", image)[1].tobytes()
            connection.sendall(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                               + data + b"\r\n")
            time.sleep(self.period)

    def close(self) -> None:
        self._socket.close()
        for connection in self._held:
            connection.close()

    def __enter__(self) -> "StreamServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
