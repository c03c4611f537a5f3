"""Tracking metrics, with the definitions of the got10k toolkit (tested against it).

Boxes are (x, y, w, h) arrays of shape (N, 4). Frames whose ground truth is absent (NaN) are
left out before scoring.

* success curve: fraction of frames with IoU > t for 21 thresholds t in [0, 1]; its mean is the
  OTB "AUC" score;
* precision: fraction of frames whose center error is <= 20 px (curve: 0..50 px);
* normalised precision: center error divided by the ground-truth size per axis, fraction of
  frames <= 0.2 (curve: 0..0.5), as reported for LaSOT / TrackingNet;
* GOT-10k: AO (mean IoU), SR0.5 and SR0.75 (fraction of frames with IoU above 0.5 / 0.75);
* lost flag: how often ``lost`` is raised when the target is absent (recall) and how often a
  raised flag is right (precision).
"""

from __future__ import annotations

import numpy as np

from siamtrack.geometry import iou  # noqa: F401  (the metrics read boxes with the tracker's rule)

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)  # IoU thresholds of the OTB success plot
PRECISION_THRESHOLDS = np.arange(0, 51)  # center-error thresholds in pixels
NORMALIZED_THRESHOLDS = np.linspace(0.0, 0.5, 51)  # normalised center-error thresholds


def center_error(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Euclidean distance between box centers (x + (w - 1) / 2, as got10k), in pixels."""
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 4)
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 4)
    delta = (predicted[:, :2] + (predicted[:, 2:] - 1) / 2) - (truth[:, :2] + (truth[:, 2:] - 1) / 2)
    return np.hypot(delta[:, 0], delta[:, 1])


def normalized_center_error(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Center error with each axis divided by the ground-truth width / height."""
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 4)
    truth = np.asarray(truth, dtype=np.float64).reshape(-1, 4)
    delta = (predicted[:, :2] + (predicted[:, 2:] - 1) / 2) - (truth[:, :2] + (truth[:, 2:] - 1) / 2)
    scaled = delta / np.maximum(truth[:, 2:], np.finfo(float).eps)
    return np.hypot(scaled[:, 0], scaled[:, 1])


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
    """Fraction of frames whose center error is at most each of ``PRECISION_THRESHOLDS``."""
    predicted, truth = _present(predicted, truth)
    errors = center_error(predicted, truth)
    return (errors[:, None] <= PRECISION_THRESHOLDS[None, :]).mean(axis=0)


def precision_at(predicted: np.ndarray, truth: np.ndarray, pixels: float = 20.0) -> float:
    """Fraction of frames with center error <= ``pixels`` (OTB precision at 20 px)."""
    predicted, truth = _present(predicted, truth)
    return float((center_error(predicted, truth) <= pixels).mean())


def normalized_precision_curve(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Fraction of frames with normalised center error <= each of ``NORMALIZED_THRESHOLDS``."""
    predicted, truth = _present(predicted, truth)
    errors = normalized_center_error(predicted, truth)
    return (errors[:, None] <= NORMALIZED_THRESHOLDS[None, :]).mean(axis=0)


def normalized_precision(predicted: np.ndarray, truth: np.ndarray, threshold: float = 0.2) -> float:
    """Fraction of frames with normalised center error <= ``threshold`` (0.2 as usually reported)."""
    predicted, truth = _present(predicted, truth)
    return float((normalized_center_error(predicted, truth) <= threshold).mean())


def average_overlap(predicted: np.ndarray, truth: np.ndarray) -> float:
    """GOT-10k AO: mean IoU over frames with a target."""
    predicted, truth = _present(predicted, truth)
    return float(iou(predicted, truth).mean())


def success_rate(predicted: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> float:
    """GOT-10k SR: fraction of frames with IoU above ``threshold`` (0.5 or 0.75)."""
    predicted, truth = _present(predicted, truth)
    return float((iou(predicted, truth) > threshold).mean())


def lost_flag_scores(lost: np.ndarray, absent: np.ndarray) -> dict[str, float]:
    """How well a tracker's ``lost`` flag tells when the target is gone.

    Args:
        lost: (N,) bool, the tracker's flag per frame.
        absent: (N,) bool, True where the target is not visible.

    Returns:
        ``precision`` (of the frames flagged lost, the share where the target is absent),
        ``recall`` (of the absent frames, the share flagged lost), ``false_lost_rate`` (of the
        frames with the target visible, the share wrongly flagged lost); NaN where undefined.
    """
    lost = np.asarray(lost, bool)
    absent = np.asarray(absent, bool)
    flagged, gone, present = lost.sum(), absent.sum(), (~absent).sum()
    hits = (lost & absent).sum()
    return {
        "precision": float(hits / flagged) if flagged else float("nan"),
        "recall": float(hits / gone) if gone else float("nan"),
        "false_lost_rate": float((lost & ~absent).sum() / present) if present else float("nan"),
    }
