"""Which reader a dataset folder needs (`dataset_layout`) and reading it (`load_dataset`).

Kept apart from `siamtrack.datasets.base` (what every reader shares), so the readers import the
base and this registry imports the readers: one direction.
"""

from __future__ import annotations

from pathlib import Path

from siamtrack.datasets import got10k, lasot, otb, video, vot
from siamtrack.datasets.base import LabeledSequence
from siamtrack.datasets.video import is_video_sequence
from siamtrack.errors import InputError


def dataset_layout(root: Path) -> str:
    """``video``, ``otb``, ``got10k``, ``lasot`` or ``vot`` for a dataset folder (or one sequence folder)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"dataset folder not found: {root}")
    if is_video_sequence(root) or any(is_video_sequence(p.parent) for p in root.glob("*/groundtruth_rect.txt")):
        return "video"
    if (root / "groundtruth_rect.txt").is_file() or any(root.glob("*/groundtruth_rect.txt")):
        return "otb"
    if (root / "absence.label").is_file() or any(root.glob("*/absence.label")):
        return "got10k"
    if (root / "full_occlusion.txt").is_file() or any(root.glob("*/full_occlusion.txt")) \
            or any(root.glob("*/*/full_occlusion.txt")):
        return "lasot"
    if (root / "groundtruth.txt").is_file() or any(root.glob("*/groundtruth.txt")):
        return "vot"
    raise InputError(f"{root} holds no sequences in a known layout (video + groundtruth_rect.txt, OTB "
                     f"img/ + groundtruth_rect.txt, GOT-10k "
                     f"absence.label, LaSOT full_occlusion.txt, VOT groundtruth.txt)")


def load_dataset(root: str | Path, layout: str = "auto") -> list[LabeledSequence]:
    """Read every sequence under ``root`` (or ``root`` itself if it is one sequence)."""
    root = Path(root)
    layout = dataset_layout(root) if layout == "auto" else layout
    readers = {"video": video.load, "otb": otb.load, "got10k": got10k.load, "lasot": lasot.load, "vot": vot.load}
    if layout not in readers:
        raise InputError(f"unknown dataset layout {layout!r}; known: {', '.join(readers)}")
    sequences = readers[layout](root)
    if not sequences:
        raise InputError(f"no {layout} sequences found in {root}")
    return sequences
