"""The network architectures siamtrack knows: one entry each, so adding a backbone is one entry here
(plus its module under `siamtrack.network`).

An entry says how to build the backbone from a model's metadata (a ``module:function`` path,
imported only when a torch network is built, so reading metadata needs no torch), which heads it
trains with, what a training run writes into its metadata, and how the torch backend runs it on
a CPU. ``nanotrack-v2`` is NanoTrack's published graphs, run as they are
(`siamtrack.backends.nanotrack`): nothing to build or train.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from siamtrack.model.metadata import ModelMetadata

IMAGENET_MEAN = (123.675, 116.28, 103.53)  # RGB, 0..255: the statistics ImageNet-trained weights expect
IMAGENET_STD = (58.395, 57.12, 57.375)
IMAGENET_INPUT = {"input_color": "RGB", "input_mean": IMAGENET_MEAN, "input_std": IMAGENET_STD}


@dataclass(frozen=True)
class Architecture:
    """What siamtrack needs to know about one architecture.

    Attributes:
        backbone: ``module:function`` returning the backbone module for a metadata block (fresh
            weights); empty for graphs that are run, never built.
        heads: the heads a training run may put on it.
        training_metadata: the metadata fields a training run sets for it (input conventions,
            stride, BatchNorm epsilon).
        training_fields: the training config's fields copied into its metadata.
        cpu_graph: what ``TorchBackend(cpu_graph="auto")`` runs: ``frozen`` (TorchScript, fused)
            or ``eager``. Fixed per architecture rather than timed at load, so that two loads of one
            model run the same graph and give the same outputs.
        imagenet: whether ``pretrained="imagenet"`` initial weights exist for it.
    """

    backbone: str
    heads: tuple[str, ...]
    training_metadata: Mapping[str, Any] = field(default_factory=dict)
    training_fields: tuple[str, ...] = ()
    cpu_graph: str = "eager"
    imagenet: bool = False

    def build_backbone(self, metadata: "ModelMetadata") -> Any:
        """The backbone module ``metadata`` describes, with freshly initialised weights."""
        if not self.backbone:
            raise ValueError(f"{metadata.architecture} is run from its own graphs, not built")
        module, function = self.backbone.split(":")
        return getattr(importlib.import_module(module), function)(metadata)


ARCHITECTURES: dict[str, Architecture] = {
    "alexnet": Architecture("siamtrack.network.backbones:alexnet_backbone", ("response", "box"),
                            {"bn_eps": 1e-5}, ("response_scale",)),
    "efficientnet-lite0-s8": Architecture("siamtrack.network.efficientnet_lite:lite0_backbone", ("response", "box"),
                                          {"bn_eps": 1e-3, **IMAGENET_INPUT}, ("response_scale", "template_crop"),
                                          cpu_graph="frozen", imagenet=True),
    "dense-s16": Architecture("siamtrack.network.dense:dense_backbone", ("nanotrack",),
                              {"total_stride": 16, **IMAGENET_INPUT}),
    "nanotrack-v2": Architecture("", ("nanotrack",)),
}


def trainable_architectures() -> list[str]:
    """The architectures ``siamtrack train`` can build."""
    return [name for name, entry in ARCHITECTURES.items() if entry.backbone]
