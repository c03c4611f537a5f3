"""The capture loop: frames from a source through the tracker to outputs and a window.

[run_tracking][siamtrack.app.loop.run_tracking] is what ``siamtrack track`` runs; embedders can call it too, or drive a
[Tracker][siamtrack.Tracker] or [MultiTracker][siamtrack.MultiTracker] from their own loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np

from siamtrack.app.annotate import annotate_all
from siamtrack.app.display import KEY_QUIT, KEY_RESELECT, KEY_RESET, Display
from siamtrack.app.events import EventLog
from siamtrack.app.progress import FrameRate, Progress
from siamtrack.detection.detectors import Detector
from siamtrack.errors import InputError
from siamtrack.geometry import clear_of
from siamtrack.io.formats import KILL_SAFE_VIDEO
from siamtrack.io.outputs import ResultWriter, VideoSink
from siamtrack.io.sources import Frame, FrameSource, SourceError
from siamtrack.results import Box, TrackResult
from siamtrack.tracking.tracker import MultiTracker, Tracker

LOG = logging.getLogger(__name__)
# Match score a detection needs to re-acquire a lost target: a different object of the same size
# and kind scores up to ~0.65 with the default model (tests/test_detectors_in_the_loop.py), the
# target itself over 0.9.
REACQUIRE_THRESHOLD = 0.75


@dataclass(frozen=True)
class DetectorUse:
    """How the loop uses a detector (``siamtrack track --detect``).

    Attributes:
        detector: finds objects in a frame ([Detector][siamtrack.detection.detectors.Detector]).
        start: with no initial box, start targets from the detections of the first frame that has
            any (skipping frames with none).
        max_targets: start on the most confident ones only (None: all).
        pick: (x, y): start on the detection nearest this point only.
        reacquire: while a target is lost, run the detector every ``every`` frames and give the
            target back its best match ([reacquire][siamtrack.MultiTracker.reacquire]).
        every: frames between detector runs while a target is lost.
        threshold: match score a detection needs to re-acquire a target.
    """

    detector: Detector
    start: bool = True
    max_targets: Optional[int] = None
    pick: Optional[tuple[float, float]] = None
    reacquire: bool = True
    every: int = 5
    threshold: float = REACQUIRE_THRESHOLD


@dataclass(frozen=True)
class LoopSummary:
    """How a run went.

    Attributes:
        frames: frames processed (tracked or shown).
        tracked: frames with a tracking result.
        dropped: live frames the tracker never saw because newer ones arrived.
        seconds: wall time of the loop.
        ended_by: ``end`` (source finished), ``user`` (q/Esc), ``cancelled`` (ROI selection
            cancelled) or the failure message of a live source that died.
    """

    frames: int
    tracked: int
    dropped: int
    seconds: float
    ended_by: str

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _as_box_list(boxes: Union[Box, Sequence[Box], np.ndarray, None]) -> Optional[list[Box]]:
    """One box or a list of boxes (any numbers, NumPy's included) as (x, y, w, h) float tuples."""
    if boxes is None:
        return None
    try:
        array = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"boxes must be (x, y, w, h) numbers or a list of them, got {boxes!r}") from None
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != 4:
        raise InputError(f"boxes must be (x, y, w, h) numbers or a list of them, got {boxes!r}")
    return [(float(x), float(y), float(w), float(h)) for x, y, w, h in array]


def _annotated(image, results: Sequence[TrackResult], fps: Optional[float], several: bool):
    if not results and fps is None:
        return image
    labels = [f"#{result.target_id}" if several else None for result in results]
    return annotate_all(image, results, labels, fps)


class _TargetStarter:
    """Starts targets from detections until ``max_targets`` run (``siamtrack track --detect``): on the
    first frame, then every ``every`` frames while fewer run, each new one on a detection that no
    running target overlaps (intersection over union above 0.3). With ``pick``, one target."""

    def __init__(self, targets: MultiTracker, detection: DetectorUse, events: Optional[EventLog]) -> None:
        self.targets, self.detection, self.events = targets, detection, events
        self.limit = 1 if detection.pick is not None else detection.max_targets
        self.started = 0

    def due(self, frames_seen: int) -> bool:
        """Whether to run the detector on this frame (the first of the run counts as 0)."""
        if self.limit is None:
            wanted = self.started == 0  # all detections of the first frame that has any
        else:
            wanted = len(self.targets) < self.limit
        return wanted and frames_seen % self.detection.every == 0

    def start(self, image: np.ndarray, running: Sequence[TrackResult]) -> list[TrackResult]:
        """New targets on this frame's detections; their first results."""
        found = self.detection.detector.detect(image)
        found = found.select(clear_of(found.boxes, np.array([result.box for result in running])))
        room = None if self.limit is None else self.limit - len(self.targets)
        results = self.targets.add_detections(image, found, room, self.detection.pick)
        self.started += len(results)
        if self.events is not None:
            names = {int(class_id): found.class_name(index) for index, class_id in enumerate(found.class_ids)}
            for result in results:
                class_id = self.targets.target_class(result.target_id)
                if class_id is not None:
                    self.events.classes[result.target_id] = names.get(class_id, str(class_id))
        return results


def _open_video(video_path: Optional[str], source: FrameSource, first: Frame) -> Optional[VideoSink]:
    if video_path is None:
        return None
    height, width = first.image.shape[:2]
    sink = VideoSink(video_path, source.fps or 30.0, (width, height))
    if source.live and sink.path.suffix.lower() not in KILL_SAFE_VIDEO:
        LOG.warning("recording a live source to %s: if the process is killed (SIGKILL, power loss) the "
                    "video is unplayable; a .mkv file stays playable up to its last frames", sink.path.name)
    return sink


