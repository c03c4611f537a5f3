"""A plain dense backbone of stride 16: 3x3 convolutions, BatchNorm and ReLU, nothing else.

Built for the CPUs it runs on: on the 2-core machine a dense 3x3 convolution did more useful work
per second than a depth-wise one, so at equal time a plain stack beats a mobile-style network
with more but cheaper operations. Four stages halve the resolution (a 3x3 stride-2 convolution,
then one at stride 1), and a final 1x1 convolution without ReLU gives the feature maps: 127 px
exemplars become 8 x 8 cells and 255 px search crops 16 x 16, the grid of NanoTrack's backbone,
whose maps these features are trained to reproduce (see `siamtrack.training.nano_loss`).

``widths``: the four stages' channels, then the output channels (e.g. 16, 32, 64, 128, 48).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from siamtrack.model.metadata import ModelMetadata
from siamtrack.network.box_head import ConvBN

STAGES = 4
STRIDE = 2 ** STAGES


class DenseBackbone(nn.Module):
    """Stride-16 stack of 3x3 convolutions (see the module docstring).

    Args:
        widths: channels of the four stages, then of the output features.
        batch_norm: BatchNorm after each 3x3 convolution (False once folded for inference).
    """

    def __init__(self, widths: Sequence[int], batch_norm: bool = True) -> None:
        super().__init__()
        if len(widths) != STAGES + 1:
            raise ValueError(f"the dense backbone needs {STAGES + 1} widths (four stages and the output), "
                             f"got {len(widths)}")
        self.widths = tuple(int(w) for w in widths)
        self.batch_norm = batch_norm
        layers: list[nn.Module] = []
        channels = 3
        for width in self.widths[:STAGES]:
            # 3x3 at stride 2, padding 1: 255 -> 128 -> 64 -> 32 -> 16 and 127 -> 64 -> 32 -> 16 -> 8.
            layers += [ConvBN(channels, width, 3, batch_norm=batch_norm, stride=2),
                       ConvBN(width, width, 3, batch_norm=batch_norm)]
            channels = width
        self.stages = nn.Sequential(*layers)
        self.output = nn.Conv2d(channels, self.widths[-1], 1)

    @property
    def out_channels(self) -> int:
        return self.widths[-1]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.output(self.stages(images))

    @torch.no_grad()
    def fold_batch_norm(self) -> "DenseBackbone":
        """An inference copy without BatchNorm layers (same outputs in eval mode)."""
        folded = DenseBackbone(self.widths, batch_norm=False)
        for index, layer in enumerate(self.stages):
            assert isinstance(layer, ConvBN)
            folded.stages[index] = layer.folded()
        folded.output.load_state_dict(self.output.state_dict())
        return folded.eval()


def dense_backbone(metadata: ModelMetadata) -> DenseBackbone:
    """The backbone a metadata block describes (its `siamtrack.model.architectures` entry)."""
    return DenseBackbone(metadata.widths, batch_norm=metadata.batch_norm)
