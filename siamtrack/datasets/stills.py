"""Still images with boxes, for training pairs made by augmentation.

Two formats:

* ``boxes.json`` as in ``../shared/data/train/stills`` and ``coco``:
  ``{file: {"size": [w, h], "boxes": [[x, y, w, h], ...]}}``, file paths relative to the folder
  holding ``boxes.json`` (or to an ``images/`` folder beside it);
* standard COCO instance annotations (``{"images": [...], "annotations": [...]}``), with
  ``images_dir`` naming the image folder; crowd annotations are left out.

Boxes are 0-based (x, y, w, h), the COCO convention.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from siamtrack.errors import InputError


@dataclass(frozen=True)
class StillImage:
    """One image and the boxes of the objects in it (each object can be a training target)."""

    path: Path
    boxes: np.ndarray  # (K, 4) 0-based x, y, w, h


def load_stills(annotations: str | Path, images_dir: Optional[str | Path] = None) -> list[StillImage]:
    """Read ``boxes.json`` or COCO instance JSON; images without a usable box are left out."""
    annotations = Path(annotations)
    try:
        content = json.loads(annotations.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read box annotations {annotations}: {exc}") from None
    if isinstance(content, dict) and "images" in content and "annotations" in content:
        folder = Path(images_dir) if images_dir else annotations.parent
        files = {image["id"]: image["file_name"] for image in content["images"]}
        boxes: dict[int, list] = {}
        for annotation in content["annotations"]:
            if annotation.get("iscrowd", 0):
                continue
            boxes.setdefault(annotation["image_id"], []).append(annotation["bbox"])
        entries = [(files[image_id], found) for image_id, found in boxes.items() if image_id in files]
    elif isinstance(content, dict):
        try:
            entries = [(name, entry["boxes"]) for name, entry in content.items()]
        except (TypeError, KeyError):
            raise InputError(f"{annotations}: expected {{file: {{'boxes': [...]}}}} or COCO instances") from None
        # Paths are relative to the file's folder (stills: "images/<source>/0001.jpg"), or to an
        # images/ folder beside it (coco: "000000000009.jpg").
        folder = Path(images_dir) if images_dir else annotations.parent
        if not images_dir and entries and not (folder / entries[0][0]).is_file() and (folder / "images").is_dir():
            folder = folder / "images"
    else:
        raise InputError(f"{annotations}: expected a JSON object")
    stills = []
    for name, found in sorted(entries):
        array = np.asarray(found, dtype=np.float64).reshape(-1, 4)
        array = array[(array[:, 2] > 0) & (array[:, 3] > 0)]
        if len(array):
            stills.append(StillImage(folder / name, array))
    if not stills:
        raise InputError(f"{annotations} holds no image with a usable box")
    return stills
