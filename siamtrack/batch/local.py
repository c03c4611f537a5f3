"""The local engine: a pool of worker processes on this machine.

Each worker builds a tracker once per (model, config) and reuses it for all its jobs; a worker
that dies mid-job (killed, out of memory) is replaced and its job retried.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, Optional

from siamtrack.batch.jobs import (
    ATTEMPTS,
    PARTIAL_SUFFIX,
    Job,
    JobOutcome,
    TrackerCache,
    TrackerSettings,
    run_job,
)

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

