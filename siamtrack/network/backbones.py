"""Fully-convolutional backbones shared by the exemplar and the search branch.

Only the SiamFC AlexNet lives here for now. It has no padding, so its output at each position
depends on a fixed window of the input, which is what makes the cross-correlation of exemplar
and search features translation-equivariant.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from siamtrack.model.metadata import ModelMetadata
from siamtrack.network.layers import fold_conv_bn

# The SiamFC AlexNet: (kernel, stride, groups) of conv1..conv5. Max-pool 3x3/2 follows conv1 and
# conv2; BatchNorm (when present) and ReLU follow conv1..conv4; conv5 is linear.
ALEXNET_LAYERS = ((11, 2, 1), (5, 1, 2), (3, 1, 1), (3, 1, 2), (3, 1, 2))
ALEXNET_PAPER_WIDTHS = (96, 256, 384, 384, 256)


class AlexNetBackbone(nn.Module):
    """SiamFC AlexNet with any channel widths.

    Args:
        widths: output channels of conv1..conv5 (the paper: 96, 256, 384, 384, 256). Each width
            feeding a grouped conv must be even.
        batch_norm: BatchNorm after conv1..conv4. False for networks whose BN was folded into
            the convolutions (and for inference after `fold_batch_norm`).
        bn_eps: BatchNorm epsilon; must match the weights (siamfc-pytorch uses 1e-6).
    """

    def __init__(self, widths: Sequence[int] = ALEXNET_PAPER_WIDTHS, batch_norm: bool = True,
                 bn_eps: float = 1e-5) -> None:
        super().__init__()
        if len(widths) != 5:
            raise ValueError(f"AlexNet needs 5 channel widths, got {len(widths)}")
        self.widths = tuple(int(w) for w in widths)
        self.batch_norm = batch_norm
        self.bn_eps = bn_eps
        in_channels = 3
        for index, ((kernel, stride, groups), width) in enumerate(zip(ALEXNET_LAYERS, self.widths)):
            if in_channels % groups or width % groups:
                raise ValueError(f"conv{index + 1} has {groups} groups, so its input ({in_channels}) "
                                 f"and output ({width}) channels must divide by {groups}")
            self.add_module(f"conv{index + 1}", nn.Conv2d(in_channels, width, kernel, stride,
                                                          groups=groups))
            if batch_norm and index < 4:
                self.add_module(f"bn{index + 1}", nn.BatchNorm2d(width, eps=bn_eps))
            in_channels = width
        self.pool = nn.MaxPool2d(3, 2)

    @property
    def out_channels(self) -> int:
        return self.widths[-1]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images
        for index in range(1, 6):
            x = getattr(self, f"conv{index}")(x)
            if index == 5:
                break
            if self.batch_norm:
                x = getattr(self, f"bn{index}")(x)
            x = torch.relu_(x)  # in place: saves a pass over the feature map
            if index <= 2:
                x = self.pool(x)
        return x

    @torch.no_grad()
    def fold_batch_norm(self) -> "AlexNetBackbone":
        """Fold each BatchNorm's running statistics into the conv before it (inference only).

        Returns a new module without BN that computes the same function in eval mode, one
        fewer pass over every feature map.
        """
        folded = AlexNetBackbone(self.widths, batch_norm=False)
        for index in range(1, 6):
            conv = getattr(self, f"conv{index}")
            if self.batch_norm and index < 5:
                conv = fold_conv_bn(conv, getattr(self, f"bn{index}"))
            folded.get_submodule(f"conv{index}").load_state_dict(conv.state_dict())
        return folded.eval()


def alexnet_backbone(metadata: ModelMetadata) -> AlexNetBackbone:
    """The AlexNet backbone a metadata block describes (its `siamtrack.model.architectures` entry)."""
    return AlexNetBackbone(metadata.widths, batch_norm=metadata.batch_norm, bn_eps=metadata.bn_eps)


def infer_alexnet_widths(state_dict: dict[str, torch.Tensor], prefix: str = "conv") -> tuple[int, ...]:
    """Channel widths of conv1..conv5, read from a state dict of an AlexNetBackbone."""
    return tuple(int(state_dict[f"{prefix}{i}.weight"].shape[0]) for i in range(1, 6))
