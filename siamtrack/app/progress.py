"""A one-line progress display on stderr (frames, fps, ETA), off when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import IO, Optional


class Progress:
    """Rewrites one status line at most a few times per second.

    Args:
        total: frames expected (None for live sources: no percentage or ETA).
        enabled: False turns every call into a no-op (``--quiet``, or not a terminal).
        stream: where to write (stderr).
    """

    def __init__(self, total: Optional[int], enabled: bool = True, stream: Optional[IO[str]] = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.total = total
        self.done = 0
        self._began = time.monotonic()
        self._last_draw = 0.0

    @staticmethod
    def wanted(quiet: bool, stream: Optional[IO[str]] = None) -> bool:
        stream = stream or sys.stderr
        return not quiet and hasattr(stream, "isatty") and stream.isatty()

    @property
    def fps(self) -> float:
        elapsed = time.monotonic() - self._began
        return self.done / elapsed if elapsed > 0 else 0.0

    def update(self, extra: str = "") -> None:
        self.done += 1
        now = time.monotonic()
        if self.enabled and now - self._last_draw >= 0.2:
            self._last_draw = now
            self._draw(extra)

    def _draw(self, extra: str) -> None:
        fps = self.fps
        if self.total:
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 24)
            eta = (self.total - self.done) / fps if fps > 0 else 0.0
            line = f"[{bar:<24s}] {self.done}/{self.total} {share:4.0%} {fps:5.1f} fps ETA {eta:4.0f}s"
        else:
            line = f"{self.done} frames {fps:5.1f} fps"
        self.stream.write(f"\r{line} {extra}\033[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw("")
            self.stream.write("\n")
            self.stream.flush()


class FrameRate:
    """Frames per second over the last ``window`` seconds: frames counted over the time they took.

    (An average of 1 / interval overstates the rate whenever intervals vary: two frames 10 ms and
    60 ms apart average 58 fps, though 2 frames came in 70 ms, 29 fps. A count since the start
    understates it after a slow start, a model load or a detector's wait.)"""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self._times: deque[float] = deque()

    def tick(self, now: float) -> float:
        """Count a frame processed at ``now`` (seconds); returns the rate (0 before the second frame)."""
        self._times.append(now)
        while len(self._times) > 2 and now - self._times[0] > self.window:
            self._times.popleft()
        elapsed = now - self._times[0]
        return (len(self._times) - 1) / elapsed if elapsed > 0 else 0.0
