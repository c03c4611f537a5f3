"""GOT-10k layout.

::

    <root>/list.txt                   sequence names, one per line (optional: else every folder)
    <root>/<seq>/00000001.jpg ...
    <root>/<seq>/groundtruth.txt      x,y,w,h per frame, 0-based (the test split has only frame 1)
    <root>/<seq>/absence.label        1 where the target is absent
    <root>/<seq>/cover.label          visible fraction in eighths, 0..8 (0: fully occluded)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siamtrack.datasets.base import LabeledSequence, images_in, matched, parse_rows, read_flags


def load_sequence(folder: Path) -> LabeledSequence:
    boxes = np.array(parse_rows(folder / "groundtruth.txt"), dtype=np.float64).reshape(-1, 4)
    frames = images_in(folder)
    count = min(len(frames), len(boxes))
    absent = np.zeros(count, bool)
    if (folder / "absence.label").is_file():
        absent |= read_flags(folder / "absence.label", count) == 1
    if (folder / "cover.label").is_file():
        absent |= read_flags(folder / "cover.label", count) == 0
    return matched(folder.name, frames, boxes, absent)


def load(root: Path) -> list[LabeledSequence]:
    if (root / "groundtruth.txt").is_file():
        return [load_sequence(root)]
    names_file = root / "list.txt"
    if names_file.is_file():
        names = [n.strip() for n in names_file.read_text(encoding="utf-8").splitlines() if n.strip()]
        folders = [root / n for n in names]
    else:
        folders = sorted(p.parent for p in root.glob("*/groundtruth.txt"))
    return [load_sequence(folder) for folder in folders]
