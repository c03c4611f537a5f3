"""The box head's losses: class, box and quality, each a term of its own so each can be measured.

* **class**: SiamFC's balanced logistic loss on the class logits against the center labels of
  `box_targets` (positives and negatives each carry half).
* **box**: generalised-IoU loss (1 - GIoU) of the predicted distances on every cell inside the
  box; GIoU still pulls a box that does not overlap the target (plain IoU's gradient is zero there).
* **quality**: binary cross-entropy of the quality logit against the IoU its own box reached
  (detached), on the same cells, so at tracking time ``class x quality`` prefers the cell whose
  box is best, and a low quality says the box is doubtful.
* **box_teacher** (optional, `box_teacher_loss`): the same GIoU loss toward a teacher's
  boxes (NanoTrack v2's) instead of the ground truth's, on the cells inside the target's box.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from siamtrack.model.metadata import BOX, CLASS, QUALITY
from siamtrack.training.loss import balanced_logistic_loss, teacher_on_student_grid
from siamtrack.training.targets import box_targets, cell_positions, iou_of_distances


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
        outputs: (B, 6, r, r) box-head maps (see `siamtrack.network.box_head`).
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


def teacher_distances_on_student_grid(distances: torch.Tensor, teacher_stride: int, teacher_center: float,
                                      student_size: int, student_stride: int) -> tuple[torch.Tensor, slice]:
    """A teacher's box distances re-expressed from the student's cells, where the two grids overlap.

    Distances are relative to the cell that predicts them, so they are not resampled directly:
    each teacher cell's box corners (absolute crop pixels) are resampled bilinearly at the
    student's cells, and the distances are measured again from there.

    Args:
        distances: (B, 4, n, n) left, top, right, bottom in crop pixels on the teacher's grid,
            whose cell ``teacher_center`` sits at the crop center.

    Returns:
        ``(distances, cells)``: (B, 4, m, m) on the student's cells ``cells`` (rows and columns).
    """
    grid = (torch.arange(distances.shape[-1], dtype=torch.float32, device=distances.device)
            - teacher_center) * teacher_stride
    left, top, right, bottom = distances.float().unbind(1)
    corners = torch.stack((grid[None, None, :] - left, grid[None, :, None] - top,
                           grid[None, None, :] + right, grid[None, :, None] + bottom), dim=1)
    values, cells = teacher_on_student_grid(corners.flatten(0, 1), teacher_stride, student_size, student_stride,
                                            teacher_center)
    x1, y1, x2, y2 = values.unflatten(0, (len(corners), 4)).unbind(1)
    positions = cell_positions(student_size, student_stride, distances.device)[cells]
    x, y = positions[None, None, :], positions[None, :, None]
    return torch.stack((x - x1, y - y1, x2 - x, y2 - y), dim=1), cells


def box_teacher_loss(outputs: torch.Tensor, targets: torch.Tensor, stride: int, teacher_distances: torch.Tensor,
                     teacher_stride: int, teacher_center: float) -> torch.Tensor:
    """1 - GIoU of the student's boxes against the teacher's on the cells inside the target's box.

    Args:
        outputs: (B, 6, r, r) box-head maps.
        targets: (B, 4) (dx, dy, w, h) in search-crop pixels, which say where the target is.
        stride: the student's crop pixels per cell.
        teacher_distances: (B, 4, n, n) the teacher's distances on its own grid.

    Returns:
        A scalar; 0 (with a gradient path) where no cell qualifies. Cells where the teacher's
        box does not contain the cell (a distance <= 0) are left out: no box is drawn there.
    """
    expected, cells = teacher_distances_on_student_grid(teacher_distances, teacher_stride, teacher_center,
                                                        outputs.shape[-1], stride)
    inside = box_targets(targets, outputs.shape[-1], stride).inside[:, cells, cells]
    usable = inside & (expected.min(dim=1).values > 0)
    predicted = outputs[:, BOX][:, :, cells, cells]
    if not bool(usable.any()):
        return predicted.sum() * 0.0
    _, giou = iou_of_distances(predicted.permute(0, 2, 3, 1)[usable], expected.permute(0, 2, 3, 1)[usable])
    return (1.0 - giou).mean()
