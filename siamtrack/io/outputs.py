"""Where results go: an annotated video and per-frame result files.

Every writer checks its destination when it opens (so a bad path fails before any work is done),
writes each frame as it comes, and flushes. How a destination is written (`OutputFile`):

* a regular file (new or existing, also through a symlink, whose target is replaced and the link
  kept) is written to a hidden temporary file beside it (``.NAME.part.EXT``, shortened to fit the
  file system's name limit), locked against other runs, and renamed over the destination when the
  writer closes, only if something was written. A run that fails before its first result leaves
  an existing file untouched; one that is interrupted leaves a valid file holding every frame
  processed so far. An existing file without write permission is refused, not replaced.
* appended (``siamtrack serve``, which runs for days): the destination itself grows row by row,
  locked against other runs; a partial last line left by a killed run is cut when it is opened, and
  a failed write keeps the whole rows in place.
* a path that exists and is not a regular file (a FIFO, a character device such as a null
  device) and ``-`` (standard output, result files only) are written to directly, as ffmpeg does.
  A FIFO that no process reads is an error after `FIFO_WAIT` seconds, not a hang.
* a second run writing the same destination while the first is alive is refused with the first
  one's process id (an OS lock on the temporary file); a run killed outright (SIGKILL, power
  loss) leaves its temporary file, which the next writer keeps under a visible
  ``NAME.recovered-<time>.EXT`` name (`OutputFile.claim`). Killed ``.mkv`` / ``.avi`` videos
  play up to their last flushed frames, ``.mp4`` not at all.
* a write that fails (disk full, I/O error, file too large) ends the run with
  `OutputWriteError`, and what was written is kept as ``NAME.incomplete.EXT``; a video is
  checked when it is closed (it must open and hold the frames written) before it is published.

Use the writers as context managers.

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
import errno
import json
import logging
import math
import os
import stat
import sys
import time
from pathlib import Path
from typing import IO, Optional

import cv2
import numpy as np

from siamtrack.errors import OutputError, OutputWriteError
from siamtrack.files import describe_path, hidden_sibling, lock_holder, path_too_long, sibling, try_lock
from siamtrack.io.formats import RESULT_FORMATS, VIDEO_CODECS, listed
from siamtrack.results import TrackResult

LOG = logging.getLogger(__name__)

# How long to wait for a process to open a FIFO for reading before giving up.
FIFO_WAIT = 10.0


def _check_parent(path: Path) -> None:
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {describe_path(path)}: folder {describe_path(path.parent)} does not exist")


def check_path_fits(path: Path) -> None:
    """Refuse, with one line, a path the operating system would refuse as too long."""
    reason = path_too_long(path)
    if reason:
        raise OutputError(f"cannot write {describe_path(str(path)[:60])}...: {reason}")


class OutputFile:
    """One output destination of a run: checked, locked and published as the module docstring says.

    Args:
        path: the destination as the user named it (``-``: standard output).
        allow_stdout: whether ``-`` means standard output (result files) or a file named ``-``.

    Raises:
        OutputError: the path is too long, its folder is missing, it is read-only, or another live
            run writes it.
    """

    def __init__(self, path: str | Path, allow_stdout: bool = False, append: bool = False) -> None:
        self.path = Path(path)
        self.stdout = allow_stdout and str(path) == "-"
        self.direct = self.stdout
        self.append = append
        self.destination = self.path
        self.partial = self.path
        self._lock_fd: Optional[int] = None
        if self.stdout:
            return
        check_path_fits(self.path)
        try:
            info: Optional[os.stat_result] = os.stat(self.path)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise OutputError(f"cannot write {describe_path(self.path)}: {exc.strerror}") from None
        if info is not None and not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise OutputError(f"cannot write {describe_path(self.path)}: it is a folder")
            self.direct = True  # a FIFO or a device: written in place, never replaced
            return
        if info is not None and not info.st_mode & 0o222:
            raise OutputError(f"{describe_path(self.path)} is read-only; make it writable or remove it to replace it")
        if self.path.is_symlink():  # replace the file the link names; the link stays
            self.destination = Path(os.path.realpath(self.path))
        _check_parent(self.destination)
        if append:
            self.partial = self.destination
            self._lock_fd = self._open_appending()
            return
        self.partial = hidden_sibling(self.destination, "part")
        self._lock_fd = self.claim()

    def _open_appending(self) -> int:
        """Open the destination itself to append to, locked against other runs, its last line made whole
        (a run killed in the middle of a row leaves part of it: that part is cut, every line parses)."""
        try:
            fd = os.open(self.destination, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write {describe_path(self.path)}: {exc.strerror}") from None
        if not try_lock(fd):
            holder = lock_holder(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise OutputError(f"{describe_path(self.path)} is being written by another siamtrack run ({who}); "
                              f"wait for it to finish or write elsewhere")
        _cut_after_last_line(self.destination)
        return fd

    def claim(self) -> int:
        """Create and lock this run's temporary file; returns its descriptor (which holds the lock).

        A temporary file already there is either another live run's (locked: refused, naming its
        process) or one left by a run that was killed before it could rename it, which holds
        what that run wrote (all of it for result files, the frames up to the last flush for an
        ``.mkv`` video); that one is kept as ``NAME.recovered-YYYYmmdd-HHMMSS.EXT`` with a warning.
        """
        for _ in range(3):  # another run may claim or recover the same name between our steps
            try:
                fd = os.open(self.partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                self._recover_leftover()
                continue
            except OSError as exc:
                raise OutputError(f"cannot write {describe_path(self.path)}: {exc.strerror}") from None
            if try_lock(fd):
                return fd
            os.close(fd)
        raise OutputError(f"cannot claim {describe_path(self.partial)}: other runs keep creating it")

    def _recover_leftover(self) -> None:
        try:
            fd = os.open(self.partial, os.O_RDWR)
        except FileNotFoundError:
            return
        try:
            if not try_lock(fd):
                holder = lock_holder(fd)
                who = f"process {holder}" if holder else "another process"
                raise OutputError(f"{describe_path(self.path)} is being written by another siamtrack run "
                                  f"({who}); wait for it to finish or write elsewhere")
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(os.fstat(fd).st_mtime))
            kept = sibling(self.destination, f"recovered-{stamp}")
            os.replace(self.partial, kept)
            LOG.warning("%s was left by an earlier run that was killed; kept as %s", self.partial.name,
                        describe_path(kept))
        finally:
            os.close(fd)

    def open_text(self) -> IO[str]:
        """A text stream to write the output through (UTF-8, ``\n`` newlines)."""
        if self.stdout:
            return sys.stdout
        if not self.direct:
            assert self._lock_fd is not None
            return os.fdopen(os.dup(self._lock_fd), "a" if self.append else "w", newline="", encoding="utf-8")
        return os.fdopen(self._open_direct(), "w", newline="", encoding="utf-8")

    def _open_direct(self) -> int:
        """Open a FIFO or device for writing; a FIFO without a reader is an error after FIFO_WAIT seconds."""
        deadline = time.monotonic() + FIFO_WAIT
        while True:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: a FIFO that no process has open for reading
                    raise OutputError(f"cannot write {describe_path(self.path)}: {exc.strerror}") from None
                if time.monotonic() >= deadline:
                    raise OutputError(f"cannot write {describe_path(self.path)}: no process opened the FIFO for "
                                      f"reading within {FIFO_WAIT:g} s") from None
                time.sleep(0.05)
        os.set_blocking(fd, True)
        return fd

    @property
    def write_path(self) -> Path:
        """Where a writer that opens files itself (OpenCV's video writer) writes."""
        return self.path if self.direct else self.partial

    def appended_size(self) -> int:
        """Bytes in an appended file so far (0 for other outputs); from the open descriptor, no path lookup."""
        if not self.append or self.direct or self._lock_fd is None:
            return 0
        return os.fstat(self._lock_fd).st_size

    def rotate(self) -> Path:
        """An appended file: move what it holds aside as ``NAME.<time>.EXT`` and start it anew, still
        locked by this run; returns where the old part went (``--rotate-mb``)."""
        if not self.append or self.direct:
            raise ValueError("only an appended regular file is rotated")
        now = time.time()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"{int(now * 1000) % 1000:03d}"  # sorts by time
        kept, number = sibling(self.destination, stamp), 1
        while kept.exists():  # two rotations in one second keep both parts
            number += 1
            kept = sibling(self.destination, f"{stamp}-{number}")
        os.replace(self.destination, kept)  # our descriptor follows the moved file
        previous, self._lock_fd = self._lock_fd, self._open_appending()
        if previous is not None:
            os.close(previous)
        return kept

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # drops the lock
            self._lock_fd = None

    def publish(self, written: bool) -> None:
        """Move a complete temporary file into place, or drop it when nothing was written (an appended
        file is already in place)."""
        if not self.direct and not self.append:
            if written:
                os.replace(self.partial, self.destination)
            else:
                self.partial.unlink(missing_ok=True)
        self._release()

    def keep_incomplete(self) -> Optional[Path]:
        """After a failed write: keep what was written as ``NAME.incomplete.EXT`` (None for direct outputs)."""
        kept = None
        if self.append:
            kept = self.destination
        elif not self.direct and self.partial.exists():
            kept = sibling(self.destination, "incomplete")
            os.replace(self.partial, kept)
        self._release()
        return kept

    def failure(self, exc: OSError, written: int, unit: str) -> OutputWriteError:
        """The error to raise for a failed write of a text output, after keeping what was written:
        its complete lines (a row cut off by the failure is dropped, so every line still parses)."""
        if not self.direct:
            _cut_after_last_line(self.partial)
        kept = self.keep_incomplete()
        reason = exc.strerror or type(exc).__name__
        where = f"; the {written} {unit} written before are in {describe_path(kept)}" if kept else ""
        return OutputWriteError(f"writing {describe_path(self.path)} failed: {reason}{where}")


def _cut_after_last_line(path: Path) -> None:
    """Truncate a text file after its last newline (shrinking a file needs no free space)."""
    try:
        with open(path, "rb+") as handle:
            content = handle.read()
            handle.truncate(content.rfind(b"\n") + 1)
    except OSError:
        pass  # best effort: the caller reports the write failure that brought us here


def video_frames(path: Path) -> int:
    """How many frames a video file holds, as OpenCV reads it back (0: it does not open)."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return 0
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if count > 0:
            return count
        frames = 0
        while capture.grab():
            frames += 1
        return frames
    finally:
        capture.release()


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
            raise OutputError(f"cannot write video {describe_path(self.path)}: use {listed(VIDEO_CODECS)}")
        self.size = (int(size[0]), int(size[1]))
        self.frames_written = 0
        self._output = OutputFile(self.path)
        fourcc = cv2.VideoWriter.fourcc(*VIDEO_CODECS[suffix])
        self._writer: Optional[cv2.VideoWriter] = cv2.VideoWriter(str(self._output.write_path), fourcc, float(fps),
                                                                  self.size)
        if not self._writer.isOpened():
            self._output.publish(False)
            raise OutputError(f"cannot write video {describe_path(self.path)} (permission denied, or no encoder)")

    def write(self, frame: np.ndarray) -> None:
        if (frame.shape[1], frame.shape[0]) != self.size:
            raise OutputError(f"frame of {frame.shape[1]}x{frame.shape[0]} for a {self.size[0]}x{self.size[1]} video")
        if self._writer is None:
            raise OutputError(f"{describe_path(self.path)} is already closed")
        self._writer.write(frame)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file (writes its index), check it, and move it into place; safe to call twice.

        Raises:
            OutputWriteError: the finished file does not play back the frames written (OpenCV's
                writer reports no write errors, so a full disk shows only here); what was written
                is kept as ``NAME.incomplete.EXT``.
        """
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        if self.frames_written and not self._output.direct:
            readable = video_frames(self._output.partial)
            if readable < self.frames_written:
                kept = self._output.keep_incomplete()
                raise OutputWriteError(
                    f"writing {describe_path(self.path)} failed: the finished video holds {readable} of the "
                    f"{self.frames_written} frames written (disk full?); what was written is in {describe_path(kept)}")
        self._output.publish(bool(self.frames_written))

    def __enter__(self) -> "VideoSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _finite(value: float) -> Optional[float]:
    """JSON has no NaN or Infinity: such a value is written as null."""
    return value if math.isfinite(value) else None


class ResultWriter:
    """Writes one row per frame (and target) in ``jsonl``, ``csv`` or ``mot`` format.

    Args:
        path: output file; ``-`` is standard output (give ``format`` then).
        format: ``jsonl``, ``csv`` or ``mot``; None picks it from the extension.
        atomic: write through a temporary file renamed at close (see above); False writes ``path``
            directly, for callers that publish the file themselves.
        append: add to ``path`` itself, row by row, so it grows while the run goes on (a server
            that runs for days); a partial last line left by a killed run is cut first. Another
            live run writing it is refused as above.

    Raises:
        OutputError: the destination cannot be written (see `OutputFile`).
    """

    def __init__(self, path: str | Path, format: Optional[str] = None, atomic: bool = True,
                 append: bool = False) -> None:
        self.path = Path(path)
        self.format = format or RESULT_FORMATS.get(self.path.suffix.lower())
        if self.format not in ("jsonl", "csv", "mot"):
            raise OutputError(f"cannot tell the results format of {describe_path(self.path)}: use a "
                              f"{listed(RESULT_FORMATS)} file, or give the format (jsonl, csv or mot)")
        self._output: Optional[OutputFile] = None
        if atomic or append:
            self._output = OutputFile(self.path, allow_stdout=True, append=append)
            self._file: Optional[IO[str]] = self._output.open_text()
        else:
            _check_parent(self.path)
            try:
                self._file = open(self.path, "w", newline="", encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"cannot write {describe_path(self.path)}: {exc.strerror}") from None
        self.rows_written = 0
        self._failed = False
        self._csv = csv.writer(self._file) if self.format == "csv" else None
        if self._csv is not None and not (append and self.path.is_file() and self.path.stat().st_size):
            self._guarded(lambda: self._csv.writerow(["frame", "time", "target", "x", "y", "w", "h", "score",
                                                      "lost"]))

    def _guarded(self, write) -> None:
        """Run one write (and its flush); a failing write ends the output (see the module docstring)."""
        assert self._file is not None, "writer is closed"
        try:
            write()
            self._file.flush()
        except OSError as exc:
            raise self._fail(exc) from None

    def _fail(self, exc: OSError) -> OutputWriteError:
        self._failed = True
        file, self._file = self._file, None
        if file is not None and file is not sys.stdout:
            try:
                file.close()
            except OSError:
                pass  # its buffer cannot be written either; the error below reports the cause
        if self._output is None:
            return OutputWriteError(f"writing {describe_path(self.path)} failed: {exc.strerror}")
        return self._output.failure(exc, self.rows_written, "rows")

    def write(self, frame_index: int, timestamp: float, result: TrackResult, target: int = 1) -> None:
        """Record ``result`` for frame ``frame_index`` (the source's numbering, 0-based)."""
        if self._failed:
            raise OutputWriteError(f"writing {describe_path(self.path)} failed earlier")
        x, y, w, h = (round(float(v), 2) for v in result.box)
        score = round(float(result.score), 4)
        file = self._file
        assert file is not None, "writer is closed"
        if self.format == "jsonl":
            row = {"frame": frame_index, "time": _finite(round(timestamp, 4)), "target": target,
                   "box": [_finite(v) for v in (x, y, w, h)], "score": _finite(score), "lost": bool(result.lost)}
            self._guarded(lambda: file.write(json.dumps(row, allow_nan=False) + "\n"))
        elif self._csv is not None:
            csv_writer = self._csv
            self._guarded(lambda: csv_writer.writerow([frame_index, round(timestamp, 4), target, x, y, w, h, score,
                                                       int(result.lost)]))
        else:
            self._guarded(lambda: file.write(f"{frame_index + 1},{target},{x + 1:.2f},{y + 1:.2f},{w:.2f},{h:.2f},"
                                             f"{score:.4f},-1,-1,-1\n"))
        self.rows_written += 1

    @property
    def size(self) -> int:
        """Bytes in the file so far (an appended file's whole size)."""
        return self._output.appended_size() if self._output is not None else 0

    def rotate(self) -> Optional[Path]:
        """An appended results file: its rows so far go to ``NAME.<time>.EXT`` and the file starts
        anew (None when the file is not appended)."""
        if self._output is None or not self._output.append or self._file is None:
            return None
        self._file.close()
        kept = self._output.rotate()
        self._file = self._output.open_text()
        if self._csv is not None:
            self._csv = csv.writer(self._file)
            self._guarded(lambda: self._csv.writerow(["frame", "time", "target", "x", "y", "w", "h", "score",
                                                      "lost"]))
        return kept

    def close(self) -> None:
        """Finish the file and move it into place; safe to call twice."""
        if self._file is None:
            return
        file, self._file = self._file, None
        if file is not sys.stdout:
            try:
                file.close()
            except OSError as exc:
                self._file = file
                raise self._fail(exc) from None
        if self._output is not None:
            self._output.publish(bool(self.rows_written))

    def __enter__(self) -> "ResultWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
