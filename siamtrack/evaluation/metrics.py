"""Overlap and centre-error metrics with the OTB / got10k-toolkit definitions.

Boxes are (x, y, w, h) arrays of shape (N, 4). Frames whose ground truth is absent (NaN) are
left out before scoring.
"""

from __future__ import annotations

import numpy as np

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)  # IoU thresholds of the OTB success plot
PRECISION_THRESHOLDS = np.arange(0, 51)  # centre-error thresholds in pixels


def iou(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Intersection over union of matching rows; 0 where a box has no area."""
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 4)
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 4)
    left = np.maximum(predicted[:, 0], truth[:, 0])
    top = np.maximum(predicted[:, 1], truth[:, 1])
    right = np.minimum(predicted[:, 0] + predicted[:, 2], truth[:, 0] + truth[:, 2])
    bottom = np.minimum(predicted[:, 1] + predicted[:, 3], truth[:, 1] + truth[:, 3])
    intersection = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = predicted[:, 2] * predicted[:, 3] + truth[:, 2] * truth[:, 3] - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = np.where(union > 0, intersection / union, 0.0)
    return np.clip(np.nan_to_num(overlap, nan=0.0), 0.0, 1.0)


def centre_error(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Euclidean distance between box centres, in pixels."""
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 4)
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 4)
    delta = (predicted[:, :2] + predicted[:, 2:] / 2) - (truth[:, :2] + truth[:, 2:] / 2)
    return np.hypot(delta[:, 0], delta[:, 1])


def _present(predicted: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 4)
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 4)
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predicted boxes for {len(truth)} ground-truth boxes")
    keep = np.isfinite(truth).all(axis=1)
    return predicted[keep], truth[keep]


def success_curve(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Fraction of frames whose IoU exceeds each of the 21 thresholds in ``SUCCESS_THRESHOLDS``."""
    predicted, truth = _present(predicted, truth)
    overlaps = iou(predicted, truth)
    return (overlaps[:, None] > SUCCESS_THRESHOLDS[None, :]).mean(axis=0)


def success_auc(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Area under the success curve (mean of its 21 points), the OTB 'AUC' score."""
    return float(success_curve(predicted, truth).mean())


def precision_curve(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Fraction of frames whose centre error is at most each of ``PRECISION_THRESHOLDS``."""
    predicted, truth = _present(predicted, truth)
    errors = centre_error(predicted, truth)
    return (errors[:, None] <= PRECISION_THRESHOLDS[None, :]).mean(axis=0)


def precision_at(predicted: np.ndarray, truth: np.ndarray, pixels: float = 20.0) -> float:
    """Fraction of frames with centre error <= ``pixels`` (OTB precision at 20 px)."""
    predicted, truth = _present(predicted, truth)
    return float((centre_error(predicted, truth) <= pixels).mean())
