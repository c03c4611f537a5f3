"""Batch processing (``siamtrack batch``): many recorded videos, each with its initial boxes.

`jobs` reads the job file and runs one job into its result file; `local` runs jobs on a pool of
processes here, `ray_pool` as Ray tasks on a cluster; `run` is the whole batch (resume, summary,
the output folder's lock). See `siamtrack.batch.run` for the guarantees.
"""
