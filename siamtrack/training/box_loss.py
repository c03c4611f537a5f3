"""The box head's losses: class, box and quality, each a term of its own so each can be measured.

* **class**: SiamFC's balanced logistic loss on the class logits against the center labels of
  :func:`~siamtrack.training.targets.box_targets` (positives and negatives each carry half).
* **box**: generalised-IoU loss (1 - GIoU) of the predicted distances on every cell inside the
  box; GIoU still pulls a box that does not overlap the target (plain IoU's gradient is zero there).
* **quality**: binary cross-entropy of the quality logit against the IoU its own box reached
  (detached), on the same cells, so at tracking time ``class x quality`` prefers the cell whose
  box is best, and a low quality says the box is doubtful.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..metadata import BOX, CLASS, QUALITY
from .loss import balanced_logistic_loss
from .targets import box_targets, iou_of_distances


@dataclass(frozen=True)
class BoxLossWeights:
    """Factors on the box head's loss terms (class has weight 1).

    Attributes:
        box: on the GIoU loss (SiamFC++ weights its IoU loss 3).
        quality: on the quality loss.
    """

    box: float = 3.0
    quality: float = 1.0


def box_head_losses(outputs: torch.Tensor, targets: torch.Tensor, stride: int,
                    weights: BoxLossWeights = BoxLossWeights()) -> dict[str, torch.Tensor]:
    """The weighted loss terms of a batch of box-head outputs.

    Args:
        outputs: (B, 6, r, r) box-head maps (see :mod:`siamtrack.network.box_head`).
        targets: (B, 4) target center offset from the crop center and size, (dx, dy, w, h), in
            search-crop pixels.
        stride: crop pixels per cell.

    Returns:
        ``{"class": ..., "box": ..., "quality": ...}``, scalars; box and quality are 0 (with a
        gradient path) for a batch without any cell inside a box (hard negatives only).
    """
    truth = box_targets(targets, outputs.shape[-1], stride)
    losses = {"class": balanced_logistic_loss(outputs[:, CLASS], truth.labels)}
    inside = truth.inside
    if not bool(inside.any()):
        zero = outputs[:, BOX].sum() * 0.0
        return {**losses, "box": zero, "quality": zero}
    predicted = outputs[:, BOX].permute(0, 2, 3, 1)[inside]
    expected = truth.distances.permute(0, 2, 3, 1)[inside]
    iou, giou = iou_of_distances(predicted, expected)
    quality = F.binary_cross_entropy_with_logits(outputs[:, QUALITY][inside], iou.detach())
    return {**losses, "box": weights.box * (1.0 - giou).mean(), "quality": weights.quality * quality}
