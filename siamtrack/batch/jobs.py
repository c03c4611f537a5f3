"""One batch job: the job file (`read_jobs`), tracking one job into its result file
(`run_job`, renamed into place only when complete), and what a finished file holds
(`finished_frames`). Both engines (`siamtrack.batch.local`, `siamtrack.batch.ray_pool`) run jobs
through `run_job`; `siamtrack.batch.run` is the whole batch.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from siamtrack.errors import InputError, SiamtrackError
from siamtrack.results import Box

JOB_FIELDS = ("id", "source", "box", "start", "end", "config", "model")
LOCK_NAME = ".siamtrack-batch.lock"
RESULT_KEYS = {"frame", "time", "target", "box", "score", "lost"}  # what every row of a result file holds
RESULT_SUFFIX = ".jsonl"
PARTIAL_SUFFIX = ".jsonl.part"
EVENTS_SUFFIX = ".events.jsonl"
SUMMARY_FIELDS = ("id", "status", "frames", "fps", "seconds", "attempts", "error")
ATTEMPTS = 2  # a failed job is retried once


@dataclass(frozen=True)
class Job:
    """One video (or image folder) to track.

    Attributes:
        id: names the result file ``<id>.jsonl``; unique within a job file.
        source: video file or image folder (relative paths are relative to the job file).
        boxes: initial box of each target on frame ``start`` (target ids 1, 2, ... in order).
        start, end: frame range (``end`` exclusive; None: to the end).
        config: tracker preset name or JSON file (None: the default).
        model: weights file, exported ONNX folder or built-in model name (None: the default model).
    """

    id: str
    source: str
    boxes: tuple[Box, ...]
    start: int = 0
    end: Optional[int] = None
    config: Optional[str] = None
    model: Optional[str] = None


@dataclass(frozen=True)
class JobOutcome:
    """How one job went: ``status`` is ``ok``, ``failed``, ``skipped`` (finished by an earlier run)
    or ``interrupted`` (the batch stopped before it finished). ``permanent``: the failure is one a
    retry cannot change (bad box, preset or model), so it is not retried."""

    id: str
    status: str
    frames: int = 0
    seconds: float = 0.0
    attempts: int = 0
    error: str = ""
    permanent: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class TrackerSettings:
    """How every worker builds its trackers (a job's ``model`` and ``config`` override the defaults)."""

    model: Optional[str] = None
    config: Optional[str] = None
    backend: str = "auto"
    device: str = "cpu"
    threads: int = 1
    events: bool = False  # also write each job's target events to <id>.events.jsonl (siamtrack.app.events)


# -- job files --------------------------------------------------------------------------------


def _parse_boxes(text: str, where: str) -> tuple[Box, ...]:
    boxes = []
    for part in str(text).split(";"):
        if not part.strip():
            continue
        try:
            values = tuple(float(v) for v in part.split(","))
        except ValueError:
            values = ()
        if len(values) != 4 or not all(math.isfinite(v) for v in values) or values[2] <= 0 or values[3] <= 0:
            raise InputError(f"{where}: box must be x,y,w,h with finite numbers and w, h > 0, got {part.strip()!r}")
        boxes.append(values)
    if not boxes:
        raise InputError(f"{where}: no box")
    return tuple(boxes)  # type: ignore[arg-type]


def _parse_frame(value: Any, name: str, where: str) -> Optional[int]:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InputError(f"{where}: {name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise InputError(f"{where}: {name} must be >= 0, got {number}")
    return number


def _job_from_row(row: dict[str, Any], folder: Path, where: str) -> Job:
    unknown = set(row) - set(JOB_FIELDS)
    if unknown:
        raise InputError(f"{where}: unknown column(s) {', '.join(sorted(map(str, unknown)))}; "
                         f"known: {', '.join(JOB_FIELDS)}")
    source = str(row.get("source") or "").strip()
    if not source:
        raise InputError(f"{where}: no source")
    job_id = str(row.get("id") or "").strip() or Path(source.rstrip("/")).stem
    if job_id.startswith(".") or "/" in job_id or "\\" in job_id:
        raise InputError(f"{where}: id {job_id!r} cannot name a file in the output folder")
    start = _parse_frame(row.get("start"), "start", where) or 0
    end = _parse_frame(row.get("end"), "end", where)
    if end is not None and end <= start:
        raise InputError(f"{where}: end ({end}) must be after start ({start})")
    path = Path(source).expanduser()
    return Job(job_id, str(path if path.is_absolute() else folder / path),
               _parse_boxes(row.get("box") or "", where), start, end,
               str(row["config"]).strip() or None if row.get("config") else None,
               str(row["model"]).strip() or None if row.get("model") else None)


def read_jobs(path: str | Path) -> list[Job]:
    """Read a job file: CSV (``.csv``, header row) or JSON lines (``.jsonl``, ``.json``, ``.ndjson``).

    Raises:
        InputError: the file cannot be read, a row is invalid or two jobs share an id.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (spreadsheet exports) is not a column name
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read job file {path}: {exc.strerror if isinstance(exc, OSError) else exc}") \
            from None
    rows: list[tuple[str, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{number}: each line must be a JSON object")
            if isinstance(row.get("box"), list):  # [x, y, w, h] or [[x, y, w, h], ...]
                boxes = row["box"] if row["box"] and isinstance(row["box"][0], list) else [row["box"]]
                row["box"] = ";".join(",".join(str(v) for v in box) for box in boxes)
            rows.append((f"{path}:{number}", row))
    elif path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        for number, row in enumerate(reader, 2):
            if None in row:
                raise InputError(f"{path}:{number}: more values than columns (quote the box: \"x,y,w,h\" or "
                                 f"\"x,y,w,h;x,y,w,h\" for several targets)")
            rows.append((f"{path}:{number}", dict(row)))
    else:
        raise InputError(f"job file {path}: use .csv or .jsonl")
    jobs = [_job_from_row(row, path.resolve().parent, where) for where, row in rows]
    if not jobs:
        raise InputError(f"job file {path} lists no jobs")
    seen: dict[str, int] = {}
    for job in jobs:
        seen[job.id] = seen.get(job.id, 0) + 1
    repeated = sorted(name for name, count in seen.items() if count > 1)
    if repeated:
        raise InputError(f"job file {path}: ids used more than once: {', '.join(repeated)} "
                         f"(give each job an id column)")
    return jobs


# -- one job ----------------------------------------------------------------------------------


def result_path(output: Path, job_id: str) -> Path:
    return output / f"{job_id}{RESULT_SUFFIX}"


def events_path(output: Path, job_id: str) -> Path:
    return output / f"{job_id}{EVENTS_SUFFIX}"


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a value siamtrack writes")


def finished_frames(path: Path, expected: Optional[int] = None) -> int:
    """Frames in a complete result file (distinct frame numbers of its rows); 0 when the file is
    empty, damaged, cut short or not a siamtrack result file: its rows must be JSON objects with the
    keys ``siamtrack track`` writes, without ``NaN`` or infinities (it writes ``null``), and with
    ``expected`` (the job's frame count, when known) distinct frames."""
    frames = set()
    try:
        with path.open(encoding="utf-8") as rows:
            for line in rows:
                if not line.strip():
                    continue
                row = json.loads(line, parse_constant=_refuse_constant)
                if not isinstance(row, dict) or set(row) != RESULT_KEYS or not isinstance(row["frame"], int):
                    return 0
                frames.add(row["frame"])
    except (OSError, UnicodeDecodeError, ValueError):  # json.JSONDecodeError is a ValueError
        return 0
    if expected is not None and len(frames) != expected:
        return 0
    return len(frames)


def expected_frames(job: Job) -> Optional[int]:
    """The frames a complete result of ``job`` covers (its source's frames in the job's range), or
    None when the source cannot tell (it is gone, or a video without a frame count)."""
    from siamtrack.io.sources import SourceError, SourceOptions, open_source

    try:
        with open_source(job.source, SourceOptions(start=job.start, end=job.end)) as source:
            return source.frame_count
    except SourceError:
        return None


def track_job(job: Job, tracker: Any, destination: Path, events: Optional[Path] = None) -> int:
    """Track ``job`` with ``tracker`` (a MultiTracker), writing rows to ``destination`` (and its
    targets' events to ``events``); returns frames.

    Raises:
        InputError: the source is not a video file or image folder, cannot be read, or a box does
            not fit its first frame.
    """
    from siamtrack.app.loop import run_tracking
    from siamtrack.io.outputs import ResultWriter
    from siamtrack.io.sources import SourceOptions, describe_spec, open_source

    if describe_spec(job.source) not in ("file", "folder"):
        raise InputError(f"{job.source}: batch jobs read video files and image folders, not cameras or streams")
    if not Path(job.source).exists():
        raise InputError(f"{job.source}: no such file or folder")
    from siamtrack.app.events import EventLog

    with open_source(job.source, SourceOptions(start=job.start, end=job.end)) as source, \
            ResultWriter(destination, "jsonl", atomic=False) as writer, \
            EventLog(path=events) as log:  # run_job publishes the results file
        summary = run_tracking(source, tracker, list(job.boxes), [writer], events=log if events else None)
    return summary.frames


def error_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    text = message[-1] if message else ""
    return text if isinstance(exc, SiamtrackError) else f"{type(exc).__name__}: {text}".rstrip(": ")


class TrackerCache:
    """A worker's models, each loaded once per worker; every job gets a tracker of its own on them,
    so its target ids start at 1 whatever the worker ran before."""

    def __init__(self, settings: TrackerSettings) -> None:
        self.settings = settings
        self._backends: dict[Optional[str], Any] = {}

    def get(self, model: Optional[str], config: Optional[str]) -> Any:
        from siamtrack.backends import create_backend
        from siamtrack.tracking.tracker import MultiTracker

        key = model or self.settings.model
        if key not in self._backends:
            self._backends[key] = create_backend(self.settings.backend, key, device=self.settings.device,
                                                 threads=self.settings.threads)
        return MultiTracker(backend=self._backends[key], config=config or self.settings.config)


def run_job(job: Job, output: Path, trackers: TrackerCache, attempt: int) -> JobOutcome:
    """Run one job into ``output/<id>.jsonl`` (renamed into place only when complete)."""
    partial = output / f"{job.id}{PARTIAL_SUFFIX}"
    began = time.monotonic()
    try:
        events = events_path(output, job.id) if trackers.settings.events else None
        frames = track_job(job, trackers.get(job.model, job.config), partial, events)
        os.replace(partial, result_path(output, job.id))
    except Exception as exc:  # recorded in the summary; one job's failure must not stop the others
        partial.unlink(missing_ok=True)
        events_path(output, job.id).unlink(missing_ok=True)  # no events of a job without results
        # siamtrack's own errors say what is wrong with the job (box, model, preset, source):
        # a retry would fail the same way. Anything else (a crash, an I/O hiccup) may not.
        return JobOutcome(job.id, "failed", seconds=time.monotonic() - began, attempts=attempt,
                          error=error_line(exc), permanent=isinstance(exc, SiamtrackError))
    return JobOutcome(job.id, "ok", frames, time.monotonic() - began, attempt)

