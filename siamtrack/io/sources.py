"""Where frames come from: video files, image folders, cameras and network streams.

Files and folders are read frame by frame; none is skipped except by ``stride``. Live sources
(a camera index or an RTSP/HTTP URL) are read by a background thread that keeps only the newest
frame, so a tracker slower than the camera works on the latest view instead of falling further
and further behind; the frames it never saw are counted in ``dropped``. A live stream that dies
is reopened with back-off for up to ``reconnect_timeout`` seconds before the source ends.

Use [open_source][siamtrack.io.sources.open_source] (a context manager and an iterator of `Frame`) or the
`frames` generator.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Protocol, Union

import cv2
import numpy as np

from siamtrack.errors import InputError, SourceError
from siamtrack.files import describe_path, path_too_long, redact_credentials

LOG = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
RTSP_TRANSPORTS = ("auto", "tcp", "udp")
# OpenCV reads FFmpeg's demuxer options from this variable when a capture opens.
FFMPEG_OPTIONS_VARIABLE = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_OPEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class SourceOptions:
    """How to read a source.

    Attributes:
        start: index of the first frame to use (files and folders).
        stride: use every ``stride``-th frame from ``start`` (files and folders); 2 halves the
            work at the cost of larger motion between processed frames.
        end: stop before this frame index (None: to the end).
        reconnect_timeout: live sources: seconds to keep trying to reopen a stream that died
            before giving up (0 gives up at once). It also bounds every single wait on a stream
            (opening, one read; at least 1 s each), and a source that delivers no frame for
            2 x that + 1 s ends the run as failed, however the stream misbehaves.
        folder_fps: frame rate assumed for image folders, for timestamps.
        rtsp_transport: ``rtsp://`` streams: ``tcp`` (interleaved in the RTSP connection: works
            through firewalls and NAT, no packet loss), ``udp`` (lower latency; frames arrive
            damaged when packets are lost) or ``auto`` (FFmpeg's default: UDP, then TCP).
    """

    start: int = 0
    stride: int = 1
    end: Optional[int] = None
    reconnect_timeout: float = 10.0
    folder_fps: float = 30.0
    rtsp_transport: str = "auto"

    def __post_init__(self) -> None:
        if self.start < 0:
            raise InputError(f"start must be >= 0, got {self.start}")
        if self.stride < 1:
            raise InputError(f"stride must be >= 1, got {self.stride}")
        if self.end is not None and self.end <= self.start:
            raise InputError(f"end ({self.end}) must be after start ({self.start})")
        if self.reconnect_timeout < 0:
            raise InputError("reconnect_timeout must be >= 0")
        if self.rtsp_transport not in RTSP_TRANSPORTS:
            raise InputError(f"rtsp_transport must be one of {', '.join(RTSP_TRANSPORTS)}, got {self.rtsp_transport!r}")


@dataclass(frozen=True)
class Frame:
    """One frame from a source.

    Attributes:
        index: frame number in the source (0-based); for live sources, the number of frames
            the camera delivered before this one, so gaps show the frames dropped.
        timestamp: seconds: position in the video for files and folders, time since the
            source opened for live sources.
        image: H x W x 3 uint8 BGR.
    """

    index: int
    timestamp: float
    image: np.ndarray


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the sources use (tests pass fakes)."""

    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, Optional[np.ndarray]]: ...

    def get(self, prop: int) -> float: ...

    def set(self, prop: int, value: float) -> bool: ...

    def release(self) -> None: ...


