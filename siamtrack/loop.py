"""The capture loop: frames from a source through the tracker to outputs and a window.

:func:`run_tracking` is what ``siamtrack track`` runs; embedders can call it too, or drive a
:class:`~siamtrack.Tracker` from their own loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Sequence

from .annotate import annotate
from .display import KEY_QUIT, KEY_RESELECT, KEY_RESET, Display
from .outputs import ResultWriter, VideoSink
from .progress import Progress
from .results import Box
from .sources import FrameSource, SourceError
from .tracker import Tracker


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


def run_tracking(source: FrameSource, tracker: Tracker, box: Optional[Box],
                 writers: Sequence[ResultWriter] = (), video_path: Optional[str] = None,
                 display: Optional[Display] = None, progress: Optional[Progress] = None) -> LoopSummary:
    """Track one target through ``source``.

    Args:
        source: an opened frame source (closed by the caller).
        tracker: the tracker to drive (initialised here).
        box: initial box on the first frame; None asks ``display`` to select one.
        writers: result files; one row per tracked frame, flushed as it is written.
        video_path: annotated video to write (every processed frame), or None.
        display: a window for live viewing and keys, or None for headless runs.
        progress: progress line to update, or None.

    Returns:
        A :class:`LoopSummary`. Outputs are complete and valid however the loop ends,
        including by an exception (the video is finalised on the way out).

    Raises:
        SourceError: the source yields no frame at all.
        InputError: the box does not fit the first frame.
    """
    began = time.monotonic()
    frames = iter(source)
    first = next(frames, None)
    if first is None:
        raise SourceError(f"no frames could be read from {source.description}")
    if box is None:
        box = display.select_roi(first.image) if display is not None else None
        if box is None:
            return LoopSummary(0, 0, source.dropped, time.monotonic() - began, "cancelled")
    sink = None
    if video_path is not None:
        height, width = first.image.shape[:2]
        sink = VideoSink(video_path, source.fps or 30.0, (width, height))
    processed = tracked = 0
    ended_by = "end"
    try:
        result = tracker.init(first.image, box)
        frame = first
        while True:
            if result is not None:
                for writer in writers:
                    writer.write(frame.index, frame.timestamp, result)
                tracked += 1
            processed += 1
            if progress is not None:
                progress.update(f"dropped {source.dropped}" if source.live else "")
            if sink is not None or display is not None:
                fps = progress.fps if progress is not None else None
                image = annotate(frame.image, result, fps=fps) if result is not None else frame.image
                if sink is not None:
                    sink.write(image)
                if display is not None:
                    key = display.show(image)
                    if key in KEY_QUIT:
                        ended_by = "user"
                        break
                    if key == KEY_RESET:
                        tracker.reset()
                    elif key == KEY_RESELECT:
                        selected = display.select_roi(frame.image)
                        if selected is not None:
                            tracker.init(frame.image, selected)
            frame = next(frames, None)
            if frame is None:
                break
            result = tracker.update(frame.image) if tracker.initialized else None
    finally:
        if sink is not None:
            sink.close()
    failure = getattr(source, "failure", None)
    if failure and ended_by == "end":
        ended_by = failure
    return LoopSummary(processed, tracked, source.dropped, time.monotonic() - began, ended_by)
