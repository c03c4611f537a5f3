"""One optimisation step of a Siamese network on a batch of training pairs.

The loss is a sum of named terms, each reported on its own, so a log shows what every training
signal contributes:

* ``class`` (and, with the box head, ``box`` and ``quality``): ground truth. SiamFC's response
  learns the balanced logistic loss on a disc of positives; the box head learns
  `box_loss`.
* ``distill``: a trained Siamese network's response maps (`Teacher`), matched as spatial
  distributions (`loss.distillation_loss`) by the response or the class map.
* ``class_teacher``: NanoTrack's classification map (`ClassTeacher`), learnt by the
  response or the class map with the balanced logistic loss, the teacher's probabilities as
  soft labels.
* ``box_teacher``: NanoTrack's boxes from the same call, learnt by the box head's distances
  (`box_loss.box_teacher_loss`).

A nanotrack-layout network learns its own set (`nano_loss`): ground truth, NanoTrack's
class and box maps cell by cell, its head on the student's own features (``head_teacher``), and
NanoTrack's backbone maps (``feature_teacher``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn.parallel import DistributedDataParallel

from siamtrack.model.metadata import CLASS
from siamtrack.network.siamese import SiameseNet
from siamtrack.training.box_loss import BoxLossWeights, box_head_losses, box_teacher_loss
from siamtrack.training.loss import balanced_logistic_loss, distillation_loss, siamfc_labels, teacher_on_student_grid
from siamtrack.training.nano_loss import (
    NanoWeights,
    TeacherMaps,
    feature_loss,
    head_teacher_loss,
    teacher_losses,
    truth_losses,
)
from siamtrack.training.nanotrack import CENTER_CELL, STRIDE, NanoTrackTeacher

LABEL_RADIUS = 16.0  # search-crop pixels counted as "the target is here" (SiamFC)


@dataclass(frozen=True)
class Teacher:
    """A trained network whose response maps the student learns to reproduce (distillation).

    Attributes:
        network: the teacher, in eval mode; its crops are the student's (same exemplar and
            search sizes), so it sees exactly the pairs the student sees.
        weight: factor on the distillation loss, added to the SiamFC loss.
        temperature: softmax temperature of `distillation_loss`.
    """

    network: SiameseNet
    weight: float
    temperature: float = 1.0


@dataclass(frozen=True)
class ClassTeacher:
    """NanoTrack v2, whose classification map the student's class (or response) map learns, and
    whose boxes the box head's distances may learn.

    Attributes:
        model: the teacher (`NanoTrackTeacher`).
        weight: factor on the class-map term.
        box_weight: factor on the box term (box head only; 0: its boxes are not used).
    """

    model: NanoTrackTeacher
    weight: float
    box_weight: float = 0.0


@dataclass(frozen=True)
class Signals:
    """Everything besides the ground truth that shapes the loss.

    Attributes:
        radius: SiamFC's positive radius in search-crop pixels (response networks).
        teacher: response-map distillation, or None.
        class_teacher: NanoTrack classification maps, or None.
        box_weights: factors on the box head's terms.
        nano: factors on a nanotrack-layout network's terms (its teacher is ``class_teacher``'s model).
    """

    radius: float = LABEL_RADIUS
    teacher: Teacher | None = None
    class_teacher: ClassTeacher | None = None
    box_weights: BoxLossWeights = BoxLossWeights()
    nano: NanoWeights = NanoWeights()


def unwrapped(network: torch.nn.Module) -> SiameseNet:
    """The SiameseNet itself, inside a DistributedDataParallel wrapper or not."""
    inner = network.module if isinstance(network, DistributedDataParallel) else network
    if not isinstance(inner, SiameseNet):
        raise TypeError(f"expected a SiameseNet, got {type(inner).__name__}")
    return inner


def pair_losses(network: torch.nn.Module, exemplars: torch.Tensor, searches: torch.Tensor, targets: torch.Tensor,
                signals: Signals = Signals()) -> dict[str, torch.Tensor]:
    """The loss terms of (B, E, E, 3) exemplars matched in (B, I, I, 3) search crops.

    Goes through ``network(...)`` (``SiameseNet.forward``: search b against kernel b only), so a
    DistributedDataParallel wrapper synchronises the gradients. ``targets`` (B, 4) place each
    target in its search crop: center offset from the crop center and size, (dx, dy, w, h), in
    crop pixels.
    """
    metadata = unwrapped(network).metadata
    if metadata.head == "nanotrack":
        return nanotrack_losses(network, exemplars, searches, targets, signals)
    outputs = network(exemplars, searches)
    stride = metadata.total_stride
    if metadata.head == "box":
        losses = box_head_losses(outputs, targets, stride, signals.box_weights)
        logits = outputs[:, CLASS]
    else:
        labels = siamfc_labels(outputs.shape[-1], stride, signals.radius, targets[:, :2])
        losses = {"class": balanced_logistic_loss(outputs, labels)}
        logits = outputs
    teacher = signals.teacher
    if teacher is not None and teacher.weight > 0:
        with torch.no_grad():
            teacher_responses = teacher.network(exemplars, searches)
        target, cells = teacher_on_student_grid(teacher_responses, teacher.network.metadata.total_stride,
                                                logits.shape[-1], stride)
        losses["distill"] = teacher.weight * distillation_loss(logits[:, cells, cells], target, teacher.temperature)
    class_teacher = signals.class_teacher
    box_teacher_weight = class_teacher.box_weight if class_teacher is not None and metadata.head == "box" else 0.0
    if class_teacher is not None and (class_teacher.weight > 0 or box_teacher_weight > 0):
        # Only pairs whose target is in the crop: a hard negative's crop holds a look-alike,
        # which the teacher may well take for the target; the ground truth says it is not.
        visible = (targets[:, :2].abs() < metadata.instance_size / 2).all(dim=1)
        if bool(visible.any()):
            probability, distances = class_teacher.model(exemplars[visible].cpu().numpy(),
                                                         searches[visible].cpu().numpy())
            if class_teacher.weight > 0:
                target, cells = teacher_on_student_grid(torch.from_numpy(probability).to(logits.device), STRIDE,
                                                        logits.shape[-1], stride, CENTER_CELL)
                losses["class_teacher"] = class_teacher.weight * balanced_logistic_loss(
                    logits[visible][:, cells, cells], target)
            if box_teacher_weight > 0:
                losses["box_teacher"] = box_teacher_weight * box_teacher_loss(
                    outputs[visible], targets[visible], stride, torch.from_numpy(distances).to(outputs.device),
                    STRIDE, CENTER_CELL)
    return losses


def nanotrack_losses(network: torch.nn.Module, exemplars: torch.Tensor, searches: torch.Tensor,
                     targets: torch.Tensor, signals: Signals) -> dict[str, torch.Tensor]:
    """The terms of `nano_loss` for a nanotrack-layout network (see `pair_losses`)."""
    outputs, exemplar_features, search_features = network(exemplars, searches, with_features=True)
    weights = signals.nano
    losses = truth_losses(outputs, targets, unwrapped(network).metadata.total_stride, weights.box,
                          weights.truth_class)
    if signals.class_teacher is None:
        return losses
    device = outputs.device
    maps = signals.class_teacher.model.maps(exemplars.cpu().numpy(), searches.cpu().numpy())
    maps = TeacherMaps(*(values.to(device) for values in (maps.exemplar_features, maps.search_features,
                                                          maps.probability, maps.distances)))
    if weights.feature_teacher > 0:
        both = (feature_loss(exemplar_features, maps.exemplar_features)
                + feature_loss(search_features, maps.search_features))
        losses["feature_teacher"] = weights.feature_teacher * 0.5 * both
    if weights.head_teacher > 0:
        logits, distances = signals.class_teacher.model.head_on(exemplar_features, search_features)
        losses["head_teacher"] = weights.head_teacher * head_teacher_loss(outputs, logits, distances)
    # Only pairs whose target is in the crop: a hard negative's crop holds a look-alike that the
    # teacher may well take for the target; the ground truth says it is not.
    visible = (targets[:, :2].abs() < unwrapped(network).metadata.instance_size / 2).all(dim=1)
    if bool(visible.any()):
        seen = TeacherMaps(maps.exemplar_features[visible], maps.search_features[visible],
                           maps.probability[visible], maps.distances[visible])
        losses.update(teacher_losses(outputs[visible], seen, weights))
    return losses


def pair_loss(network: torch.nn.Module, exemplars: torch.Tensor, searches: torch.Tensor, targets: torch.Tensor,
              signals: Signals = Signals()) -> torch.Tensor:
    """The sum of `pair_losses`."""
    return torch.stack(list(pair_losses(network, exemplars, searches, targets, signals).values())).sum()


def train_step(network: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...],
               signals: Signals = Signals()) -> dict[str, float]:
    """Forward, backward and update on one batch; returns each loss term and their ``total``
    before the update."""
    network.train()
    exemplars, searches, targets = batch
    losses = pair_losses(network, exemplars, searches, targets, signals)
    total = torch.stack(list(losses.values())).sum()
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    return {"total": float(total.detach()), **{name: float(value.detach()) for name, value in losses.items()}}
