"""SiamFC's training target: a disc of positives around the target, balanced logistic loss.

The response map is a grid of logits, one per search position. Cells within ``radius``
search-crop pixels of where the target really is are labelled 1, the rest 0; positives and
negatives each carry half of the loss, so the few positive cells are not drowned by the many
negatives (Bertinetto et al., 2016).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def siamfc_labels(size: int, total_stride: int, radius: float, offsets: torch.Tensor) -> torch.Tensor:
    """Binary label maps.

    Args:
        size: side of the response map.
        total_stride: search-crop pixels per response cell.
        radius: positive radius in search-crop pixels (SiamFC: 16).
        offsets: (B, 2) position (dx, dy) of the target center relative to the search-crop center,
            in search-crop pixels (non-zero when training shifts the target off-center).

    Returns:
        (B, size, size) float tensor of 0/1.
    """
    center = (size - 1) / 2
    cells = (torch.arange(size, dtype=torch.float32, device=offsets.device) - center) * total_stride
    dx = cells[None, None, :] - offsets[:, 0, None, None].float()
    dy = cells[None, :, None] - offsets[:, 1, None, None].float()
    return ((dx ** 2 + dy ** 2) <= radius ** 2).float()


def balanced_logistic_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the class-balanced binary cross-entropy of each map.

    Per map, positives share weight 1/2 and negatives share 1/2 (a map without positives or
    negatives gives its class's half to the other).
    """
    batch = logits.shape[0]
    flat_labels = labels.reshape(batch, -1)
    positives = flat_labels.sum(dim=1, keepdim=True)
    negatives = flat_labels.shape[1] - positives
    weight_pos = torch.where(negatives > 0, 0.5, 1.0) / positives.clamp(min=1)
    weight_neg = torch.where(positives > 0, 0.5, 1.0) / negatives.clamp(min=1)
    weights = flat_labels * weight_pos + (1 - flat_labels) * weight_neg
    losses = F.binary_cross_entropy_with_logits(logits.reshape(batch, -1), flat_labels, weight=weights,
                                                reduction="none")
    return losses.sum(dim=1).mean()


def teacher_on_student_grid(teacher: torch.Tensor, teacher_stride: int, student_size: int,
                            student_stride: int, teacher_center: float | None = None) -> tuple[torch.Tensor, slice]:
    """A teacher's maps resampled at the student's cells, where the two overlap.

    Cell ``j`` of a map of stride ``s`` whose cell ``c`` sits at the search crop's center looks
    at ``(j - c) * s`` pixels from the center. The student's cells are centered (``c = (n - 1) /
    2``); the teacher's are too unless ``teacher_center`` says otherwise (NanoTrack's 16 x 16
    grid has its center at cell 8). Only the student's cells inside the teacher's grid get a value.

    Returns:
        ``(values, cells)``: (B, m, m) teacher values at the student's cells ``cells`` (a slice
        of rows and of columns).
    """
    size = teacher.shape[-1]
    center = (size - 1) / 2 if teacher_center is None else teacher_center
    pixels = (torch.arange(student_size, dtype=torch.float32) - (student_size - 1) / 2) * student_stride
    position = pixels / teacher_stride + center  # in teacher cells
    inside = torch.nonzero((position >= -1e-6) & (position <= size - 1 + 1e-6)).flatten()
    if len(inside) == 0:
        raise ValueError("teacher and student response maps do not overlap")
    cells = slice(int(inside[0]), int(inside[-1]) + 1)
    normalised = (position[cells] / (size - 1) * 2 - 1).to(teacher.device)
    grid = torch.stack(torch.meshgrid(normalised, normalised, indexing="xy"), dim=-1)
    grid = grid[None].expand(teacher.shape[0], -1, -1, -1)
    values = F.grid_sample(teacher[:, None].float(), grid, mode="bilinear", align_corners=True)
    return values[:, 0], cells


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """KL divergence from the teacher's to the student's spatial distribution over the same cells.

    Both (B, m, m) maps are turned into distributions over positions (softmax of logits /
    temperature). That carries what a tracker uses from a response, which position beats which,
    and it ignores the teacher's unknown logit offset (a published network's output bias is often
    not part of its weights). Scaled by temperature**2 so its gradient does not shrink with it.
    """
    batch = student.shape[0]
    target = F.softmax(teacher.reshape(batch, -1) / temperature, dim=1)
    log_student = F.log_softmax(student.reshape(batch, -1) / temperature, dim=1)
    return F.kl_div(log_student, target, reduction="batchmean") * temperature ** 2
