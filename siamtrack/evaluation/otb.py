"""Reading sequences in the OTB layout.

::

    <Sequence>/img/0001.jpg ...          frames, sorted by name
    <Sequence>/groundtruth_rect.txt      one row per frame: x,y,w,h (1-based top-left pixel)

Rows may be separated by commas, tabs or spaces; a row of NaN marks a frame where the target is
absent. Boxes are returned in siamtrack's 0-based convention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class Sequence:
    """An annotated sequence.

    Attributes:
        name: folder name.
        frames: image paths in order.
        boxes: (N, 4) float array of 0-based (x, y, w, h); rows of NaN where the target is absent.
    """

    name: str
    frames: tuple[Path, ...]
    boxes: np.ndarray

    @property
    def absent(self) -> np.ndarray:
        """Boolean mask of frames whose target is absent."""
        return ~np.isfinite(self.boxes).all(axis=1)


def read_boxes(path: Path, one_based: bool = True) -> np.ndarray:
    """Parse a ground-truth text file (comma / tab / space separated) into (N, 4) 0-based boxes."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = [f for f in re.split(r"[,\t ]+", line.strip()) if f]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise InputError(f"{path}:{number}: not a list of numbers: {line.strip()!r}") from None
        if len(values) != 4:
            raise InputError(f"{path}:{number}: expected 4 values (x, y, w, h), got {len(values)}")
        rows.append(values)
    boxes = np.array(rows, dtype=np.float64).reshape(-1, 4)
    if one_based:
        boxes[:, :2] -= 1.0
    return boxes


def load_sequence(folder: str | Path) -> Sequence:
    """Read one OTB-layout sequence folder."""
    folder = Path(folder)
    truth = folder / "groundtruth_rect.txt"
    if not truth.is_file():
        raise InputError(f"{folder} is not an OTB sequence: no groundtruth_rect.txt")
    frames = tuple(sorted(p for p in (folder / "img").glob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
    boxes = read_boxes(truth)
    if not frames:
        raise InputError(f"{folder}/img holds no images")
    count = min(len(frames), len(boxes))
    return Sequence(folder.name, frames[:count], boxes[:count])


def list_sequences(root: str | Path) -> list[Path]:
    """Sequence folders (those with a groundtruth_rect.txt) directly under ``root``, sorted."""
    return sorted(p.parent for p in Path(root).glob("*/groundtruth_rect.txt"))
