"""The Ray engine: one Ray task per job on an existing cluster or one started here.

Model files named by jobs go into Ray's object store once; results travel back to the driver,
which writes them, so workers need to read the sources but not to share the output folder.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional

from siamtrack.batch.jobs import (
    ATTEMPTS,
    Job,
    JobOutcome,
    TrackerCache,
    TrackerSettings,
    error_line,
    events_path,
    result_path,
    run_job,
)
from siamtrack.errors import InputError, JobFailed, SiamtrackError
from siamtrack.files import write_text_atomically
from siamtrack.model.builtin import builtin_model_name

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
        raise InputError(f"cannot join Ray cluster {address}: {error_line(exc)}") from None
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
                    outcome = JobOutcome(job.id, "failed", attempts=attempt, error=error_line(cause),
                                         permanent=permanent)
                outcomes.append(outcome)
                on_outcome(outcome)
        return outcomes
    finally:
        ray.shutdown()

