"""OTB layout (also used by UAV123, DTB70 and ../shared/data).

::

    <LabeledSequence>/img/0001.jpg ...          frames, sorted by name
    <LabeledSequence>/groundtruth_rect.txt      one row per frame: x,y,w,h (1-based top-left pixel)

Rows may be separated by commas, tabs or spaces; a row of NaN marks a frame where the target is
absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siamtrack.datasets.base import LabeledSequence, images_in, matched, parse_rows
from siamtrack.errors import InputError


def read_boxes(path: Path, one_based: bool = True) -> np.ndarray:
    """Parse a ground-truth text file into (N, 4) 0-based boxes (NaN rows kept)."""
    boxes = np.array(parse_rows(path), dtype=np.float64).reshape(-1, 4)
    if one_based:
        boxes[:, :2] -= 1.0
    return boxes


def load_sequence(folder: str | Path) -> LabeledSequence:
    """Read one OTB sequence folder."""
    folder = Path(folder)
    truth = folder / "groundtruth_rect.txt"
    if not truth.is_file():
        raise InputError(f"{folder} is not an OTB sequence: no groundtruth_rect.txt")
    image_dir = folder / "img" if (folder / "img").is_dir() else folder
    return matched(folder.name, images_in(image_dir), read_boxes(truth))


def list_sequences(root: str | Path) -> list[Path]:
    """LabeledSequence folders (those with a groundtruth_rect.txt) directly under ``root``, sorted."""
    return sorted(p.parent for p in Path(root).glob("*/groundtruth_rect.txt"))


def load(root: Path) -> list[LabeledSequence]:
    if (root / "groundtruth_rect.txt").is_file():
        return [load_sequence(root)]
    return [load_sequence(folder) for folder in list_sequences(root)]
