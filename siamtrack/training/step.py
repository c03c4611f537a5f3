"""One optimisation step of a Siamese network on a batch of training pairs."""

from __future__ import annotations

import torch

from ..network.siamese import SiameseNet
from ..network.correlation import cross_correlate
from .loss import balanced_logistic_loss, siamfc_labels

LABEL_RADIUS = 16.0  # search-crop pixels counted as "the target is here" (SiamFC)


def pair_loss(network: SiameseNet, exemplars: torch.Tensor, searches: torch.Tensor, offsets: torch.Tensor,
              radius: float = LABEL_RADIUS) -> torch.Tensor:
    """Balanced logistic loss of the responses of (B, E, E, 3) exemplars on (B, I, I, 3) searches.

    ``offsets`` (B, 2) place each target in its search crop (pixels from the centre).
    """
    kernels = network.template(exemplars)
    features = network.backbone(network.preprocess(searches))
    # Each pair is its own target: search b is correlated with kernel b only.
    responses = cross_correlate(kernels, features, network.metadata.response_scale, network.metadata.response_bias)
    labels = siamfc_labels(responses.shape[-1], network.metadata.total_stride, radius, offsets)
    return balanced_logistic_loss(responses, labels)


def train_step(network: SiameseNet, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...],
               radius: float = LABEL_RADIUS) -> float:
    """Forward, backward and update on one batch; returns the loss before the update."""
    network.train()
    exemplars, searches, offsets = batch
    loss = pair_loss(network, exemplars, searches, offsets, radius)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
