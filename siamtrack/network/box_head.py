"""Target estimation on one search crop: classification, quality and box maps (SiamFC++-style).

SiamFC's response says *where* the exemplar matches best; its size comes from searching scales.
This head reads the same correlation and says, for every response cell, how likely the target's
center is there (classification), how good the box drawn from there is (quality) and the box
itself (distances from the cell to the box's left, top, right and bottom edges), so one search
crop gives position, size and aspect ratio.

Layout, for an exemplar-feature kernel of C channels::

    depth-wise correlation (C, r, r)
      +-- 1x1 "SiamFC" skip ------------------------------------+
      +-- neck 1x1 -> class tower (2 separable convs) -> 1x1 ---+-> class logit
      +-- neck 1x1 -> box tower (2 separable convs) -+-> 1x1 -> quality logit
                                                     +-> 1x1 -> exp() x stride -> l, t, r, b

The correlation enters the head multiplied by the model's response scale (SiamFC's 0.001: raw
correlations run into the thousands, which as inputs would give the head's first layers huge
gradients). The skip starts as the channel sum of that, SiamFC's response itself, so a head put on
a trained SiamFC backbone starts out localising as that network did and the towers learn
corrections; the class tower's output layer starts at zero.
Separable convolutions keep the head at a few M multiply-accumulates (a 64-wide head on a 17 x
17 map: about 6 M, against the backbone's 124 M), as NanoTrack's towers do.

Outputs, per kernel: ``(6, r, r)`` = class logit, quality logit, then left, top, right, bottom
(`siamtrack.model.metadata.BOX_OUTPUTS`) in search-crop pixels from the cell's position (cell
``j`` sits ``(j - (r - 1) / 2) * stride`` pixels from the crop center).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from siamtrack.network.correlation import per_kernel
from siamtrack.network.layers import fold_conv_bn

# Box distances are exp(raw) x stride; the raw value is clamped so a diverging output cannot
# overflow (exp(6) x 8 px is over 3,000 px, past any search crop).
MAX_LOG_DISTANCE = 6.0
# Initial distances: 4 cells, about half a typical target's side in the crop (64 px at stride 8).
INITIAL_DISTANCE_CELLS = 4.0


def depthwise_correlate(kernels: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """Channel-by-channel correlation of each crop's K kernels with its search features.

    Args:
        kernels: (N * K, C, h, w): crop n's kernels are rows n*K .. n*K+K-1.
        search: (N, C, H, W).

    Returns:
        (N * K, C, H - h + 1, W - w + 1), in the kernels' order.
    """
    channels, height, width = search.shape[1:]
    grouped = per_kernel(search, kernels.shape[0]).reshape(1, -1, height, width)
    weights = kernels.reshape(-1, 1, *kernels.shape[-2:])
    output = F.conv2d(grouped, weights, groups=weights.shape[0])
    return output.reshape(kernels.shape[0], channels, *output.shape[-2:])


def depthwise_correlate_per_crop(kernels: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """`depthwise_correlate` as h x w shifted multiply-adds (what the exported graph uses).

    A convolution whose weights are a run-time input is poorly supported by TensorRT and several
    ONNX runtimes; elementwise products of static slices run everywhere.

    Args:
        kernels: (N, K, C, h, w).
        search: (N, C, H, W).

    Returns:
        (N * K, C, H - h + 1, W - w + 1).
    """
    count, per_crop, channels, kernel_h, kernel_w = kernels.shape
    out_h, out_w = search.shape[-2] - kernel_h + 1, search.shape[-1] - kernel_w + 1
    features = search[:, None]  # (N, 1, C, H, W): broadcast over the K kernels
    output = kernels[..., 0:1, 0:1] * features[..., 0:out_h, 0:out_w]
    for i in range(kernel_h):
        for j in range(kernel_w):
            if i or j:
                output = output + kernels[..., i:i + 1, j:j + 1] * features[..., i:i + out_h, j:j + out_w]
    return output.reshape(count * per_crop, channels, out_h, out_w)


class ConvBN(nn.Module):
    """Convolution, optional BatchNorm, optional ReLU; folds its BatchNorm for inference."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 1, groups: int = 1,
                 batch_norm: bool = True, relu: bool = True, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, groups=groups,
                              bias=not batch_norm)
        self.bn = nn.BatchNorm2d(out_channels) if batch_norm else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return torch.relu(x) if self.relu else x

    def folded(self) -> "ConvBN":
        """The same function with BatchNorm folded into the convolution (eval mode)."""
        conv = self.conv
        copy = ConvBN(conv.in_channels, conv.out_channels, conv.kernel_size[0], conv.groups,
                      batch_norm=False, relu=self.relu, stride=conv.stride[0])
        copy.conv.load_state_dict((fold_conv_bn(conv, self.bn) if self.bn is not None else conv).state_dict())
        return copy


