"""Batch processing: many recorded videos (or image folders), each with its initial boxes.

A job file (CSV with a header row, or JSON lines) lists one job per row: ``source``, ``box``
(``x,y,w,h``; several targets separated by ``;``) and optionally ``id``, ``start``, ``end``,
``config`` and ``model``. Each job writes ``<id>.jsonl`` (rows as ``siamtrack track`` writes them)
into the output folder, under a temporary name renamed when the job completes, so a rerun skips
exactly the jobs that finished. ``summary.json`` and ``summary.csv`` describe every job.

With ``events`` set (``siamtrack batch --events``), each job also writes its targets' events
(`siamtrack.app.events`) to ``<id>.events.jsonl``.

Two engines run the jobs:

* `siamtrack.batch.local.run_local`: a pool of worker processes on this machine. Each worker builds a tracker
  once per (model, config) and reuses it for all its jobs. A worker that dies mid-job (killed,
  out of memory) is replaced and its job retried.
* `siamtrack.batch.ray_pool.run_ray`: one Ray task per job on an existing cluster or one started here. Model files
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
import io
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from siamtrack.batch.jobs import (
    LOCK_NAME,
    PARTIAL_SUFFIX,
    RESULT_SUFFIX,
    SUMMARY_FIELDS,
    Job,
    JobOutcome,
    TrackerSettings,
    events_path,
    expected_frames,
    finished_frames,
    result_path,
)
from siamtrack.batch.local import run_local
from siamtrack.batch.ray_pool import run_ray
from siamtrack.errors import InputError
from siamtrack.files import hidden_sibling, json_text, lock_holder, make_folder, try_lock, write_text_atomically


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
        from siamtrack.io.outputs import OutputWriteError

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
