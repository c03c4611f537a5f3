"""LaSOT layout.

::

    <root>/<category>/<category>-<n>/img/00000001.jpg ...
    <root>/<category>/<category>-<n>/groundtruth.txt     x,y,w,h per frame (1-based, as OTB)
    <root>/<category>/<category>-<n>/full_occlusion.txt  0/1 per frame, comma-separated
    <root>/<category>/<category>-<n>/out_of_view.txt     0/1 per frame, comma-separated

A frame fully occluded or out of view counts as absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siamtrack.datasets.base import LabeledSequence, images_in, matched, parse_rows, read_flags


def load_sequence(folder: Path) -> LabeledSequence:
    boxes = np.array(parse_rows(folder / "groundtruth.txt"), dtype=np.float64).reshape(-1, 4)
    boxes[:, :2] -= 1.0
    frames = images_in(folder / "img" if (folder / "img").is_dir() else folder)
    count = min(len(frames), len(boxes))
    absent = np.zeros(count, bool)
    for name in ("full_occlusion.txt", "out_of_view.txt"):
        if (folder / name).is_file():
            absent |= read_flags(folder / name, count) == 1
    return matched(folder.name, frames, boxes, absent)


def load(root: Path) -> list[LabeledSequence]:
    if (root / "groundtruth.txt").is_file():
        return [load_sequence(root)]
    folders = sorted({p.parent for p in root.glob("*/groundtruth.txt")} |
                     {p.parent for p in root.glob("*/*/groundtruth.txt")})
    return [load_sequence(folder) for folder in folders]