def separable(width: int, batch_norm: bool) -> nn.Sequential:
    """Depth-wise 3x3 then point-wise 1x1, each with BatchNorm and ReLU (NanoTrack's tower unit)."""
    return nn.Sequential(ConvBN(width, width, 3, groups=width, batch_norm=batch_norm),
                         ConvBN(width, width, 1, batch_norm=batch_norm))


class BoxHead(nn.Module):
    """Depth-wise correlation maps -> (6, r, r) class, quality and box maps per kernel.

    Args:
        channels: channels of the backbone's features (and of the correlation).
        width: channels of the neck and towers.
        stride: search-crop pixels per response cell (box distances are in pixels).
        response_scale, response_bias: the SiamFC response's scale (applied to the correlation
            on its way in) and offset (the class skip's initial bias), so the head starts from the
            backbone's own localisation.
        batch_norm: BatchNorm in the neck and towers (False once folded for inference).
    """

    def __init__(self, channels: int, width: int, stride: int, response_scale: float = 0.001,
                 response_bias: float = 0.0, batch_norm: bool = True) -> None:
        super().__init__()
        self.channels, self.width, self.stride = channels, width, stride
        self.response_scale, self.response_bias = response_scale, response_bias
        self.batch_norm = batch_norm
        self.class_neck = ConvBN(channels, width, 1, batch_norm=batch_norm)
        self.box_neck = ConvBN(channels, width, 1, batch_norm=batch_norm)
        self.class_tower = nn.Sequential(separable(width, batch_norm), separable(width, batch_norm))
        self.box_tower = nn.Sequential(separable(width, batch_norm), separable(width, batch_norm))
        self.class_out = nn.Conv2d(width, 1, 1)
        self.class_skip = nn.Conv2d(channels, 1, 1)
        self.quality_out = nn.Conv2d(width, 1, 1)
        self.box_out = nn.Conv2d(width, 4, 1)
        assert self.class_out.bias is not None and self.class_skip.bias is not None and self.box_out.bias is not None
        nn.init.zeros_(self.class_out.weight)
        nn.init.zeros_(self.class_out.bias)
        nn.init.ones_(self.class_skip.weight)
        nn.init.constant_(self.class_skip.bias, response_bias)
        nn.init.normal_(self.box_out.weight, 0.0, 0.01)
        nn.init.constant_(self.box_out.bias, math.log(INITIAL_DISTANCE_CELLS))

    def forward(self, correlation: torch.Tensor) -> torch.Tensor:
        """(M, C, r, r) depth-wise correlation -> (M, 6, r, r) outputs (see the module docstring)."""
        correlation = correlation * self.response_scale
        class_features = self.class_tower(self.class_neck(correlation))
        box_features = self.box_tower(self.box_neck(correlation))
        logit = self.class_out(class_features) + self.class_skip(correlation)
        quality = self.quality_out(box_features)
        distances = torch.exp(self.box_out(box_features).clamp(max=MAX_LOG_DISTANCE)) * self.stride
        return torch.cat([logit, quality, distances], dim=1)

    def fold_batch_norm(self) -> "BoxHead":
        """An inference copy without BatchNorm layers (same outputs in eval mode)."""
        folded = BoxHead(self.channels, self.width, self.stride, self.response_scale, self.response_bias,
                         batch_norm=False)
        folded.class_neck = self.class_neck.folded()
        folded.box_neck = self.box_neck.folded()
        folded.class_tower = fold_layers(self.class_tower)
        folded.box_tower = fold_layers(self.box_tower)
        for name in ("class_out", "class_skip", "quality_out", "box_out"):
            getattr(folded, name).load_state_dict(getattr(self, name).state_dict())
        return folded.eval()


def fold_layers(layers: nn.Sequential) -> nn.Sequential:
    """Layers (`ConvBN`, or Sequentials of them such as `separable` units) with every BatchNorm folded."""
    folded: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, nn.Sequential):
            folded.append(fold_layers(layer))
        else:
            assert isinstance(layer, ConvBN)
            folded.append(layer.folded())
    return nn.Sequential(*folded)
