"""Layer arithmetic shared by the backbones."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A convolution computing ``bn(conv(x))`` (BatchNorm in eval mode) in one step.

    Inference only: it bakes in the running statistics, so it saves one pass over the feature
    map and gives the same output as the pair in eval mode.
    """
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("BatchNorm without running statistics cannot be folded")
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,  # type: ignore[arg-type]
                      conv.stride, conv.padding, groups=conv.groups, bias=True)  # type: ignore[arg-type]
    factor = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused.weight.copy_(conv.weight * factor[:, None, None, None])
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    assert fused.bias is not None  # made with bias=True
    fused.bias.copy_((bias - bn.running_mean) * factor + bn.bias)
    return fused
