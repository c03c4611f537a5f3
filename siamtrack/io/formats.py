"""The file formats the outputs write, defined once: the writers, the command line's help and its
errors, and the documentation all read these. Importing it loads nothing else."""

from __future__ import annotations

from typing import Iterable

# Result files: extension -> format. JSON lines, not JSON: a run appends and flushes a row per
# frame, so a ``.json`` name (which promises one JSON document) is refused rather than misused.
RESULT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "mot", ".mot": "mot"}
# Annotated videos: extension -> FourCC of the codec written into it.
VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
# Containers that stay playable up to the last frames written when the writer is killed (SIGKILL,
# power loss) before it finalises them; MP4's index is written last, so a killed .mp4 plays nothing.
KILL_SAFE_VIDEO = (".mkv", ".avi")


def listed(items: Iterable[str]) -> str:
    """``a, b or c``."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"
