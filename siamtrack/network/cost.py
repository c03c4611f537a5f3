"""What one tracking step costs a network: multiply-accumulates, parameters, activation sizes.

Counted by running the backbone once on a search crop with hooks on its leaf modules, so any
backbone is measured the same way; the cross-correlation is added from the shapes (kernel cells x
channels x response cells per kernel), and a box head is counted with hooks as the backbone is
(it runs once per kernel, on that kernel's correlation; NanoTrack's layout correlates pixel-wise
and its head sees the correlation beside the search features). Useful to compare architectures before
timing them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from siamtrack.network.box_head import depthwise_correlate
from siamtrack.network.nano_head import NanoHead
from siamtrack.network.siamese import SiameseNet


@dataclass(frozen=True)
class NetworkCost:
    """Cost of one search crop through a Siamese network.

    Attributes:
        backbone_macs: multiply-accumulates of the backbone's convolutions and linear layers.
        correlation_macs: of correlating one kernel with the crop's features, and of the box head
            on that correlation when the network has one.
        parameters: learnable numbers in the backbone (and head).
        activation_values: values written by the backbone's leaf modules (a memory-traffic proxy).
        head_macs: the box head's part of ``correlation_macs`` (0 for a SiamFC response).
    """

    backbone_macs: int
    correlation_macs: int
    parameters: int
    activation_values: int
    head_macs: int = 0

    def total_macs(self, kernels: int = 1) -> int:
        """Backbone once plus ``kernels`` correlations (3 for the single-pass step's scales)."""
        return self.backbone_macs + kernels * self.correlation_macs


def search_cost(network: SiameseNet) -> NetworkCost:
    """`NetworkCost` of one search crop of the network's instance size."""
    macs, values = [0], [0]

    def count(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            weight = module.weight
            macs[0] += output.numel() * weight.shape[1] * weight.shape[2] * weight.shape[3]
        elif isinstance(module, nn.Linear):
            macs[0] += output.numel() * module.in_features
        values[0] += output.numel()

    meta = network.metadata
    was_training = network.training
    network.eval()
    handles = []
    head_macs = 0
    try:
        with torch.inference_mode():
            exemplar = torch.zeros((1, meta.exemplar_size, meta.exemplar_size, 3), dtype=torch.uint8)
            kernel = network.template(exemplar)  # before the hooks: only the search pass is counted
            leaves = [m for m in network.backbone.modules() if not list(m.children())]
            handles = [m.register_forward_hook(count) for m in leaves]
            crop = torch.zeros((1, meta.instance_size, meta.instance_size, 3), dtype=torch.uint8)
            features = network.backbone(network.preprocess(crop))
            backbone = (macs[0], values[0])
            if network.head is not None:
                handles += [m.register_forward_hook(count) for m in network.head.modules() if not list(m.children())]
                if isinstance(network.head, NanoHead):
                    network.head(kernel, features)
                else:
                    network.head(depthwise_correlate(kernel, features))
                head_macs = macs[0] - backbone[0]
    finally:
        for handle in handles:
            handle.remove()
        network.train(was_training)
    correlation = _correlation_macs(network, kernel, features)
    parameters = sum(p.numel() for p in network.parameters())
    return NetworkCost(int(backbone[0]), correlation + head_macs, int(parameters), int(backbone[1]), head_macs)


def _correlation_macs(network: SiameseNet, kernel: torch.Tensor, features: torch.Tensor) -> int:
    """Multiply-accumulates of matching one kernel with one crop's features."""
    if isinstance(network.head, NanoHead):
        # Pixel-wise: every kernel cell's channel vector against every search cell.
        return int(kernel[0].numel()) * features.shape[-2] * features.shape[-1]
    response_cells = (features.shape[-2] - kernel.shape[-2] + 1) * (features.shape[-1] - kernel.shape[-1] + 1)
    return int(kernel[0].numel()) * response_cells
