"""One optimisation step of a Siamese network on a batch of training pairs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn.parallel import DistributedDataParallel

from ..network.siamese import SiameseNet
from .loss import balanced_logistic_loss, distillation_loss, siamfc_labels, teacher_on_student_grid

LABEL_RADIUS = 16.0  # search-crop pixels counted as "the target is here" (SiamFC)


@dataclass(frozen=True)
class Teacher:
    """A trained network whose response maps the student learns to reproduce (distillation).

    Attributes:
        network: the teacher, in eval mode; its crops are the student's (same exemplar and
            search sizes), so it sees exactly the pairs the student sees.
        weight: factor on the distillation loss, added to the SiamFC loss.
        temperature: softmax temperature of :func:`distillation_loss`.
    """

    network: SiameseNet
    weight: float
    temperature: float = 1.0


def unwrapped(network: torch.nn.Module) -> SiameseNet:
    """The SiameseNet itself, inside a DistributedDataParallel wrapper or not."""
    inner = network.module if isinstance(network, DistributedDataParallel) else network
    if not isinstance(inner, SiameseNet):
        raise TypeError(f"expected a SiameseNet, got {type(inner).__name__}")
    return inner


def pair_loss(network: torch.nn.Module, exemplars: torch.Tensor, searches: torch.Tensor, offsets: torch.Tensor,
              radius: float = LABEL_RADIUS, teacher: Teacher | None = None) -> torch.Tensor:
    """Balanced logistic loss of (B, E, E, 3) exemplars matched in (B, I, I, 3) search crops.

    Goes through ``network(...)`` (``SiameseNet.forward``: search b against kernel b only), so a
    DistributedDataParallel wrapper synchronises the gradients. ``offsets`` (B, 2) place each
    target in its search crop (pixels from the center). With a ``teacher``, its weighted
    distillation loss is added.
    """
    responses = network(exemplars, searches)
    metadata = unwrapped(network).metadata
    labels = siamfc_labels(responses.shape[-1], metadata.total_stride, radius, offsets)
    loss = balanced_logistic_loss(responses, labels)
    if teacher is not None and teacher.weight > 0:
        with torch.no_grad():
            teacher_responses = teacher.network(exemplars, searches)
        target, cells = teacher_on_student_grid(teacher_responses, teacher.network.metadata.total_stride,
                                                responses.shape[-1], metadata.total_stride)
        loss = loss + teacher.weight * distillation_loss(responses[:, cells, cells], target, teacher.temperature)
    return loss


def train_step(network: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...],
               radius: float = LABEL_RADIUS, teacher: Teacher | None = None) -> float:
    """Forward, backward and update on one batch; returns the loss before the update."""
    network.train()
    exemplars, searches, offsets = batch
    loss = pair_loss(network, exemplars, searches, offsets, radius, teacher)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
