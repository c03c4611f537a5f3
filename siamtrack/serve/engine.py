"""Live tracking of several streams for ``siamtrack serve``: the engine behind the web page and API.

One `StreamPump` thread per source keeps that source's newest frame (a live source's own
reader already drops what the tracker has no time for; a file or folder is played at its frame
rate, and with ``loop`` starts over at its end). One tracking thread takes, round after round, the
newest unprocessed frame of every stream and updates all their targets in one network call
([siamtrack.update_streams][siamtrack.update_streams]), so the view is never behind live. Targets are added and removed
through `TrackingServer.add_target` / `remove_target`, which queue the change for the
tracking thread (trackers are not thread-safe) and wait for it. Each processed frame is annotated
and JPEG-encoded only while someone watches or asks for a snapshot; results also go to the usual
result files and events.

Nothing here knows HTTP: `siamtrack.serve.webapp` serves it.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import cv2
import numpy as np

from siamtrack.app.annotate import annotate_all
from siamtrack.app.events import EventLog
from siamtrack.app.progress import FrameRate
from siamtrack.errors import InputError, TrackingStopped
from siamtrack.files import redact_credentials
from siamtrack.io.outputs import OutputWriteError, ResultWriter
from siamtrack.io.sources import FrameSource, SourceError, SourceOptions, describe_spec, open_source
from siamtrack.results import TrackResult

LOG = logging.getLogger(__name__)
JPEG_QUALITY = 80
LIVE_RETRY_MAX = 30.0  # seconds between tries to open a camera or stream that is down
STALE_SECONDS = 2.0


@dataclass
class StreamView:
    """What one stream shows now (read by the web layer; written by the tracking thread)."""

    name: str
    status: str = "starting"  # starting, live, reconnecting, ended, failed
    detail: str = ""
    size: tuple[int, int] = (0, 0)
    frame_index: int = -1
    time: float = 0.0  # seconds since the server started, at this frame
    captured: float = 0.0  # time.monotonic() when the frame was read
    fps: float = 0.0
    results: dict[int, TrackResult] = field(default_factory=dict)
    jpeg: bytes = b""
    version: int = 0  # increases with every processed frame

    def summary(self) -> dict[str, Any]:
        """JSON-ready state: status, size, frame, fps and every target's box, score and lost flag.
        A live stream with no new frame for two seconds shows as ``waiting`` (reconnecting, or a
        camera that stalled)."""
        status = self.status
        if status == "live" and self.version and time.monotonic() - self.captured > STALE_SECONDS:
            status = "waiting"
        return {"name": self.name, "status": status, "detail": self.detail, "width": self.size[0],
                "height": self.size[1], "frame": self.frame_index, "time": round(self.time, 3),
                "fps": round(self.fps, 1),
                "targets": [{"id": r.target_id, "box": [round(v, 1) for v in r.box], "score": round(r.score, 3),
                             "lost": r.lost} for r in self.results.values()]}


class StreamPump:
    """Reads one source in its own thread and keeps its newest frame (see the module docstring)."""

    def __init__(self, spec: str, options: SourceOptions, loop: bool) -> None:
        self.spec, self.options, self.loop = spec, options, loop
        self.latest: Optional[tuple[int, float, np.ndarray]] = None
        self.status, self.detail, self.fps = "starting", "", 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"siamtrack-pump-{redact_credentials(spec)}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def take(self) -> Optional[tuple[int, float, np.ndarray]]:
        """The newest frame not taken before (index, time, image), or None."""
        with self._lock:
            frame, self.latest = self.latest, None
        return frame

    def _run(self) -> None:
        count, delay = 0, 1.0
        live = describe_spec(self.spec) in ("camera", "stream")
        while not self._stop.is_set():
            try:
                source = open_source(self.spec, self.options)
            except SourceError as exc:
                if not live:  # a missing or broken file stays so
                    self.status, self.detail = "failed", str(exc)
                    return
                # A camera that is down now may be up later: a server runs for days, so it keeps
                # trying (every few seconds, at most every LIVE_RETRY_MAX s).
                self.status, self.detail = "reconnecting", str(exc)
                self._stop.wait(delay)
                delay = min(delay * 2, LIVE_RETRY_MAX)
                continue
            with source:
                self.status, self.detail, delay = "live", "", 1.0
                count = self._play(source, count)
                if source.failure and not live:
                    self.status, self.detail = "failed", source.failure
                    return
                if source.failure:
                    self.status, self.detail = "reconnecting", source.failure
                    continue
            if not (self.loop and not source.live):
                self.status = "ended"
                return

    def _play(self, source: FrameSource, count: int) -> int:
        period = 0.0 if source.live else 1.0 / (source.fps or 25.0)
        began = time.monotonic()
        for position, frame in enumerate(source):
            if self._stop.is_set():
                break
            if period:  # files and folders: in real time, not as fast as they decode
                delay = began + position * period - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
            with self._lock:
                self.latest = (count, time.monotonic(), frame.image)
            count += 1
        return count

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


@dataclass(frozen=True)
class ServerSettings:
    """How ``siamtrack serve`` tracks.

    Attributes:
        max_targets: most targets on one stream (an API client cannot exhaust the machine).
        loop: replay files and folders from the start when they end.
        results: result file per stream (``{stream}`` in the name is replaced by its name; with
            several streams and no ``{stream}``, the name gets ``.NAME`` before its extension).
        events: events file per stream, named the same way.
        rotate_bytes: when a results or events file grows past this, its content moves to
            ``NAME.<time>.EXT`` and it starts anew (None: never).
    """

    max_targets: int = 16
    loop: bool = False
    results: Optional[str] = None
    events: Optional[str] = None
    rotate_bytes: Optional[int] = None


def per_stream(path: Optional[str], name: str, several: bool) -> Optional[Path]:
    """The output file of stream ``name`` for a ``--results`` / ``--events`` name (see ServerSettings)."""
    if path is None:
        return None
    if "{stream}" in path:
        return Path(path.replace("{stream}", name))
    chosen = Path(path)
    return chosen.with_name(f"{chosen.stem}.{name}{chosen.suffix}") if several else chosen


class TrackingServer:
    """Tracks every stream's targets in one thread (see the module docstring).

    Args:
        sources: camera indexes, files, folders or stream URLs.
        make_tracker: builds one MultiTracker per stream, all on one shared backend.
        options: how sources are read (reconnects as in ``siamtrack track``).
        settings: limits, looping and outputs.
    """

    def __init__(self, sources: Sequence[str], make_tracker: Callable[[], Any], options: SourceOptions,
                 settings: ServerSettings = ServerSettings()) -> None:
        if not sources:
            raise InputError("serve needs at least one source")
        self.settings = settings
        names = stream_names(sources)
        self.views = [StreamView(name) for name in names]
        self.pumps = [StreamPump(spec, options, settings.loop) for spec in sources]
        self.trackers = [make_tracker() for _ in sources]
        several = len(sources) > 1
        # Appended row by row, so the files grow while the server runs (for days); see ResultWriter.
        self.writers = [ResultWriter(path, "jsonl", append=True)
                        if (path := per_stream(settings.results, name, several)) else None for name in names]
        self.events = [EventLog(path=per_stream(settings.events, name, several), append=True) for name in names]
        self.failure: Optional[str] = None  # why tracking stopped (an output failed), once it has
        self.on_failure: Optional[Callable[[], None]] = None  # called from the tracking thread when it does
        self._frames: dict[int, np.ndarray] = {}  # each stream's newest frame (the tracking thread's)
        self.watchers = 0  # MJPEG viewers: JPEGs are encoded only while someone watches
        self.snapshot_wanted = False
        self._commands: list[tuple[Callable[[], Any], Future]] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._began = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="siamtrack-tracking", daemon=True)

    def start(self) -> "TrackingServer":
        for pump in self.pumps:
            pump.start()
        self._thread.start()
        return self

    @property
    def stopped(self) -> bool:
        """Whether tracking has ended (`stop_tracking`, `close`, or a failed output)."""
        return self._stop.is_set() or self.failure is not None

    def stop_tracking(self) -> None:
        """End the tracking thread and wake every waiting reader (the web side is shutting down)."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()

    def close(self) -> None:
        """Stop the threads and finish every output (idempotent)."""
        self.stop_tracking()
        self._thread.join(timeout=5.0)
        for pump in self.pumps:
            pump.stop()
        for writer in self.writers:
            if writer is not None:
                writer.close()
        for log in self.events:
            log.close()

    # -- requests, from any thread ------------------------------------------------------------

    def _call(self, action: Callable[[], Any], timeout: float = 10.0) -> Any:
        if self.failure is not None:
            raise TrackingStopped(f"tracking has stopped: {self.failure}")
        future: Future = Future()
        with self._lock:
            self._commands.append((action, future))
        return future.result(timeout=timeout)

    def add_target(self, stream: int, box: Sequence[float]) -> int:
        """Start a target on ``stream``'s newest frame; returns its id.

        Raises:
            InputError: no such stream, no frame yet, too many targets, or a bad box.
        """
        self._check_stream(stream)

        def add() -> int:
            tracker, frame = self.trackers[stream], self._frames.get(stream)
            if self.pumps[stream].status in ("ended", "failed"):
                raise InputError(f"stream {stream} has {self.pumps[stream].status}; it gets no new frames to track")
            if frame is None:
                raise InputError(f"stream {stream} has no frame yet")
            if len(tracker) >= self.settings.max_targets:
                raise InputError(f"stream {stream} already has {len(tracker)} targets, the most allowed")
            result = tracker.add(frame, box)
            self.views[stream].results[result.target_id] = result
            return result.target_id

        return self._call(add)

    def remove_target(self, stream: int, target_id: int) -> None:
        """Stop tracking a target.

        Raises:
            InputError: no such stream; KeyError: no such target.
        """
        self._check_stream(stream)

        def remove() -> None:
            self.trackers[stream].remove(target_id)
            self.views[stream].results.pop(target_id, None)

        self._call(remove)

    def _check_stream(self, stream: int) -> None:
        if not 0 <= stream < len(self.views):
            raise InputError(f"no stream {stream}; streams are 0 to {len(self.views) - 1}")

    def wait_for_change(self, version: int, stream: int, timeout: float) -> int:
        """Block until ``stream`` has a version newer than ``version`` (or the timeout); returns it."""
        with self._changed:
            self._changed.wait_for(lambda: self.views[stream].version > version or self._stop.is_set(), timeout)
        return self.views[stream].version

    # -- the tracking thread ------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._track()
        except OutputWriteError as exc:  # a full disk: report it on the page and the API, then stop
            self.failure = str(exc)
            LOG.error("%s", exc)
            for view in self.views:
                view.status, view.detail = "failed", self.failure
            with self._changed:
                self._changed.notify_all()
            if self.on_failure is not None:
                self.on_failure()

    def _track(self) -> None:
        from siamtrack.tracking.tracker import update_streams

        rates = [FrameRate() for _ in self.views]
        while not self._stop.is_set():
            fresh = []
            for index, pump in enumerate(self.pumps):
                self.views[index].status, self.views[index].detail = pump.status, pump.detail
                frame = pump.take()
                if frame is not None:
                    fresh.append((index, frame))
                    self._frames[index] = frame[2]
            self._apply_commands()
            if not fresh:
                self._stop.wait(0.005)
                continue
            try:
                updated = update_streams([(self.trackers[index], frame[2]) for index, frame in fresh])
            except InputError as exc:  # e.g. a stream's frames changed size: its targets go, it goes on
                LOG.warning("%s", exc)
                for index, _ in fresh:
                    self.trackers[index].clear()
                updated = [{} for _ in fresh]
            for (index, (number, stamp, image)), results in zip(fresh, updated):
                self.views[index].fps = rates[index].tick(time.monotonic())
                self._publish(index, number, stamp, image, results)

    def _apply_commands(self) -> None:
        with self._lock:
            commands, self._commands = self._commands, []
        for action, future in commands:
            try:
                future.set_result(action())
            except Exception as exc:  # handed to the requesting thread, which reports it
                future.set_exception(exc)

    def _publish(self, index: int, number: int, stamp: float, image: np.ndarray,
                 results: dict[int, TrackResult]) -> None:
        view = self.views[index]
        view.size = (image.shape[1], image.shape[0])
        view.frame_index, view.time, view.captured = number, stamp - self._began, stamp
        view.results = dict(results)
        writer = self.writers[index]
        if writer is not None:
            for result in results.values():
                writer.write(number, view.time, result, result.target_id)
        self.events[index].observe(number, view.time, results, view.size)
        limit = self.settings.rotate_bytes
        if limit is not None:
            if writer is not None and writer.size > limit:
                writer.rotate()
            if self.events[index].size > limit:
                self.events[index].rotate()
        if self.watchers > 0 or self.snapshot_wanted:
            shown = list(results.values())
            canvas = annotate_all(image, shown, [f"#{result.target_id}" for result in shown])
            ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if ok:
                view.jpeg = encoded.tobytes()
        with self._changed:
            view.version += 1
            self._changed.notify_all()


def stream_names(sources: Sequence[str]) -> list[str]:
    """Each source's stream name (shown on the page, used in output names)."""
    return [_stream_name(spec, index) for index, spec in enumerate(sources)]


def _stream_name(spec: str, index: int) -> str:
    """A short, safe name for a stream (shown on the page, used in output names)."""
    import re

    shown = redact_credentials(spec).replace("***@", "")  # a camera's password never names its stream
    stem = Path(shown.rstrip("/")).stem if not shown.isdigit() else f"camera{shown}"
    return f"{index}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', stem)[:40] or 'stream'}"
