"""One optimisation step of a Siamese network on a batch of training pairs."""

from __future__ import annotations

import torch

from .loss import balanced_logistic_loss, siamfc_labels

LABEL_RADIUS = 16.0  # search-crop pixels counted as "the target is here" (SiamFC)


def pair_loss(network: torch.nn.Module, exemplars: torch.Tensor, searches: torch.Tensor, offsets: torch.Tensor,
              radius: float = LABEL_RADIUS) -> torch.Tensor:
    """Balanced logistic loss of (B, E, E, 3) exemplars matched in (B, I, I, 3) search crops.

    Goes through ``network(...)`` (``SiameseNet.forward``: search b against kernel b only), so a
    DistributedDataParallel wrapper synchronises the gradients. ``offsets`` (B, 2) place each
    target in its search crop (pixels from the centre).
    """
    responses = network(exemplars, searches)
    metadata = getattr(network, "module", network).metadata
    labels = siamfc_labels(responses.shape[-1], metadata.total_stride, radius, offsets)
    return balanced_logistic_loss(responses, labels)


def train_step(network: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...],
               radius: float = LABEL_RADIUS) -> float:
    """Forward, backward and update on one batch; returns the loss before the update."""
    network.train()
    exemplars, searches, offsets = batch
    loss = pair_loss(network, exemplars, searches, offsets, radius)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