class FrameSource:
    """Base of all sources: iterate it for `Frame` objects; close it when done."""

    kind = "source"
    live = False

    def __init__(self, description: str) -> None:
        self.description = description
        self.fps: Optional[float] = None
        self.frame_count: Optional[int] = None  # frames that will be yielded, when known
        self.dropped = 0
        self.reconnects = 0  # live sources: times the stream died and was reopened
        self.lost = 0  # live sources: frames the stream did not deliver while it was down (estimated)
        self.failure: Optional[str] = None  # why a live source ended early, if it died

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file (idempotent)."""

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _selected(index: int, options: SourceOptions) -> bool:
    return index >= options.start and (index - options.start) % options.stride == 0


class VideoFileSource(FrameSource):
    """A video file, decoded frame by frame (no frame is dropped)."""

    kind = "file"

    def __init__(self, path: Path, options: SourceOptions,
                 open_capture: Callable[[str], Capture] = cv2.VideoCapture) -> None:
        super().__init__(str(path))
        too_long = path_too_long(path)
        if too_long:
            raise SourceError(f"cannot open {describe_path(str(path)[:60])}...: {too_long}")
        if path.exists() and not path.is_file():
            raise SourceError(f"{path} is not a video file (a FIFO or device?); siamtrack reads video files, image "
                              f"folders, cameras and stream URLs")
        if not path.is_file():
            raise SourceError(f"video file not found: {path}")
        self._capture = open_capture(str(path))
        if not self._capture.isOpened():
            raise SourceError(f"cannot open {path} as a video (unsupported or corrupt file)")
        self.options = options
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.frame_rate = fps if fps and np.isfinite(fps) and fps > 0 else 30.0
        self.fps = self.frame_rate
        total = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.header_frames = total if total > 0 else None  # what the container says it holds
        if total > 0 and options.start >= total:
            raise SourceError(f"start frame {options.start} is past the end of {path}, which holds {total} frames "
                              f"(0 to {total - 1})")
        if total > 0:
            last = total if options.end is None else min(total, options.end)
            self.frame_count = max(0, (last - options.start + options.stride - 1) // options.stride)

    def __iter__(self) -> Iterator[Frame]:
        options = self.options
        if options.start > 0:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, options.start)
            position = int(self._capture.get(cv2.CAP_PROP_POS_FRAMES))
            index = position if position == options.start else 0  # seeking unsupported: read through
        else:
            index = 0
        while options.end is None or index < options.end:
            ok, image = self._capture.read()
            if not ok or image is None:
                # End of file, or a file that ends early: what was read stands, with a word.
                announced = self.header_frames or 0
                expected = announced if options.end is None else min(options.end, announced)
                if announced and index < expected:
                    LOG.warning("%s ended after %d frames, before the %d its header announces (truncated or "
                                "damaged file?)", self.description, index, self.header_frames)
                return
            if _selected(index, options):
                yield Frame(index, index / self.frame_rate, image)
            index += 1

    def close(self) -> None:
        self._capture.release()


class ImageFolderSource(FrameSource):
    """A folder of images, read in name order."""

    kind = "folder"

    def __init__(self, path: Path, options: SourceOptions) -> None:
        super().__init__(str(path))
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise SourceError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        if options.start >= len(files):
            raise SourceError(f"start frame {options.start} is past the end of {path}, which holds {len(files)} "
                              f"images (0 to {len(files) - 1})")
        end = len(files) if options.end is None else min(len(files), options.end)
        self._files = [(i, files[i]) for i in range(options.start, end, options.stride)]
        self.frame_rate = options.folder_fps
        self.fps = self.frame_rate
        self.frame_count = len(self._files)

    def __iter__(self) -> Iterator[Frame]:
        size = None
        for index, path in self._files:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise SourceError(f"cannot read image {path}")
            if size is not None and image.shape[:2] != size:
                raise SourceError(f"{path.name} is {image.shape[1]}x{image.shape[0]}, but the images before it in "
                                  f"{self.description} are {size[1]}x{size[0]}: a folder source needs images of one "
                                  f"size (resize them, or track the parts separately with --start/--end)")
            size = image.shape[:2]
            yield Frame(index, index / self.frame_rate, image)


class LiveSource(FrameSource):
    """A camera or network stream, read by a background thread that keeps the newest frame.

    Args:
        description: what to open (shown in messages).
        open_capture: opens the device or stream, e.g. ``lambda: cv2.VideoCapture(0)``.
        options: ``reconnect_timeout`` applies; ``start``/``stride``/``end`` count delivered
            frames (``end`` stops after that many camera frames).
    """

    kind = "live"
    live = True

    def __init__(self, description: str, open_capture: Callable[[], Capture],
                 options: SourceOptions = SourceOptions()) -> None:
        super().__init__(description)
        self.options = options
        self._open_capture = open_capture
        self._capture = open_capture()
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"cannot open {description} (no such camera, or the stream is unreachable)")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and np.isfinite(fps) and fps > 0 else None
        self._condition = threading.Condition()
        self._latest: Optional[Frame] = None
        self._delivered = 0  # frames the camera delivered
        self._consumed_index = -1
        self._finished = False
        self._stop = threading.Event()
        self._began = self._last_frame = time.monotonic()
        # A stream that stops sending without closing blocks read() (an RTSP server that
        # hangs, a camera unplugged mid-frame): the consumer gives up after this long without a
        # frame, whatever the reader thread is doing.
        self.stall_limit = 2 * wait_limit(options) + 1.0
        self._thread = threading.Thread(target=self._read_loop, name="siamtrack-reader", daemon=True)
        self._thread.start()

    def _reopen(self) -> bool:
        """Reopen a dead stream with exponential back-off; False once reconnect_timeout passes.

        Every loss and every reconnect is logged; the frames the stream would have delivered
        meanwhile (its frame rate times the time it was down) are counted in `lost`."""
        lost_at = self._last_frame
        deadline = time.monotonic() + self.options.reconnect_timeout
        delay = 0.25
        while not self._stop.is_set() and time.monotonic() < deadline:
            LOG.warning("%s: stream lost; reopening", self.description)
            self._capture.release()
            self._capture = self._open_capture()
            if self._capture.isOpened():
                ok, image = self._capture.read()
                if ok and image is not None:
                    down = time.monotonic() - lost_at
                    self.reconnects += 1
                    self.lost += int(round(down * self.fps)) if self.fps else 0
                    LOG.warning("%s: reconnected after %.1f s without frames (reconnect %d)", self.description, down,
                                self.reconnects)
                    self._publish(image)
                    return True
            self._stop.wait(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 4.0)
        return False

    def _publish(self, image: np.ndarray) -> None:
        with self._condition:
            self._last_frame = time.monotonic()
            index = self._delivered
            self._delivered += 1
            if self.options.end is not None and index >= self.options.end:
                self._stop.set()
                return
            if _selected(index, self.options):
                if self._latest is not None and self._latest.index > self._consumed_index:
                    self.dropped += 1  # replaced before the consumer took it
                self._latest = Frame(index, time.monotonic() - self._began, image)
                self._condition.notify_all()

    def _read_loop(self) -> None:
        try:
            while not self._stop.is_set():
                ok, image = self._capture.read()
                if ok and image is not None:
                    self._publish(image)
                elif not self._reopen():
                    if not self._stop.is_set():
                        self.failure = (f"{self.description}: no frames for {self.options.reconnect_timeout:g} s "
                                        f"after the stream failed; giving up")
                    break
        except Exception as exc:  # surfaced to the consumer through self.failure
            self.failure = f"{self.description}: reader failed: {exc}"
            LOG.exception("reader thread failed")
        finally:
            with self._condition:
                self._finished = True
                self._condition.notify_all()

    def __iter__(self) -> Iterator[Frame]:
        while True:
            with self._condition:
                while not self._finished and (self._latest is None or self._latest.index <= self._consumed_index):
                    if time.monotonic() - self._last_frame > self.stall_limit:
                        self.failure = (f"{self.description}: no frame for {self.stall_limit:g} s "
                                        f"(stalled stream); giving up")
                        self._stop.set()
                        return
                    self._condition.wait(0.25)  # short, so that Ctrl-C is seen at once
                latest = self._latest
                if latest is None or latest.index <= self._consumed_index:
                    return  # finished and nothing new
                self._consumed_index = latest.index
            yield latest

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=0.25)  # a reader between frames stops at once; a hung one is left
        if not self._thread.is_alive():
            self._capture.release()
        # else: the reader is blocked inside read(); releasing the capture under it could crash,
        # so the daemon thread keeps it until its own timeout (or the process exit) ends it.


def wait_limit(options: SourceOptions) -> float:
    """Seconds any one wait on a live source may take (open, read): ``reconnect_timeout``, at least 1."""
    return max(options.reconnect_timeout, 1.0)


def open_stream(url: str, options: SourceOptions) -> Capture:
    """Open a network stream with FFmpeg's open and read timeouts set, so that a host that accepts
    and never answers, or a stream that stops sending, cannot block for FFmpeg's default minutes.

    For ``rtsp://`` with a chosen transport, FFmpeg's ``rtsp_transport`` option goes through the
    variable OpenCV reads at open (set for this open only, under a lock, then restored)."""
    milliseconds = int(wait_limit(options) * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, milliseconds, cv2.CAP_PROP_READ_TIMEOUT_MSEC, milliseconds]
    if options.rtsp_transport == "auto" or not url.lower().startswith(("rtsp://", "rtsps://")):
        return cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    with _OPEN_LOCK:
        previous = os.environ.get(FFMPEG_OPTIONS_VARIABLE)
        os.environ[FFMPEG_OPTIONS_VARIABLE] = f"rtsp_transport;{options.rtsp_transport}"
        try:
            return cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        finally:
            if previous is None:
                del os.environ[FFMPEG_OPTIONS_VARIABLE]
            else:
                os.environ[FFMPEG_OPTIONS_VARIABLE] = previous


SourceSpec = Union[str, int, Path]


def describe_spec(spec: SourceSpec) -> str:
    """What kind of source ``spec`` names: ``camera``, ``stream``, ``folder`` or ``file``."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return "camera"
    text = str(spec)
    if text.lower().startswith(STREAM_SCHEMES):
        return "stream"
    try:
        return "folder" if Path(text).is_dir() else "file"
    except OSError:  # a name the system refuses (too long): VideoFileSource says why
        return "file"


def open_source(spec: SourceSpec, options: SourceOptions = SourceOptions()) -> FrameSource:
    """Open a camera index (``0``), a stream URL, an image folder or a video file.

    Raises:
        SourceError: it cannot be opened (missing file, dead camera, unreachable stream, ...).
    """
    kind = describe_spec(spec)
    if kind == "camera":
        index = int(str(spec))
        return LiveSource(f"camera {index}", lambda: cv2.VideoCapture(index), options)
    if kind == "stream":
        url = str(spec)
        return LiveSource(redact_credentials(url), lambda: open_stream(url, options), options)
    path = Path(str(spec))
    if kind == "folder":
        return ImageFolderSource(path, options)
    return VideoFileSource(path, options)


def frames(spec: SourceSpec, start: int = 0, stride: int = 1, end: Optional[int] = None,
           reconnect_timeout: float = 10.0) -> Iterator[Frame]:
    """Yield the frames of a source and close it afterwards
    (see [SourceOptions][siamtrack.io.sources.SourceOptions])."""
    with open_source(spec, SourceOptions(start, stride, end, reconnect_timeout)) as source:
        yield from source
