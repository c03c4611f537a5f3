"""VOT short-term layout.

::

    <root>/list.txt                    sequence names (optional)
    <root>/<seq>/groundtruth.txt       per frame: x,y,w,h or an 8-value polygon x1,y1,...,x4,y4
    <root>/<seq>/color/00000001.jpg    frames (VOT2017 and later), or <seq>/00000001.jpg (VOT2015/16)

Polygons become their axis-aligned bounding rectangles. VOT coordinates are 0-based. Rows of NaN
(or of zeros) mark frames without a box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siamtrack.datasets.base import LabeledSequence, images_in, matched, parse_rows


def polygons_to_boxes(rows: list[list[float]]) -> np.ndarray:
    """4-value rows pass through; 8-value polygons become bounding rectangles."""
    boxes = np.full((len(rows), 4), np.nan)
    for index, row in enumerate(rows):
        if len(row) == 4:
            boxes[index] = row
        else:
            xs, ys = np.array(row[0::2]), np.array(row[1::2])
            boxes[index] = (xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min())
    boxes[(boxes[:, 2] <= 0) | (boxes[:, 3] <= 0)] = np.nan
    return boxes


def load_sequence(folder: Path) -> LabeledSequence:
    boxes = polygons_to_boxes(parse_rows(folder / "groundtruth.txt", columns=(4, 8)))
    image_dir = folder / "color" if (folder / "color").is_dir() else folder
    return matched(folder.name, images_in(image_dir), boxes)


def load(root: Path) -> list[LabeledSequence]:
    if (root / "groundtruth.txt").is_file():
        return [load_sequence(root)]
    names_file = root / "list.txt"
    if names_file.is_file():
        folders = [root / n.strip() for n in names_file.read_text(encoding="utf-8").splitlines() if n.strip()]
    else:
        folders = sorted(p.parent for p in root.glob("*/groundtruth.txt"))
    return [load_sequence(folder) for folder in folders]
