"""The sequence type shared by all readers, box-file parsing, and layout detection."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from siamtrack.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class LabeledSequence:
    """An annotated sequence.

    Attributes:
        name: sequence name (unique within its dataset).
        frames: image paths in order.
        boxes: (N, 4) float array of 0-based (x, y, w, h); NaN rows where no box is given.
        absent: (N,) bool, True where the target is not visible (no box, or labelled absent /
            fully occluded / out of view). Absent frames are left out of accuracy scores and
            used to score the tracker's ``lost`` flag.
    """

    name: str
    frames: tuple[Path, ...]
    boxes: np.ndarray
    absent: np.ndarray = field(default=None)  # type: ignore[arg-type]  # None: from the boxes alone

    def __post_init__(self) -> None:
        no_box = ~np.isfinite(self.boxes).all(axis=1)
        if self.absent is None:
            object.__setattr__(self, "absent", no_box)
        else:
            object.__setattr__(self, "absent", np.asarray(self.absent, bool) | no_box)
        if not (len(self.frames) == len(self.boxes) == len(self.absent)):
            raise InputError(f"sequence {self.name}: {len(self.frames)} frames, {len(self.boxes)} boxes, "
                             f"{len(self.absent)} absence flags")

    @property
    def present_boxes(self) -> np.ndarray:
        """Boxes with absent frames set to NaN (what scoring uses)."""
        boxes = self.boxes.copy()
        boxes[self.absent] = np.nan
        return boxes


def parse_rows(path: Path, columns: tuple[int, ...] = (4,)) -> list[list[float]]:
    """Numbers per non-empty line of ``path``, split on commas, tabs or spaces.

    Args:
        columns: accepted counts of numbers per line.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = [f for f in re.split(r"[,\t ]+", line.strip()) if f]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise InputError(f"{path}:{number}: not a list of numbers: {line.strip()!r}") from None
        if len(values) not in columns:
            wanted = " or ".join(str(c) for c in columns)
            raise InputError(f"{path}:{number}: expected {wanted} values, got {len(values)}")
        rows.append(values)
    return rows


def read_flags(path: Path, count: int) -> np.ndarray:
    """0/1 (or small integer) labels, one per frame, on lines or comma-separated on one line."""
    text = path.read_text(encoding="utf-8").replace(",", " ").split()
    try:
        values = np.array([int(float(v)) for v in text], dtype=np.int64)
    except ValueError:
        raise InputError(f"{path}: labels must be integers") from None
    if len(values) < count:
        raise InputError(f"{path}: {len(values)} labels for {count} frames")
    return values[:count]


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def matched(name: str, frames: list[Path], boxes: np.ndarray, absent: np.ndarray | None = None) -> LabeledSequence:
    """A sequence cut to the shorter of frames and annotations."""
    if not frames:
        raise InputError(f"sequence {name} has no images")
    count = min(len(frames), len(boxes))
    flags = np.zeros(count, bool) if absent is None else absent[:count]  # NaN boxes are added to them
    return LabeledSequence(name, tuple(frames[:count]), boxes[:count], flags)
