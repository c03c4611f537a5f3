"""Where results go: an annotated video and per-frame result files.

Every writer checks its destination when it opens (so a bad path fails before any work is done),
writes each frame as it comes, and flushes. Writing goes to a hidden temporary file beside the
destination (``.NAME.part.EXT``), renamed over the destination when the writer closes, and only
if something was written: a run that fails before its first result (bad source, bad box) leaves
an existing file untouched, and one that is interrupted leaves a valid file holding every frame
processed so far. A run killed outright (SIGKILL, power loss) leaves its temporary file; the next
writer of the same destination keeps it under a visible ``.recovered-`` name (:func:`claim_partial`).
Killed ``.mkv`` / ``.avi`` videos play up to their last flushed frames, ``.mp4`` not at all.
Use them as context managers.

Result formats (chosen by file extension or explicitly):

* ``jsonl``: one JSON object per frame:
  ``{"frame": 12, "time": 0.48, "target": 1, "box": [x, y, w, h], "score": 0.83, "lost": false}``
  (0-based pixel boxes, as the API returns them).
* ``csv``: ``frame,time,target,x,y,w,h,score,lost`` with a header row.
* ``mot``: MOT-challenge text, ``frame,id,left,top,width,height,conf,-1,-1,-1``, with 1-based
  frame numbers and 1-based pixel coordinates as that format expects.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from pathlib import Path
from typing import IO, Optional

import cv2
import numpy as np

from .errors import InputError
from .results import TrackResult

LOG = logging.getLogger(__name__)

RESULT_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "mot",
                  ".mot": "mot"}
VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
# Containers that stay playable up to the last frames written when the writer is killed (SIGKILL,
# power loss) before it finalises them; MP4's index is written last, so a killed .mp4 plays nothing.
KILL_SAFE_VIDEO = (".mkv", ".avi")


class OutputError(InputError):
    """An output cannot be written."""


def _check_parent(path: Path) -> None:
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {path.parent} does not exist")


def partial_path(path: Path) -> Path:
    """Where ``path`` is written until it is complete (same folder, so the rename is atomic;
    same extension, which picks the video container)."""
    return path.with_name(f".{path.stem}.part{path.suffix}")


def claim_partial(path: Path) -> Path:
    """:func:`partial_path` for a new run. A partial file already there was left by a run that was
    killed (SIGKILL, power loss) before it could rename it; it holds what that run wrote (all of
    it for result files, the frames up to the last flush for an ``.mkv`` video), so it is kept
    under a visible name, ``NAME.recovered-YYYYmmdd-HHMMSS.EXT``, with a warning, never reused."""
    partial = partial_path(path)
    if partial.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(partial.stat().st_mtime))
        kept = path.with_name(f"{path.stem}.recovered-{stamp}{path.suffix}")
        os.replace(partial, kept)
        LOG.warning("%s was left by an earlier run that was killed; kept as %s", partial.name, kept)
    return partial


def _publish(partial: Path, path: Path, written: int) -> None:
    """Rename a finished temporary file into place, or drop it when nothing was written."""
    if written:
        os.replace(partial, path)
    else:
        partial.unlink(missing_ok=True)


class VideoSink:
    """Writes frames to a video file.

    Args:
        path: output file; the extension picks the codec (``.mp4`` mp4v, ``.avi`` MJPG).
        fps: frame rate stored in the file.
        size: (width, height); every frame must have it.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_CODECS:
            raise OutputError(f"cannot write video {self.path}: use one of {', '.join(VIDEO_CODECS)}")
        _check_parent(self.path)
        self.size = (int(size[0]), int(size[1]))
        self.frames_written = 0
        self._partial = claim_partial(self.path)
        fourcc = cv2.VideoWriter.fourcc(*VIDEO_CODECS[suffix])
        self._writer: Optional[cv2.VideoWriter] = cv2.VideoWriter(str(self._partial), fourcc, float(fps), self.size)
        if not self._writer.isOpened():
            self._partial.unlink(missing_ok=True)
            raise OutputError(f"cannot write video {self.path} (permission denied, or no encoder)")

    def write(self, frame: np.ndarray) -> None:
        if (frame.shape[1], frame.shape[0]) != self.size:
            raise OutputError(f"frame of {frame.shape[1]}x{frame.shape[0]} for a {self.size[0]}x{self.size[1]} video")
        if self._writer is None:
            raise OutputError(f"{self.path} is already closed")
        self._writer.write(frame)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file (writes its index) and move it into place; safe to call twice."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            _publish(self._partial, self.path, self.frames_written)

    def __enter__(self) -> "VideoSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ResultWriter:
    """Writes one row per frame (and target) in ``jsonl``, ``csv`` or ``mot`` format.

    Args:
        path: output file.
        format: ``jsonl``, ``csv`` or ``mot``; None picks it from the extension.
        atomic: write through a temporary file renamed at close (see above); False writes ``path``
            directly, for callers that publish the file themselves.
    """

    def __init__(self, path: str | Path, format: Optional[str] = None, atomic: bool = True) -> None:
        self.path = Path(path)
        self.format = format or RESULT_FORMATS.get(self.path.suffix.lower())
        if self.format not in ("jsonl", "csv", "mot"):
            raise OutputError(f"cannot tell the results format of {self.path}: use a .jsonl, .csv or "
                              f".txt (MOT) file, or give the format")
        _check_parent(self.path)
        self._partial = claim_partial(self.path) if atomic else self.path
        try:
            self._file: Optional[IO[str]] = open(self._partial, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror}") from None
        self._csv = csv.writer(self._file) if self.format == "csv" else None
        if self._csv is not None:
            self._csv.writerow(["frame", "time", "target", "x", "y", "w", "h", "score", "lost"])
        self.rows_written = 0

    def write(self, frame_index: int, timestamp: float, result: TrackResult, target: int = 1) -> None:
        """Record ``result`` for frame ``frame_index`` (the source's numbering, 0-based)."""
        assert self._file is not None, "writer is closed"
        x, y, w, h = (round(float(v), 2) for v in result.box)
        score = round(float(result.score), 4)
        if self.format == "jsonl":
            self._file.write(json.dumps({"frame": frame_index, "time": round(timestamp, 4), "target": target,
                                         "box": [x, y, w, h], "score": score, "lost": bool(result.lost)}) + "\n")
        elif self._csv is not None:
            self._csv.writerow([frame_index, round(timestamp, 4), target, x, y, w, h, score, int(result.lost)])
        else:
            self._file.write(f"{frame_index + 1},{target},{x + 1:.2f},{y + 1:.2f},{w:.2f},{h:.2f},"
                             f"{score:.4f},-1,-1,-1\n")
        self._file.flush()
        self.rows_written += 1

    def close(self) -> None:
        """Finish the file and move it into place; safe to call twice."""
        if self._file is not None:
            self._file.close()
            self._file = None
            if self._partial != self.path:
                _publish(self._partial, self.path, self.rows_written)

    def __enter__(self) -> "ResultWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
