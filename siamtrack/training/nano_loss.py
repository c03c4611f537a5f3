"""Losses of a nanotrack-layout network: ground truth, NanoTrack's maps, and NanoTrack's features.

Each is a term of its own, so a log shows what every signal contributes:

* ``class`` and ``box``: the ground truth. Cells in the central ellipse of the target's box are
  positives of the two-way softmax, every other cell a negative (positives and negatives carry
  half each: `balanced_logistic_loss` on ``target - background``,
  the logit of that softmax); the box distances learn 1 - GIoU on the positive cells. A hard
  negative's crop (the search cut around a look-alike) has no positive at all.
* ``class_teacher`` and ``box_teacher``: NanoTrack's head on the same crops. Its target
  probability is a soft label for every cell; its box distances are learnt where it believes the
  target is (weighted by its probability: away from the target its distances were never trained).
* ``head_teacher``: NanoTrack's head run on the *student's* backbone maps (detached). Its two
  maps are a function of features the student has, so the student's head can learn that function
  exactly, on every pair and every cell, including the ranking of the weak cells from which the
  tracker's window and penalties pick a peak. ``class_teacher`` asks for maps NanoTrack made from
  its own features, which the student's features only approximate. The class term is a Huber
  loss on the target logits, the box term as ``box_teacher``.
* ``feature_teacher``: NanoTrack's backbone maps of the exemplar and the search crop, matched cell
  by cell (mean squared error, each channel divided by its spread in the batch so that no channel
  dominates). They are dense targets: every cell of every crop carries what NanoTrack learnt from
  far more data than this project has, boxed or not.

The grids coincide (both stride 16, center cell 8), so nothing is resampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from siamtrack.model.metadata import NANOTRACK_CLASSES
from siamtrack.training.loss import balanced_logistic_loss
from siamtrack.training.targets import box_targets, iou_of_distances

BOX_CHANNELS = slice(2, 6)
# On a real pair NanoTrack's target logits spanned -12.0 to +5.9 (median -7.8); the clamp keeps a rare
# extreme cell, which ranks nothing, from outweighing the rest in the loss.
MAX_TEACHER_LOGIT = 12.0


@dataclass(frozen=True)
class NanoWeights:
    """Factors on the terms (``truth_class`` is the ground truth's ``class``)."""

    box: float = 1.0
    class_teacher: float = 1.0
    box_teacher: float = 1.0
    feature_teacher: float = 1.0
    truth_class: float = 1.0
    head_teacher: float = 0.0


@dataclass(frozen=True)
class TeacherMaps:
    """NanoTrack's outputs for a batch of pairs (see `NanoTrackTeacher`).

    Attributes:
        exemplar_features: (B, C, 8, 8) backbone maps of the exemplars.
        search_features: (B, C, 16, 16) backbone maps of the search crops.
        probability: (B, 16, 16) target probability per cell.
        distances: (B, 4, 16, 16) left, top, right, bottom in crop pixels.
    """

    exemplar_features: torch.Tensor
    search_features: torch.Tensor
    probability: torch.Tensor
    distances: torch.Tensor


def target_logit(outputs: torch.Tensor) -> torch.Tensor:
    """The logit of the two-way softmax's target class: target minus background."""
    classes = outputs[:, NANOTRACK_CLASSES]
    return classes[:, 1] - classes[:, 0]


def truth_losses(outputs: torch.Tensor, targets: torch.Tensor, stride: int, box_weight: float,
                 class_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """``class`` and ``box`` against (B, 4) targets (dx, dy, w, h) in search-crop pixels."""
    side = outputs.shape[-1]
    truth = box_targets(targets, side, stride, center=side // 2)
    losses = {"class": class_weight * balanced_logistic_loss(target_logit(outputs), truth.labels)}
    positive = truth.labels > 0
    if not bool(positive.any()):
        losses["box"] = outputs[:, BOX_CHANNELS].sum() * 0.0
        return losses
    predicted = outputs[:, BOX_CHANNELS].permute(0, 2, 3, 1)[positive]
    expected = truth.distances.permute(0, 2, 3, 1)[positive]
    _, giou = iou_of_distances(predicted, expected)
    losses["box"] = box_weight * (1.0 - giou).mean()
    return losses


def feature_loss(student: torch.Tensor, teacher: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Mean squared difference of (B, C, h, w) maps, each channel scaled by the teacher's spread."""
    spread = teacher.std(dim=(0, 2, 3), keepdim=True).detach() + eps
    return (((student - teacher) / spread) ** 2).mean()


def teacher_losses(outputs: torch.Tensor, teacher: TeacherMaps, weights: NanoWeights) -> dict[str, torch.Tensor]:
    """``class_teacher`` and ``box_teacher`` toward NanoTrack's maps on the same pairs (all visible)."""
    losses: dict[str, torch.Tensor] = {}
    if weights.class_teacher > 0:
        losses["class_teacher"] = weights.class_teacher * balanced_logistic_loss(target_logit(outputs),
                                                                                 teacher.probability)
    if weights.box_teacher > 0:
        losses["box_teacher"] = weights.box_teacher * boxes_where_confident(outputs, teacher.distances,
                                                                            teacher.probability)
    return losses


def boxes_where_confident(outputs: torch.Tensor, distances: torch.Tensor, probability: torch.Tensor) -> torch.Tensor:
    """1 - GIoU toward a teacher's (B, 4, r, r) distances, each cell weighted by its probability
    (B, r, r) that the target is there: away from the target its distances were never trained."""
    _, giou = iou_of_distances(outputs[:, BOX_CHANNELS].permute(0, 2, 3, 1), distances.permute(0, 2, 3, 1))
    return ((1.0 - giou) * probability).sum() / probability.sum().clamp(min=1e-6)


def head_teacher_loss(outputs: torch.Tensor, teacher_logit: torch.Tensor, teacher_distances: torch.Tensor
                      ) -> torch.Tensor:
    """``head_teacher``: the student's maps toward NanoTrack's head on the student's own features
    (target logits (B, r, r), distances (B, 4, r, r)); see the module docstring."""
    clamped = teacher_logit.clamp(-MAX_TEACHER_LOGIT, MAX_TEACHER_LOGIT)
    classes = F.smooth_l1_loss(target_logit(outputs), clamped)
    return classes + boxes_where_confident(outputs, teacher_distances, torch.sigmoid(teacher_logit))
