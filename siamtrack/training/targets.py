"""What the box head should output for a training pair, from the target's box in the search crop.

Every response cell ``j`` looks at the search-crop point ``(j - (r - 1) / 2) * stride`` pixels
from the crop center (the same convention the tracker reads the maps with). For a target box in
crop pixels:

* **class**: 1 where the cell lies in the central part of the box (an ellipse with half the
  box's half-sides, at least one stride across), else 0. Only the middle counts as "the target
  is here", so the map peaks where the tracker should put the center; the rest of the box is
  neither taught as background nor as target by this label, only by the quality.
* **inside**: the cells inside the box: these learn the box distances and the quality
  (SiamFC++: every location inside the box is a regression sample).
* **distances**: left, top, right, bottom from the cell to the box's edges, in crop pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Half-sides of the class ellipse, as a fraction of the box's half-sides.
CENTER_FRACTION = 0.5


@dataclass(frozen=True)
class BoxTargets:
    """Training targets for a batch of box-head outputs.

    Attributes:
        labels: (B, r, r) 0/1 class labels.
        inside: (B, r, r) bool, cells inside the box.
        distances: (B, 4, r, r) left, top, right, bottom in crop pixels (meaningful where inside).
    """

    labels: torch.Tensor
    inside: torch.Tensor
    distances: torch.Tensor


def cell_positions(size: int, stride: int, device: torch.device | None = None,
                   center: float | None = None) -> torch.Tensor:
    """Offsets from the crop center, in crop pixels, of a response map's cells along one axis.

    ``center`` is the cell at the crop's center: ``(size - 1) / 2`` (None) for siamtrack's own
    heads, ``size // 2`` for the nanotrack layout."""
    middle = (size - 1) / 2 if center is None else center
    return (torch.arange(size, dtype=torch.float32, device=device) - middle) * stride


def box_targets(targets: torch.Tensor, size: int, stride: int, center: float | None = None) -> BoxTargets:
    """Targets for (B, 4) boxes given as (dx, dy, w, h): center offset from the crop center and size.

    Args:
        targets: target center offset and size in search-crop pixels (the pair sampler's output).
        size: side r of the output maps.
        stride: crop pixels per cell.
        center: the cell at the crop's center (`cell_positions`).
    """
    cells = cell_positions(size, stride, targets.device, center)
    dx, dy, w, h = (targets[:, i, None, None].float() for i in range(4))
    x = cells[None, None, :] - dx  # (B, 1, r): cell x relative to the target center
    y = cells[None, :, None] - dy  # (B, r, 1)
    left, right = x + w / 2, w / 2 - x
    top, bottom = y + h / 2, h / 2 - y
    distances = torch.stack(torch.broadcast_tensors(left, top, right, bottom), dim=1)
    inside = distances.min(dim=1).values > 0
    half_w = torch.clamp(w / 2 * CENTER_FRACTION, min=stride)
    half_h = torch.clamp(h / 2 * CENTER_FRACTION, min=stride)
    labels = ((x / half_w) ** 2 + (y / half_h) ** 2 <= 1).float()
    return BoxTargets(labels, inside, distances)


def iou_of_distances(predicted: torch.Tensor, target: torch.Tensor,
                     eps: float = 1e-6) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and generalised IoU of boxes given as distances from the same cell.

    Args:
        predicted, target: (..., 4) left, top, right, bottom (positive inside the box).

    Returns:
        ``(iou, giou)``, each of shape (...).
    """
    p_left, p_top, p_right, p_bottom = predicted.unbind(-1)
    t_left, t_top, t_right, t_bottom = target.unbind(-1)
    p_area = (p_left + p_right) * (p_top + p_bottom)
    t_area = (t_left + t_right) * (t_top + t_bottom)
    overlap_w = (torch.minimum(p_left, t_left) + torch.minimum(p_right, t_right)).clamp(min=0)
    overlap_h = (torch.minimum(p_top, t_top) + torch.minimum(p_bottom, t_bottom)).clamp(min=0)
    overlap = overlap_w * overlap_h
    union = p_area + t_area - overlap
    iou = overlap / (union + eps)
    hull = ((torch.maximum(p_left, t_left) + torch.maximum(p_right, t_right))
            * (torch.maximum(p_top, t_top) + torch.maximum(p_bottom, t_bottom)))
    giou = iou - (hull - union) / (hull + eps)
    return iou, giou
