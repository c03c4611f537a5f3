import math

import pytest
import torch

from siamtrack.training.loss import balanced_logistic_loss, siamfc_labels


def test_labels_centered_disc():
    labels = siamfc_labels(17, 8, 16, torch.zeros(1, 2))[0]
    assert labels[8, 8] == 1 and labels[8, 10] == 1 and labels[8, 11] == 0  # 2 cells = 16 px
    assert labels[7, 7] == 1 and labels[6, 6] == 0  # diagonal: 11.3 px in, 22.6 px out
    assert int(labels.sum()) == 13  # the cells within radius 2 of the center
    assert torch.equal(labels, labels.flip(0)) and torch.equal(labels, labels.t())


def test_labels_follow_a_shifted_target():
    labels = siamfc_labels(17, 8, 16, torch.tensor([[24.0, -8.0]]))[0]
    rows, cols = torch.nonzero(labels, as_tuple=True)
    assert (rows.float().mean().item(), cols.float().mean().item()) == (7.0, 11.0)


def test_balanced_loss_hand_checked():
    # One map of 4 cells: one positive with logit 0, three negatives with logit 0.
    # BCE(0) = ln 2 for every cell; weights 1/2 for the positive, 1/6 for each negative:
    # total = ln 2 * (1/2 + 3 * 1/6) = ln 2.
    logits = torch.zeros(1, 2, 2)
    labels = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    assert balanced_logistic_loss(logits, labels).item() == pytest.approx(math.log(2))
    # A confident right answer costs less than a confident wrong one.
    right = torch.tensor([[[4.0, -4.0], [-4.0, -4.0]]])
    assert balanced_logistic_loss(right, labels) < balanced_logistic_loss(-right, labels)
    # Second hand check: positive logit 2 -> softplus(-2); negatives 0 -> ln 2.
    mixed = torch.tensor([[[2.0, 0.0], [0.0, 0.0]]])
    expected = 0.5 * math.log1p(math.exp(-2.0)) + 0.5 * math.log(2)
    assert balanced_logistic_loss(mixed, labels).item() == pytest.approx(expected)


def test_map_without_positives():
    loss = balanced_logistic_loss(torch.zeros(1, 3, 3), torch.zeros(1, 3, 3))
    assert loss.item() == pytest.approx(math.log(2))


def test_teacher_map_resampled_at_the_student_cells():
    from siamtrack.training.loss import teacher_on_student_grid

    # A 17-cell teacher and a 25-cell student with the same stride share the teacher's 17 cells.
    teacher = torch.arange(17 * 17, dtype=torch.float32).reshape(1, 17, 17)
    values, cells = teacher_on_student_grid(teacher, 8, 25, 8)
    assert cells == slice(4, 21) and torch.allclose(values, teacher)
    # Half the stride: the student's cells fall on and between the teacher's.
    values, cells = teacher_on_student_grid(teacher, 8, 33, 4)
    assert cells == slice(0, 33) and values.shape == (1, 33, 33)
    assert values[0, 0, 1] == pytest.approx(0.5) and values[0, 2, 2] == teacher[0, 1, 1]


def test_distillation_loss_is_zero_for_the_same_ranking_and_ignores_offsets():
    from siamtrack.training.loss import distillation_loss

    teacher = torch.randn(2, 9, 9)
    assert float(distillation_loss(teacher + 5.0, teacher)) == pytest.approx(0.0, abs=1e-5)
    worse = distillation_loss(torch.randn(2, 9, 9), teacher)
    assert float(worse) > 0.01
    student = torch.zeros(2, 9, 9, requires_grad=True)
    distillation_loss(student, teacher).backward()
    # The gradient pushes up where the teacher is high.
    flat_grad, flat_teacher = student.grad[0].flatten(), teacher[0].flatten()
    assert flat_grad[flat_teacher.argmax()] < 0 < flat_grad[flat_teacher.argmin()] + 1e-9
