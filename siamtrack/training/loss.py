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
        offsets: (B, 2) position (dx, dy) of the target centre relative to the search-crop centre,
            in search-crop pixels (non-zero when training shifts the target off-centre).

    Returns:
        (B, size, size) float tensor of 0/1.
    """
    centre = (size - 1) / 2
    cells = (torch.arange(size, dtype=torch.float32, device=offsets.device) - centre) * total_stride
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
