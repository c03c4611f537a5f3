"""Box-head targets and losses (siamtrack.training.targets, siamtrack.training.box_loss)."""

import pytest
import torch

from siamtrack.model.metadata import BOX, CLASS, QUALITY
from siamtrack.training.box_loss import (
    BoxLossWeights,
    box_head_losses,
    box_teacher_loss,
    teacher_distances_on_student_grid,
)
from siamtrack.training.targets import box_targets, cell_positions, iou_of_distances


def test_cell_positions_are_centered():
    assert cell_positions(5, 8).tolist() == [-16.0, -8.0, 0.0, 8.0, 16.0]


def test_targets_of_a_centered_box():
    truth = box_targets(torch.tensor([[0.0, 0.0, 64.0, 32.0]]), size=17, stride=8)
    # Inside: |x| < 32 and |y| < 16 -> columns 5..11 (x = -24..24), rows 7..9 (y = -8..8).
    inside = truth.inside[0]
    assert inside.sum() == 7 * 3 and inside[7:10, 5:12].all()
    # Distances at the center cell are the half sides, at (row 8, col 11) (x = 24) left 56, right 8.
    assert truth.distances[0, :, 8, 8].tolist() == [32.0, 16.0, 32.0, 16.0]
    assert truth.distances[0, :, 8, 11].tolist() == [56.0, 16.0, 8.0, 16.0]
    # Class positives: the ellipse of half the half-sides (16 x 8 px), at least one stride: x in
    # {-16..16} on the middle row, and the center column one row up and down (8 px <= 8).
    labels = truth.labels[0]
    assert labels[8, 6:11].tolist() == [1.0] * 5 and labels[8, 5] == 0 and labels[8, 11] == 0
    assert labels[7, 8] == 1 and labels[9, 8] == 1 and labels[6, 8] == 0


def test_targets_follow_a_shifted_target_and_a_target_outside_the_crop_has_none():
    truth = box_targets(torch.tensor([[16.0, -8.0, 20.0, 20.0], [300.0, 0.0, 40.0, 40.0]]), size=17, stride=8)
    assert truth.labels[0, 7, 10] == 1 and truth.labels[0].sum() >= 1
    assert truth.labels[1].sum() == 0 and not truth.inside[1].any()


def test_iou_of_distances_by_hand():
    a = torch.tensor([[10.0, 10.0, 10.0, 10.0]])  # a 20 x 20 box around the cell
    b = torch.tensor([[0.0, 10.0, 20.0, 10.0]])  # the same size, 10 px to the right
    iou, giou = iou_of_distances(a, b)
    assert float(iou) == pytest.approx(200 / 600)
    assert float(giou) == pytest.approx(200 / 600)  # their hull is their union
    iou, giou = iou_of_distances(a, a)
    assert float(iou) == pytest.approx(1.0) and float(giou) == pytest.approx(1.0)
    far = torch.tensor([[-30.0, 10.0, 50.0, 10.0]])  # disjoint: 30..50 px right of the cell
    iou, giou = iou_of_distances(a, far)
    assert float(iou) == 0.0 and float(giou) < 0.0


def perfect_outputs(targets, size=17, stride=8, logit=20.0):
    truth = box_targets(targets, size, stride)
    outputs = torch.zeros(len(targets), 6, size, size)
    outputs[:, CLASS] = (truth.labels * 2 - 1) * logit
    outputs[:, BOX] = truth.distances.clamp(min=1.0)
    outputs[:, QUALITY] = logit
    return outputs


def test_losses_of_a_perfect_prediction_are_near_zero_and_grow_with_a_worse_box():
    targets = torch.tensor([[4.0, -6.0, 60.0, 40.0], [-10.0, 12.0, 30.0, 70.0]])
    outputs = perfect_outputs(targets)
    losses = box_head_losses(outputs, targets, stride=8)
    assert float(losses["class"]) < 1e-6 and float(losses["box"]) < 1e-5
    assert float(losses["quality"]) < 1e-6  # quality logit 20 against IoU 1
    worse = outputs.clone()
    worse[:, BOX] *= 1.5
    assert float(box_head_losses(worse, targets, 8)["box"]) > 0.1


