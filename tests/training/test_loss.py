import math

import pytest
import torch

from siamtrack.training.loss import balanced_logistic_loss, siamfc_labels


def test_labels_centred_disc():
    labels = siamfc_labels(17, 8, 16, torch.zeros(1, 2))[0]
    assert labels[8, 8] == 1 and labels[8, 10] == 1 and labels[8, 11] == 0  # 2 cells = 16 px
    assert labels[7, 7] == 1 and labels[6, 6] == 0  # diagonal: 11.3 px in, 22.6 px out
    assert int(labels.sum()) == 13  # the cells within radius 2 of the centre
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