def _record(frame: Frame, results: Sequence[TrackResult], writers: Sequence[ResultWriter],
            events: Optional[EventLog], frame_size: tuple[int, int]) -> None:
    """One frame's results to the events and the result files."""
    if events is not None:
        events.observe(frame.index, frame.timestamp, {r.target_id: r for r in results}, frame_size)
    for result in results:
        for writer in writers:
            writer.write(frame.index, frame.timestamp, result, target=result.target_id)


def _next_results(targets: MultiTracker, frame: Frame, detection: Optional[DetectorUse], frames_seen: int,
                  events: Optional[EventLog], frame_size: tuple[int, int]) -> list[TrackResult]:
    """Update every target on ``frame``, and give lost ones back their detections when due."""
    current = targets.update(frame.image)
    if (detection is not None and detection.reacquire and frames_seen % detection.every == 0
            and targets.lost_ids()):
        resumed = targets.reacquire(frame.image, detection.detector.detect(frame.image), detection.threshold)
        if resumed and events is not None:  # lost and found on one frame: both are events
            events.observe(frame.index, frame.timestamp, current, frame_size)
        current.update(resumed)
    return list(current.values())


def _handle_key(key: Optional[int], targets: MultiTracker, display: Display, frame: Frame) -> bool:
    """Act on a key pressed in the window; True when it ends the run."""
    if key in KEY_QUIT:
        return True
    if key == KEY_RESET:
        targets.clear()
    elif key == KEY_RESELECT:
        selected = display.select_roi(frame.image)
        if selected is not None:
            targets.clear()
            targets.add(frame.image, selected)
    return False


def _present(frame: Frame, results: list[TrackResult], fps: Optional[float], several: bool,
             sink: Optional[VideoSink], display: Optional[Display], targets: MultiTracker) -> bool:
    """Draw the frame's results into the video and the window (when there are any); True when the
    user quits at the window."""
    if sink is None and display is None:
        return False
    image = _annotated(frame.image, results, fps, several)
    if sink is not None:
        sink.write(image)
    return display is not None and _handle_key(display.show(image), targets, display, frame)


def run_tracking(source: FrameSource, tracker: Union[Tracker, MultiTracker],
                 boxes: Union[Box, Sequence[Box], None], writers: Sequence[ResultWriter] = (),
                 video_path: Optional[str] = None, display: Optional[Display] = None,
                 progress: Optional[Progress] = None, detection: Optional[DetectorUse] = None,
                 events: Optional[EventLog] = None) -> LoopSummary:
    """Track one or several targets through ``source``.

    Args:
        source: an opened frame source (closed by the caller).
        tracker: the tracker to drive; its targets are replaced by ``boxes`` on the first frame.
        boxes: initial box, or list of boxes (one per target, ids 1, 2, ... in this order), on
            the first frame; None starts targets from ``detection`` if given (on the first frame,
            then every ``detection.every`` frames until ``max_targets`` run), else asks
            ``display`` to select one.
        writers: result files; one row per target and tracked frame, flushed as it is written.
        video_path: annotated video to write (every frame of the source, targets or not), or None.
        display: a window for live viewing and keys, or None for headless runs.
        progress: progress line to update, or None.
        detection: a detector to start targets from and to re-acquire lost ones with.
        events: where to report each target's changes (closed by the caller).

    Returns:
        A `LoopSummary`. Outputs are complete and valid however the loop ends,
        including by an exception (the video is finalised on the way out).

    Raises:
        SourceError: the source yields no frame at all.
        InputError: a box does not fit the first frame.
    """
    targets = tracker.multi_tracker if isinstance(tracker, Tracker) else tracker
    began = time.monotonic()
    frames = iter(source)
    first = next(frames, None)
    if first is None:
        raise SourceError(f"no frames could be read from {source.description}")
    initial = _as_box_list(boxes)
    if initial is None and not (detection is not None and detection.start):
        selected = display.select_roi(first.image) if display is not None else None
        if selected is None:
            return LoopSummary(0, 0, source.dropped, time.monotonic() - began, "cancelled")
        initial = [selected]
    starter = _TargetStarter(targets, detection, events) if initial is None and detection is not None else None
    several = initial is None or len(initial) > 1
    sink = _open_video(video_path, source, first)
    processed, tracked, ended_by = 0, 0, "end"
    rate = FrameRate()  # what the overlay shows: frames over the last seconds, not since the model loaded
    frame_size = (first.image.shape[1], first.image.shape[0])
    try:
        targets.clear()
        results = [targets.add(first.image, box) for box in initial or ()]
        frame: Optional[Frame] = first
        while frame is not None:
            if starter is not None and starter.due(processed):
                results += starter.start(frame.image, results)
            _record(frame, results, writers, events, frame_size)
            tracked += bool(results)
            processed += 1
            fps = rate.tick(time.monotonic())
            if progress is not None:
                progress.update(f"dropped {source.dropped}" if source.live else "")
            if _present(frame, results, fps if processed > 1 else None, several, sink, display, targets):
                ended_by = "user"
                break
            frame = next(frames, None)
            if frame is not None:
                results = (_next_results(targets, frame, detection, processed, events, frame_size)
                           if len(targets) else [])
    finally:
        if sink is not None:
            sink.close()
    if starter is not None and starter.started == 0:
        LOG.warning("the detector found nothing to track in the %d frames of %s", processed, source.description)
    if source.failure and ended_by == "end":
        ended_by = source.failure
    return LoopSummary(processed, tracked, source.dropped, time.monotonic() - began, ended_by)