def test_loss_weights_scale_their_terms():
    targets = torch.tensor([[0.0, 0.0, 50.0, 50.0]])
    outputs = torch.zeros(1, 6, 17, 17)
    outputs[:, BOX] = 20.0
    plain = box_head_losses(outputs, targets, 8)
    weighted = box_head_losses(outputs, targets, 8, BoxLossWeights(box=6.0, quality=0.5))
    assert float(weighted["box"]) == pytest.approx(2 * float(plain["box"]))
    assert float(weighted["quality"]) == pytest.approx(0.5 * float(plain["quality"]))


def test_a_batch_of_hard_negatives_has_no_box_terms_but_keeps_a_gradient_path():
    targets = torch.tensor([[400.0, 400.0, 40.0, 40.0]])
    outputs = torch.randn(1, 6, 17, 17, requires_grad=True)
    losses = box_head_losses(outputs, targets, 8)
    assert float(losses["box"].detach()) == 0.0 and float(losses["quality"].detach()) == 0.0
    sum(losses.values()).backward()
    assert outputs.grad is not None and outputs.grad[:, CLASS].abs().sum() > 0


def teacher_grid_drawing(box: tuple[float, float, float, float], size: int = 16, center: float = 8.0,
                         stride: int = 16) -> torch.Tensor:
    """(1, 4, size, size) distances of a teacher whose every cell draws the same box (x1, y1, x2, y2)."""
    grid = (torch.arange(size, dtype=torch.float32) - center) * stride
    x1, y1, x2, y2 = box
    x, y = grid[None, :].expand(size, size), grid[:, None].expand(size, size)
    return torch.stack((x - x1, y - y1, x2 - x, y2 - y))[None]


def test_teacher_distances_are_measured_again_from_the_students_cells():
    box = (-26.0, -14.0, 34.0, 26.0)  # center (4, 6), 60 x 40
    distances, cells = teacher_distances_on_student_grid(teacher_grid_drawing(box), 16, 8.0, 17, 8)
    assert cells == slice(0, 17)  # the student's +-64 px lie inside NanoTrack's -128..112 px
    truth = box_targets(torch.tensor([[4.0, 6.0, 60.0, 40.0]]), 17, 8).distances
    assert torch.allclose(distances, truth, atol=1e-4)


def test_box_teacher_loss_is_zero_for_the_teachers_box_and_counts_cells_inside_the_target_only():
    targets = torch.tensor([[4.0, 6.0, 60.0, 40.0]])
    teacher = teacher_grid_drawing((-26.0, -14.0, 34.0, 26.0))
    outputs = torch.zeros(1, 6, 17, 17)
    outputs[:, BOX] = box_targets(targets, 17, 8).distances
    assert float(box_teacher_loss(outputs, targets, 8, teacher, 16, 8.0)) < 1e-5
    wider = teacher_grid_drawing((-56.0, -14.0, 64.0, 26.0))
    assert float(box_teacher_loss(outputs, targets, 8, wider, 16, 8.0)) > 0.2
    outside = ~box_targets(targets, 17, 8).inside
    scrambled = outputs.clone()
    scrambled[:, BOX] = torch.where(outside[:, None], torch.rand(1, 4, 17, 17) * 100, outputs[:, BOX])
    assert float(box_teacher_loss(scrambled, targets, 8, teacher, 16, 8.0)) < 1e-5


def test_box_teacher_loss_of_a_target_outside_the_crop_keeps_a_gradient_path():
    outputs = torch.randn(1, 6, 17, 17, requires_grad=True)
    loss = box_teacher_loss(outputs, torch.tensor([[400.0, 0.0, 40.0, 40.0]]), 8,
                            teacher_grid_drawing((-20.0, -20.0, 20.0, 20.0)), 16, 8.0)
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert outputs.grad is not None
