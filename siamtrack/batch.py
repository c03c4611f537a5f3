"""Batch processing: many recorded videos (or image folders), each with its initial boxes.

A job file (CSV with a header row, or JSON lines) lists one job per row: ``source``, ``box``
(``x,y,w,h``; several targets separated by ``;``) and optionally ``id``, ``start``, ``end``,
``config`` and ``model``. Each job writes ``<id>.jsonl`` (rows as ``siamtrack track`` writes them)
into the output folder, under a temporary name renamed when the job completes, so a rerun skips
exactly the jobs that finished. ``summary.json`` and ``summary.csv`` describe every job.

With ``events`` set (``siamtrack batch --events``), each job also writes its targets' events
(`siamtrack.events`) to ``<id>.events.jsonl``.

Two engines run the jobs:

* `run_local`: a pool of worker processes on this machine. Each worker builds a tracker
  once per (model, config) and reuses it for all its jobs. A worker that dies mid-job (killed,
  out of memory) is replaced and its job retried.
* `run_ray`: one Ray task per job on an existing cluster or one started here. Model files
  named by jobs go into Ray's object store once; results travel back to the driver, which
  writes them, so workers need to read the sources but not to share the output folder.

Both retry a failed job once, then record it as failed without stopping the others; errors that
a retry cannot change (a bad box, preset or model: [SiamtrackError][siamtrack.SiamtrackError]) are
not retried.

However a run ends (finished, Ctrl-C, SIGTERM, SIGHUP, a failing worker), `run_batch`
writes the summary, with the jobs it did not finish marked ``interrupted``. A rerun treats a
result file that is empty, damaged or not a siamtrack result as unfinished (kept aside as
``<id>.damaged-<time>.jsonl``) and runs its job again. One output folder takes one batch at a
time: a second batch on it is refused, naming the first one's process.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import multiprocessing
import os
import time
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from .errors import InputError, JobFailed, SiamtrackError
from .files import hidden_sibling, json_text, lock_holder, make_folder, try_lock, write_text_atomically
from .models import builtin_model_name
from .results import Box

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
    events: bool = False  # also write each job's target events to <id>.events.jsonl (siamtrack.events)


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
    from .sources import SourceError, SourceOptions, open_source

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
    from .loop import run_tracking
    from .outputs import ResultWriter
    from .sources import SourceOptions, describe_spec, open_source

    if describe_spec(job.source) not in ("file", "folder"):
        raise InputError(f"{job.source}: batch jobs read video files and image folders, not cameras or streams")
    if not Path(job.source).exists():
        raise InputError(f"{job.source}: no such file or folder")
    from .events import EventLog

    with open_source(job.source, SourceOptions(start=job.start, end=job.end)) as source, \
            ResultWriter(destination, "jsonl", atomic=False) as writer, \
            EventLog(path=events) as log:  # run_job publishes the results file
        summary = run_tracking(source, tracker, list(job.boxes), [writer], events=log if events else None)
    return summary.frames


def _error_line(exc: BaseException) -> str:
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
        from .backends import create_backend
        from .tracker import MultiTracker

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
                          error=_error_line(exc), permanent=isinstance(exc, SiamtrackError))
    return JobOutcome(job.id, "ok", frames, time.monotonic() - began, attempt)


# -- the local pool ---------------------------------------------------------------------------


def _worker_main(connection: Connection, output: str, settings: TrackerSettings) -> None:
    """A pool worker: receives (job, attempt) pairs, answers with outcomes, stops on None.

    Ctrl-C reaches every process of the terminal's group; the main process stops the batch and
    the workers, so a worker ignores it (no traceback from each worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    trackers = TrackerCache(settings)
    while True:
        message = connection.recv()
        if message is None:
            return
        job, attempt = message
        connection.send(run_job(job, Path(output), trackers, attempt))


@dataclass
class _Worker:
    process: Any
    connection: Connection
    job: Optional[Job] = None
    attempt: int = 0


@dataclass
class BatchRun:
    """What `run_batch` did: outcomes in job-file order, and totals."""

    outcomes: list[JobOutcome]
    seconds: float
    engine: str
    workers: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[JobOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def _start_worker(context: Any, output: Path, settings: TrackerSettings) -> _Worker:
    parent, child = context.Pipe()
    process = context.Process(target=_worker_main, args=(child, str(output), settings), daemon=True)
    process.start()
    child.close()
    return _Worker(process, parent)


def run_local(jobs: list[Job], output: Path, settings: TrackerSettings, workers: int,
              on_outcome: Callable[[JobOutcome], None]) -> list[JobOutcome]:
    """Run ``jobs`` on ``workers`` local processes; calls ``on_outcome`` as each job ends."""
    context = multiprocessing.get_context("spawn")  # no torch or OpenCV state inherited by a fork
    pending: deque[tuple[Job, int]] = deque((job, 1) for job in jobs)
    pool = [_start_worker(context, output, settings) for _ in range(max(1, min(workers, len(jobs))))]
    outcomes: list[JobOutcome] = []

    def finish(worker: _Worker, outcome: JobOutcome) -> None:
        job, attempt = worker.job, worker.attempt
        worker.job = None
        if outcome.status == "failed" and not outcome.permanent and attempt < ATTEMPTS and job is not None:
            pending.append((job, attempt + 1))
            return
        outcomes.append(outcome)
        on_outcome(outcome)

    try:
        while pending or any(w.job is not None for w in pool):
            for worker in pool:
                if worker.job is None and pending:
                    worker.job, worker.attempt = pending.popleft()
                    worker.connection.send((worker.job, worker.attempt))
            busy = [w for w in pool if w.job is not None]
            ready = wait([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout=1.0)
            for index, worker in enumerate(pool):
                if worker.job is None:
                    continue
                if worker.connection in ready or worker.connection.poll():
                    try:
                        finish(worker, worker.connection.recv())
                        continue
                    except (EOFError, OSError):
                        pass  # the worker died while answering: handled as a death below
                if worker.process.sentinel in ready or not worker.process.is_alive():
                    worker.process.join(timeout=5)
                    job = worker.job
                    (output / f"{job.id}{PARTIAL_SUFFIX}").unlink(missing_ok=True)
                    finish(worker, JobOutcome(job.id, "failed", attempts=worker.attempt,
                                              error=f"worker process died (exit code {worker.process.exitcode})"))
                    pool[index] = _start_worker(context, output, settings)
    finally:
        for worker in pool:
            try:
                worker.connection.send(None)
            except (OSError, ValueError):
                pass  # already gone
        for worker in pool:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
    return outcomes


# -- Ray --------------------------------------------------------------------------------------


def _pack_model(path: str) -> dict[str, bytes]:
    """A weights file or export folder as {relative name: bytes}, for Ray's object store."""
    root = Path(path)
    if root.is_dir():
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    if not root.is_file():
        raise InputError(f"model {path}: no such file or folder")
    return {root.name: root.read_bytes()}


@functools.lru_cache(maxsize=None)
def _local_model(reference: Any) -> str:
    """In a Ray worker process: a local copy of a model from the object store, written once."""
    import tempfile

    import ray

    files: dict[str, bytes] = ray.get(reference)
    folder = Path(tempfile.mkdtemp(prefix="siamtrack-model-"))
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    only = next(iter(files))
    return str(folder / only) if len(files) == 1 and not only.endswith(".onnx") else str(folder)


@functools.lru_cache(maxsize=None)
def _worker_trackers(settings: TrackerSettings) -> TrackerCache:
    """In a Ray worker process: the trackers shared by every task it runs."""
    return TrackerCache(settings)


def _ray_job(job: Job, settings: TrackerSettings, model: tuple[Any, ...],
             attempt: int) -> tuple[JobOutcome, str, Optional[str]]:
    """Body of one Ray task: returns the outcome, the result rows and the events (JSON lines text).

    ``model`` holds the object reference of the packed model, or is empty for a built-in model
    (which every node has in its siamtrack install; the job names it). The reference travels
    inside a tuple so that Ray passes it as is instead of fetching the object for every task.
    """
    import tempfile

    local = replace(job, model=_local_model(model[0])) if model else job
    with tempfile.TemporaryDirectory(prefix="siamtrack-job-") as folder:
        outcome = run_job(local, Path(folder), _worker_trackers(settings), attempt)
        if outcome.status == "failed":
            raise JobFailed(outcome.error, outcome.permanent)
        events = events_path(Path(folder), job.id)
        return outcome, result_path(Path(folder), job.id).read_text(encoding="utf-8"), (
            events.read_text(encoding="utf-8") if events.is_file() else None)


def ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def run_ray(jobs: list[Job], output: Path, settings: TrackerSettings, address: str,
            on_outcome: Callable[[JobOutcome], None], local_cpus: Optional[int] = None) -> list[JobOutcome]:
    """Run ``jobs`` as Ray tasks: ``address`` is a cluster address (``ray start --head`` prints
    it; ``auto`` finds the local one) or ``local`` to start a Ray instance on this machine.

    Raises:
        InputError: Ray is not installed, or the cluster cannot be reached.
    """
    if not ray_available():
        raise InputError("--ray needs Ray: pip install \"siamtrack[cluster]\"")
    import ray

    try:
        if address == "local":
            ray.init(num_cpus=local_cpus or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise InputError(f"cannot join Ray cluster {address}: {_error_line(exc)}") from None
    try:
        # Files travel through the object store; built-in models are in every node's install.
        names = {name for job in jobs
                 if (name := job.model or settings.model) is not None and builtin_model_name(name) is None}
        models = {name: ray.put(_pack_model(name)) for name in names}
        cuda = settings.device.startswith("cuda")
        # Retries are the driver's (not Ray's max_retries), so that attempts are counted the same
        # way as in the local pool, whether the job raised or its worker died.
        task = ray.remote(num_cpus=settings.threads, num_gpus=1 if cuda else 0, max_retries=0)(_ray_job)
        worker_settings = replace(settings, model=None)

        def submit(job: Job, attempt: int) -> Any:
            model = job.model or settings.model
            if model in models:
                return task.remote(job, worker_settings, (models[model],), attempt)
            return task.remote(replace(job, model=model), worker_settings, (), attempt)

        waiting = {submit(job, 1): (job, 1) for job in jobs}
        outcomes = []
        while waiting:
            done, _ = ray.wait(list(waiting), num_returns=1, timeout=1.0)
            for reference in done:
                job, attempt = waiting.pop(reference)
                try:
                    outcome, rows, events = ray.get(reference)
                    if events is not None:  # before the results: a finished job's events are complete
                        write_text_atomically(events_path(output, job.id), events)
                    write_text_atomically(result_path(output, job.id), rows)
                except Exception as exc:  # the job raised or its worker died: retry once, then record
                    cause = getattr(exc, "cause", None) or exc
                    permanent = cause.permanent if isinstance(cause, JobFailed) else isinstance(cause, SiamtrackError)
                    if attempt < ATTEMPTS and not permanent:
                        waiting[submit(job, attempt + 1)] = (job, attempt + 1)
                        continue
                    outcome = JobOutcome(job.id, "failed", attempts=attempt, error=_error_line(cause),
                                         permanent=permanent)
                outcomes.append(outcome)
                on_outcome(outcome)
        return outcomes
    finally:
        ray.shutdown()


# -- the whole batch --------------------------------------------------------------------------


def _settled(job: Job, output: Path) -> JobOutcome:
    """A job the batch heard nothing back from (it stopped): done if its result file is complete
    (the worker finished it as the stop came), else interrupted."""
    done = result_path(output, job.id)
    frames = finished_frames(done, expected_frames(job)) if done.is_file() else 0
    return JobOutcome(job.id, "ok", frames) if frames else JobOutcome(job.id, "interrupted")


def write_summary(output: Path, run: BatchRun, command: str = "") -> None:
    """``summary.json`` (totals and jobs) and ``summary.csv`` (one row per job), each replaced whole.

    Raises:
        OutputWriteError: a summary cannot be written (a full disk); the one before, if any, stays.
    """
    try:
        _write_summaries(output, run, command)
    except OSError as exc:
        from .outputs import OutputWriteError

        raise OutputWriteError(f"writing the batch summary in {output} failed: {exc.strerror or exc}; the job "
                               f"results written before are in place") from None


def _write_summaries(output: Path, run: BatchRun, command: str) -> None:
    rows = [{**{k: v for k, v in asdict(o).items() if k != "permanent"}, "fps": round(o.fps, 2),
             "seconds": round(o.seconds, 3)} for o in run.outcomes]
    counts = {status: sum(o.status == status for o in run.outcomes)
              for status in ("ok", "failed", "skipped", "interrupted")}
    frames = sum(o.frames for o in run.outcomes if o.status == "ok")
    summary = {"command": command, "engine": run.engine, "workers": run.workers, "jobs": len(run.outcomes),
               **counts, "frames": frames, "seconds": round(run.seconds, 3),
               "frames_per_second": round(frames / run.seconds, 2) if run.seconds > 0 else 0.0,
               "notes": run.notes, "results": rows}
    write_text_atomically(output / "summary.json", json_text(summary, indent=2) + "\n")
    table = io.StringIO()
    writer = csv.DictWriter(table, SUMMARY_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomically(output / "summary.csv", table.getvalue())


class OutputFolderLock:
    """One batch per output folder: an OS lock on ``LOCK_NAME`` inside it, held while the batch runs.

    Raises:
        InputError: another live batch holds the folder (its process id is named).
    """

    def __init__(self, output: Path) -> None:
        self._fd = os.open(output / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
        if not try_lock(self._fd):
            holder = lock_holder(self._fd)
            os.close(self._fd)
            who = f"process {holder}" if holder else "another process"
            raise InputError(f"{output} is the output folder of a batch that is still running ({who}); wait for "
                             f"it or choose another --output")
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        os.close(self._fd)


def _set_aside(path: Path) -> Path:
    """Move an unusable result file out of the way, keeping it for inspection."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
    kept = path.with_name(f"{path.name[:-len(RESULT_SUFFIX)]}.damaged-{stamp}{RESULT_SUFFIX}")
    os.replace(path, kept)
    return kept


def run_batch(jobs: Iterable[Job], output: Path, settings: TrackerSettings, workers: int = 1,
              ray_address: Optional[str] = None, on_outcome: Callable[[JobOutcome], None] = lambda o: None,
              local_ray_cpus: Optional[int] = None, command: str = "", job_file: Optional[Path] = None) -> BatchRun:
    """Run every job not finished by an earlier run, and write the summary; outcomes come back in
    job-file order.

    Jobs whose ``<id>.jsonl`` holds a complete result are ``skipped``; leftover ``.part`` files of
    interrupted runs are removed and their jobs run again, as are jobs whose result file is empty,
    damaged or foreign (set aside first). The summary is written however the run ends; an
    interrupt (KeyboardInterrupt, or the command line's SIGTERM/SIGHUP) is raised again after it.

    Raises:
        InputError: another batch is running on ``output``, or a job's result file would be the
            job file itself.
    """
    jobs = list(jobs)
    make_folder(output, InputError)
    if job_file is not None:
        clash = [job.id for job in jobs if result_path(output, job.id).resolve() == Path(job_file).resolve()]
        if clash:
            raise InputError(f"job {clash[0]}'s result file {result_path(output, clash[0])} would be the job file "
                             f"itself; give the job another id or write to another --output")
    lock = OutputFolderLock(output)
    began = time.monotonic()
    by_id: dict[str, JobOutcome] = {}
    notes: list[str] = []
    engine = "none (all jobs finished earlier)"

    def record(outcome: JobOutcome) -> None:
        by_id[outcome.id] = outcome
        on_outcome(outcome)

    try:
        todo = []
        for job in jobs:
            done = result_path(output, job.id)
            (output / f"{job.id}{PARTIAL_SUFFIX}").unlink(missing_ok=True)
            # An interrupted job's events, under the name EventLog writes through: the job runs
            # again, so they are dropped here rather than kept as a killed run's leftovers.
            hidden_sibling(events_path(output, job.id), "part").unlink(missing_ok=True)
            frames = finished_frames(done, expected_frames(job)) if done.is_file() else 0
            if frames:
                record(JobOutcome(job.id, "skipped", frames))
                continue
            if done.is_file():
                kept = _set_aside(done)
                notes.append(f"{done.name} was empty, damaged or not a siamtrack result: kept as {kept.name}, "
                             f"job {job.id} run again")
            todo.append(job)
        if todo and ray_address is not None:
            engine = f"ray ({ray_address})"
            run_ray(todo, output, settings, ray_address, record, local_ray_cpus)
        elif todo:
            engine = "local"
            run_local(todo, output, settings, workers, record)
    finally:
        outcomes = [by_id.get(job.id) or _settled(job, output) for job in jobs]
        run = BatchRun(outcomes, time.monotonic() - began, engine, workers if ray_address is None else 0, notes)
        try:
            write_summary(output, run, command)
        finally:
            lock.release()
    return run
