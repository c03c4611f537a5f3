"""Events for pipelines: what happened to each target, as it happens.

[EventLog][siamtrack.app.events.EventLog] watches the results of each frame and reports changes, to a callback and/or a
JSON lines file (``siamtrack track --events FILE.jsonl``)::

    {"event": "lost", "target": 2, "frame": 118, "time": 3.93, "box": [x, y, w, h], "score": 0.12, "class": "person"}

Events:

* ``started``: a target appeared (added from a box or a detection); its first box.
* ``lost``: it became lost (`lost`) away from the frame's border.
* ``left``: it became lost and one of the last boxes it was tracked with (not lost; the last
  ``BORDER_WINDOW``) touched the frame's border: it most likely walked out of view.

``lost`` reports the box where the target was last tracked, ``left`` the last of those boxes at the
border: the tracker's box drifts for a few frames before the lost flag is raised (``lost_patience``
frames below the threshold), and may drift back into the frame meanwhile.
* ``reacquired``: it was lost and is tracked again (found by the tracker's own re-detection or
  by a detector, [reacquire][siamtrack.MultiTracker.reacquire]).
* ``ended``: it was removed, or the run ended ([EventLog.close][siamtrack.app.events.EventLog.close]); its last box.

``frame`` and ``time`` are the source's frame index and timestamp; ``class`` is the class name of
the detection it started from (null when it started from a box).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

from siamtrack.files import json_safe
from siamtrack.results import TrackResult

EVENT_KINDS = ("started", "lost", "left", "reacquired", "ended")
# Tracked (not lost) boxes before a loss that may show the target at the border: more than the
# frames a target drifts before it is flagged (lost_patience, 5 by default).
BORDER_WINDOW = 10


@dataclass(frozen=True)
class Event:
    """One change of one target (see the module docstring)."""

    event: str
    target: int
    frame: int
    time: float
    box: tuple[float, float, float, float]
    score: float
    target_class: Optional[str] = None

    def to_dict(self) -> dict:
        values = asdict(self)
        values["class"] = values.pop("target_class")
        values["box"] = [round(v, 2) for v in self.box]
        values["time"] = round(self.time, 4)
        values["score"] = round(self.score, 4)
        return json_safe(values)


def touches_border(box: tuple[float, float, float, float], frame_size: tuple[int, int], margin: float = 2.0) -> bool:
    """Whether a box reaches within ``margin`` px of the frame's edge (or beyond it)."""
    x, y, w, h = box
    width, height = frame_size
    return x <= margin or y <= margin or x + w >= width - margin or y + h >= height - margin


class EventLog:
    """Turns per-frame results into [Event][siamtrack.app.events.Event] objects.

    Args:
        callback: called with each event as it happens.
        path: a JSON lines file to write the events to (written as result files are: see
            `siamtrack.io.outputs`).
        append: add to ``path`` itself, event by event (``siamtrack serve``: see
            [ResultWriter][siamtrack.io.outputs.ResultWriter]).
        classes: class name of each target that has one (e.g. from the detections it started on).
    """

    def __init__(self, callback: Optional[Callable[[Event], None]] = None, path: str | Path | None = None,
                 classes: Optional[Mapping[int, str]] = None, append: bool = False) -> None:
        from siamtrack.io.outputs import OutputFile

        self.callback = callback
        self.classes = dict(classes or {})
        self._output = OutputFile(path, allow_stdout=True, append=append) if path is not None else None
        self._file = self._output.open_text() if self._output is not None else None
        self._written = 0
        self._last: dict[int, TrackResult] = {}
        self._tracked: dict[int, deque[TrackResult]] = {}  # each target's last results that were not lost
        self._frame, self._time = 0, 0.0
        self.events: list[Event] = []

    def _emit(self, kind: str, result: TrackResult) -> None:
        event = Event(kind, result.target_id, self._frame, self._time, result.box, result.score,
                      self.classes.get(result.target_id))
        self.events.append(event)
        if self.callback is not None:
            self.callback(event)
        if self._file is not None and self._output is not None:
            try:
                self._file.write(json.dumps(event.to_dict(), allow_nan=False) + "\n")
                self._file.flush()
            except OSError as exc:
                file, self._file = self._file, None
                try:
                    file.close()
                except OSError:
                    pass  # the failure below is the one to report
                raise self._output.failure(exc, self._written, "events") from None
            self._written += 1

    def observe(self, frame: int, time: float, results: Mapping[int, TrackResult], frame_size: tuple[int, int]) -> None:
        """Compare one frame's results (every current target) with the previous frame's."""
        self._frame, self._time = frame, time
        for target_id, result in results.items():
            before = self._last.get(target_id)
            if before is None:
                self._emit("started", result)
            elif result.lost and not before.lost:
                tracked = self._tracked.get(target_id) or deque([before])
                at_border = [seen for seen in tracked if touches_border(seen.box, frame_size)]
                kind, seen = ("left", at_border[-1]) if at_border else ("lost", tracked[-1])
                self._emit(kind, seen)
            elif before.lost and not result.lost:
                self._emit("reacquired", result)
            if not result.lost:
                self._tracked.setdefault(target_id, deque(maxlen=BORDER_WINDOW)).append(result)
        for target_id in [t for t in self._last if t not in results]:
            self._tracked.pop(target_id, None)
            self._emit("ended", self._last.pop(target_id))
        self._last.update(results)

    @property
    def size(self) -> int:
        """Bytes in an appended events file so far (0 otherwise)."""
        return self._output.appended_size() if self._output is not None else 0

    def rotate(self) -> None:
        """An appended events file: its events so far go to ``NAME.<time>.EXT`` and the file starts
        anew; the targets go on (no ``ended`` events)."""
        if self._output is None or not self._output.append or self._file is None:
            return
        self._file.close()
        self._output.rotate()
        self._file = self._output.open_text()

    def close(self) -> None:
        """End every target still tracked, and finish the file; safe to call twice."""
        for target_id in list(self._last):
            self._emit("ended", self._last.pop(target_id))
        if self._file is not None and self._output is not None:
            file, self._file = self._file, None
            if self._output.stdout:
                return
            try:
                file.close()
            except OSError as exc:
                raise self._output.failure(exc, self._written, "events") from None
            self._output.publish(self._written > 0)

    def __enter__(self) -> "EventLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
