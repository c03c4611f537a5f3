"""The Siamese network: one backbone for both branches, joined by correlation.

``template`` runs once per target at init (exemplar crops -> kernel features); ``track`` runs
every frame (search crops + kernels -> output maps). The two are the boundary that exported
graphs and other backends reuse. Both take crops as the tracker cuts them, uint8 BGR in NHWC
layout, and apply the color order and normalisation the weights were trained with.

What ``track`` returns depends on the metadata's ``head``: SiamFC's cross-correlation gives one
response map per kernel, ``(M, r, r)``; the box head (`box_head`) gives class, quality and
box maps per kernel, ``(M, 6, r, r)``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Union

import torch
from torch import nn

from siamtrack.model.architectures import ARCHITECTURES
from siamtrack.model.metadata import ModelMetadata
from siamtrack.network.backbones import AlexNetBackbone
from siamtrack.network.box_head import BoxHead, depthwise_correlate
from siamtrack.network.correlation import cross_correlate
from siamtrack.network.dense import DenseBackbone
from siamtrack.network.efficientnet_lite import EfficientNetLite0S8
from siamtrack.network.nano_head import NanoHead

Backbone = Union[AlexNetBackbone, EfficientNetLite0S8, DenseBackbone]


def build_backbone(metadata: ModelMetadata) -> Backbone:
    """The backbone module the metadata describes, with freshly initialised weights."""
    built: Backbone = ARCHITECTURES[metadata.architecture].build_backbone(metadata)
    return built


class SiameseNet(nn.Module):
    """Backbone + correlation (+ box head), with input conventions taken from the metadata."""

    input_mean: torch.Tensor
    input_std: torch.Tensor

    def __init__(self, metadata: ModelMetadata, backbone: Backbone | None = None) -> None:
        super().__init__()
        self.metadata = metadata
        # nn.Module: inference may swap in a traced copy (see siamtrack.backends.torch_backend).
        built = backbone if backbone is not None else build_backbone(metadata)
        self.backbone: nn.Module = built
        self.head: BoxHead | NanoHead | None = None
        if metadata.head == "box":
            self.head = BoxHead(built.out_channels, metadata.head_width, metadata.total_stride,
                                metadata.response_scale, metadata.response_bias, batch_norm=metadata.batch_norm)
        elif metadata.head == "nanotrack":
            self.head = NanoHead(built.out_channels, metadata.kernel_cells ** 2, metadata.head_width,
                                 metadata.total_stride, metadata.head_depth, batch_norm=metadata.batch_norm)
        # Non-persistent: they follow from the metadata, so they stay out of the state dict.
        self.register_buffer("input_mean", torch.tensor(metadata.input_mean).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("input_std", torch.tensor(metadata.input_std).view(1, 3, 1, 1),
                             persistent=False)

    def preprocess(self, crops: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) BGR crops -> float (N, 3, H, W) network input."""
        images = crops.permute(0, 3, 1, 2).float()
        if self.metadata.input_color == "RGB":
            images = images.flip(1)
        return (images - self.input_mean) / self.input_std

    def template(self, exemplar_crops: torch.Tensor) -> torch.Tensor:
        """Exemplar crops (T, 127, 127, 3) uint8 -> kernels (T, C, h, w).

        Padded backbones keep only the central ``metadata.template_crop`` cells, which hold the
        target and little of the crop border.
        """
        features = self.backbone(self.preprocess(exemplar_crops))
        cells = self.metadata.template_crop
        if cells:
            start = (features.shape[-1] - cells) // 2
            features = features[..., start:start + cells, start:start + cells]
        return features

    def track(self, search_crops: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        """Search crops (N, 255, 255, 3) uint8 + kernels (N * K, C, h, w) -> outputs per kernel.

        Crop n is correlated with kernels n*K .. n*K+K-1 (see `cross_correlate`). Returns
        responses (N * K, r, r), or with the box head its maps (N * K, 6, r, r).
        """
        features = self.backbone(self.preprocess(search_crops))
        if isinstance(self.head, NanoHead):
            return self.head(kernels, features)
        if self.head is not None:
            return self.head(depthwise_correlate(kernels, features))
        return cross_correlate(kernels, features, self.metadata.response_scale,
                               self.metadata.response_bias)

    def forward(self, exemplar_crops: torch.Tensor, search_crops: torch.Tensor,
                with_features: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each search crop against its own exemplar; with ``with_features`` also the backbone's maps
        of both (outputs, exemplar features, search features), which feature distillation learns.
        Training goes through here, so a DistributedDataParallel wrapper sees every parameter used."""
        if not with_features:
            return self.track(search_crops, self.template(exemplar_crops))
        if not isinstance(self.head, NanoHead):
            raise ValueError("with_features needs a nanotrack-layout head")
        kernels = self.template(exemplar_crops)
        features = self.backbone(self.preprocess(search_crops))
        return self.head(kernels, features), kernels, features

    def fold_batch_norm(self) -> "SiameseNet":
        """An inference copy with BatchNorm folded into the convolutions (same outputs in eval)."""
        if not self.metadata.batch_norm:
            return self
        if not isinstance(self.backbone, (AlexNetBackbone, EfficientNetLite0S8, DenseBackbone)):
            raise TypeError(f"cannot fold BatchNorm in a {type(self.backbone).__name__}")
        folded = SiameseNet(replace(self.metadata, batch_norm=False), self.backbone.fold_batch_norm())
        if self.head is not None:
            folded.head = self.head.fold_batch_norm()
        return folded.to(self.input_mean.device)
