"""A head with NanoTrack's output layout: two class logits and four box distances per cell.

The exemplar's feature cells (8 x 8 for a 127 px exemplar at stride 16) are each matched with every
cell of the search features (pixel-wise correlation: one map per exemplar cell, so the towers see
*which part* of the target matched where, not just how much), joined by the search features
themselves (which say where an object's edges are, whatever it is), and two towers of 3x3
convolutions turn that into::

    class: background logit, target logit          (softmax: the probability the target's center is here)
    box:   left, top, right, bottom                (search-crop pixels from the cell, exp() x stride)

per cell of the search grid (16 x 16 for a 255 px crop), cell ``j`` at ``(j - side // 2) * stride``
pixels from the crop center. That is the layout of NanoTrack v2's head, which OpenCV's
``TrackerNano`` decodes; `siamtrack.tracking.box_reader` decodes it the same way, so a network of this
layout is judged by its maps alone, and NanoTrack's maps can be learnt cell by cell
(`siamtrack.training.nano_loss`).

``depth`` sets how far each tower looks: two dense 3x3 layers see 5 x 5 cells, too few to weigh
a look-alike a few cells away against the target; each further layer is a separable unit (a
depth-wise 3x3 then a point-wise 1x1, NanoTrack's own tower unit) that widens the view by two
cells for a small fraction of a dense layer's cost (5 layers see 11 x 11 of the 16 x 16 grid).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from siamtrack.network.box_head import MAX_LOG_DISTANCE, ConvBN, fold_layers, separable
from siamtrack.network.correlation import per_kernel

# The two dense 3x3 layers every tower starts with; deeper towers add separable units.
DENSE_LAYERS = 2

# Initial box distances: 2 cells (32 px at stride 16), about half a typical target's side in the crop.
INITIAL_DISTANCE_CELLS = 2.0


def pixelwise_correlate(kernels: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """Every exemplar cell's dot product with every search cell, divided by the channel count.

    Args:
        kernels: (N * K, C, h, w): crop n's kernels are rows n*K .. n*K+K-1.
        search: (N, C, H, W).

    Returns:
        (N * K, h * w, H, W), in the kernels' order.
    """
    count, channels, height, width = kernels.shape[0], search.shape[1], search.shape[2], search.shape[3]
    repeated = per_kernel(search, count)
    cells = kernels.reshape(count, channels, -1).transpose(1, 2)
    product = torch.bmm(cells, repeated.reshape(count, channels, height * width)) / channels
    return product.reshape(count, -1, height, width)


class NanoHead(nn.Module):
    """Exemplar kernels + search features -> (6, H, W) maps per kernel (see the module docstring).

    Args:
        channels: channels of the backbone's features.
        kernel_cells: exemplar feature cells per kernel (h x w).
        width: channels of each tower.
        stride: search-crop pixels per cell (box distances are in pixels).
        depth: layers of each tower (>= 2; see the module docstring).
        batch_norm: BatchNorm in the towers (False once folded for inference).
    """

    def __init__(self, channels: int, kernel_cells: int, width: int, stride: int, depth: int = DENSE_LAYERS,
                 batch_norm: bool = True) -> None:
        super().__init__()
        if depth < DENSE_LAYERS:
            raise ValueError(f"a nanotrack head's towers need at least {DENSE_LAYERS} layers, got {depth}")
        self.channels, self.kernel_cells, self.width, self.stride = channels, kernel_cells, width, stride
        self.depth, self.batch_norm = depth, batch_norm
        self.class_tower = self._tower()
        self.box_tower = self._tower()
        self.class_out = nn.Conv2d(width, 2, 1)
        self.box_out = nn.Conv2d(width, 4, 1)
        assert self.class_out.bias is not None and self.box_out.bias is not None
        nn.init.normal_(self.class_out.weight, 0.0, 0.01)
        nn.init.zeros_(self.class_out.bias)
        nn.init.normal_(self.box_out.weight, 0.0, 0.01)
        nn.init.constant_(self.box_out.bias, math.log(INITIAL_DISTANCE_CELLS))

    def _tower(self) -> nn.Sequential:
        joined, width, batch_norm = self.kernel_cells + self.channels, self.width, self.batch_norm
        layers: list[nn.Module] = [ConvBN(joined, width, 3, batch_norm=batch_norm),
                                   ConvBN(width, width, 3, batch_norm=batch_norm)]
        layers += [separable(width, batch_norm) for _ in range(self.depth - DENSE_LAYERS)]
        return nn.Sequential(*layers)

    def forward(self, kernels: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        """(N * K, C, h, w) kernels and (N, C, H, W) search features -> (N * K, 6, H, W)."""
        features = per_kernel(search, kernels.shape[0])  # once: the correlation then finds one crop per kernel
        joined = torch.cat([pixelwise_correlate(kernels, features), features], dim=1)
        logits = self.class_out(self.class_tower(joined))
        distances = torch.exp(self.box_out(self.box_tower(joined)).clamp(max=MAX_LOG_DISTANCE)) * self.stride
        return torch.cat([logits, distances], dim=1)

    def fold_batch_norm(self) -> "NanoHead":
        """An inference copy without BatchNorm layers (same outputs in eval mode)."""
        folded = NanoHead(self.channels, self.kernel_cells, self.width, self.stride, self.depth, batch_norm=False)
        for name in ("class_tower", "box_tower"):
            getattr(folded, name).load_state_dict(fold_layers(getattr(self, name)).state_dict())
        folded.class_out.load_state_dict(self.class_out.state_dict())
        folded.box_out.load_state_dict(self.box_out.state_dict())
        return folded.eval()
