"""Box geometry every stage shares: the context side of a box, its center, the search side.

One copy of each rule, so that the tracker calibrates a target on the crop it will track it on,
training cuts the crops tracking cuts, and a changed ``context_amount`` changes all of them alike.
Importing this module needs only NumPy.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

# SiamFC's context: half the box's perimeter around it (Bertinetto et al., 2016).
SIAMFC_CONTEXT = 0.5


def context_side(width: float, height: float, amount: float = SIAMFC_CONTEXT) -> float:
    """Side of the square region around a ``width`` x ``height`` box with ``amount`` x (w + h) of context:
    ``sqrt((w + p) (h + p))``, ``p = amount (w + h)``, the exemplar crop's side in frame pixels."""
    pad = amount * (width + height)
    return math.sqrt((width + pad) * (height + pad))


def search_side(width: float, height: float, exemplar_size: int, instance_size: int,
                amount: float = SIAMFC_CONTEXT) -> float:
    """Frame pixels a search crop covers: the context side scaled by instance / exemplar size."""
    return context_side(width, height, amount) * instance_size / exemplar_size


def box_center(box: Sequence[float]) -> tuple[float, float]:
    """The center of an (x, y, w, h) box in pixel-center coordinates (pixel i spans i - 0.5 .. i + 0.5)."""
    x, y, w, h = (float(v) for v in box[:4])
    return x + (w - 1) / 2, y + (h - 1) / 2


def center_box(center: Sequence[float], size: Sequence[float]) -> tuple[float, float, float, float]:
    """The (x, y, w, h) box of a center and size: the inverse of `box_center`."""
    (cx, cy), (w, h) = center, size
    return cx - (w - 1) / 2, cy - (h - 1) / 2, w, h


def iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Intersection over union of matching rows of (N, 4) (x, y, w, h) boxes; 0 where a box has no area."""
    first = np.asarray(first, dtype=np.float64).reshape(-1, 4)
    second = np.asarray(second, dtype=np.float64).reshape(-1, 4)
    left = np.maximum(first[:, 0], second[:, 0])
    top = np.maximum(first[:, 1], second[:, 1])
    right = np.minimum(first[:, 0] + first[:, 2], second[:, 0] + second[:, 2])
    bottom = np.minimum(first[:, 1] + first[:, 3], second[:, 1] + second[:, 3])
    intersection = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = first[:, 2] * first[:, 3] + second[:, 2] * second[:, 3] - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = np.where(union > 0, intersection / union, 0.0)
    return np.clip(np.nan_to_num(overlap, nan=0.0), 0.0, 1.0)


def clear_of(boxes: np.ndarray, held: np.ndarray, limit: float = 0.3) -> np.ndarray:
    """Which of (N, 4) ``boxes`` overlap none of (M, 4) ``held`` boxes by IoU above ``limit``: a
    detection a running target already covers belongs to it."""
    boxes, held = np.asarray(boxes, dtype=np.float64).reshape(-1, 4), np.asarray(held, dtype=np.float64).reshape(-1, 4)
    if not len(held):
        return np.ones(len(boxes), dtype=bool)
    return np.array([iou(np.repeat(box[None], len(held), axis=0), held).max() <= limit for box in boxes], dtype=bool)
