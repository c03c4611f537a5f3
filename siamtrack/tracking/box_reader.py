"""From a box-predicting head's maps to the target's next position, size and confidence (SiamFC++'s step).

Two layouts of maps are read (the model's metadata ``head`` names which), both with the box as
left, top, right, bottom distances in channels 2-5:

* ``box`` (siamtrack's box head, `siamtrack.network.box_head`): a class logit and a quality
  logit; score = sigmoid(class) x sigmoid(quality), the target's center is here *and* the box
  drawn from here is good; cell ``j`` at ``(j - (r - 1) / 2) * stride`` from the crop center; a
  Hann window.
* ``nanotrack`` (NanoTrack's layout, `siamtrack.network.nano_head`): background and target
  logits; score = their softmax's target probability; cell ``j`` at ``(j - r // 2) * stride``;
  OpenCV's Hann window (the square root of the outer product). This is what OpenCV's
  ``TrackerNano`` computes, step for step, so NanoTrack's graphs track here as they do there.

Per frame:

1. each cell's score, as above;
2. each cell's box is penalised for changing the target's size and aspect ratio:
   ``penalty = exp(-(r_c * s_c - 1) * k)``, with ``r_c`` and ``s_c`` the change (>= 1) of aspect
   ratio and of padded size (SiamFC's context rule) against the current box;
3. ``penalty x score`` is blended with a Hann window (``window_influence``) that favours small
   moves, and the best cell is chosen;
4. the center is that cell's box center; the size moves towards its box by ``lr = penalty x score
   x box_lr``, so a weak or implausible box changes the size little.

Everything is in search-crop pixels, relative to the crop center; the tracker converts to frame
pixels with the crop's side. Pure NumPy: the opencv pipeline and the tensor pipeline (after one
copy of the maps) read maps the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from siamtrack.geometry import SIAMFC_CONTEXT
from siamtrack.model.metadata import BOX, CLASS, NANOTRACK_CLASSES, QUALITY

LAYOUTS = ("box", "nanotrack")


@dataclass(frozen=True)
class BoxReading:
    """What one crop's maps say about the target.

    Attributes:
        cell: index (row-major) of the chosen cell.
        offset: (dx, dy) of the target's center from the crop center, in crop pixels.
        size: (w, h) of the target after smoothing, in crop pixels.
        score: sigmoid(class) x sigmoid(quality) at the chosen cell, 0..1: the confidence.
    """

    cell: int
    offset: tuple[float, float]
    size: tuple[float, float]
    score: float


@lru_cache(maxsize=8)
def _grid(side: int, stride: int, layout: str = "box") -> tuple[np.ndarray, np.ndarray]:
    """Cell offsets from the crop center (one axis) and the (side, side) window of a layout."""
    center = side // 2 if layout == "nanotrack" else (side - 1) / 2
    positions = (np.arange(side, dtype=np.float64) - center) * stride
    window = np.outer(np.hanning(side), np.hanning(side))
    if layout == "nanotrack":  # cv2.createHanningWindow: the square root of the outer product
        window = np.sqrt(window)
    positions.setflags(write=False)
    window.setflags(write=False)
    return positions, window


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -50.0, 50.0)))


def padded_size(width: np.ndarray | float, height: np.ndarray | float) -> np.ndarray:
    """SiamFC's context side (`siamtrack.geometry.context_side`, amount 0.5) of every cell's box
    at once: the size measure of the change penalty, fixed by the penalty's definition."""
    pad = SIAMFC_CONTEXT * (np.asarray(width) + np.asarray(height))
    return np.sqrt((np.asarray(width) + pad) * (np.asarray(height) + pad))


def _change(ratio: np.ndarray) -> np.ndarray:
    return np.maximum(ratio, 1.0 / ratio)


def cell_boxes(maps: np.ndarray, stride: int, layout: str = "box") -> tuple[np.ndarray, ...]:
    """Every cell's box as (center x, center y, width, height) maps, in crop pixels from the crop center."""
    positions, _ = _grid(maps.shape[-1], stride, layout)
    left, top, right, bottom = maps[BOX].astype(np.float64)
    x, y = positions[None, :], positions[:, None]
    return (x + (right - left) / 2, y + (bottom - top) / 2, left + right, top + bottom)


def scores(maps: np.ndarray, layout: str = "box") -> np.ndarray:
    """Each cell's confidence in one crop's (6, r, r) maps: sigmoid(class) x sigmoid(quality), or for
    the nanotrack layout the softmax's target probability."""
    if layout == "nanotrack":
        background, target = maps[NANOTRACK_CLASSES].astype(np.float64)
        return _sigmoid(target - background)  # a two-way softmax's second probability
    return _sigmoid(maps[CLASS].astype(np.float64)) * _sigmoid(maps[QUALITY].astype(np.float64))


def read_box(maps: np.ndarray, stride: int, size: tuple[float, float], window_influence: float,
             penalty_k: float, box_lr: float, size_gain: tuple[float, float] = (1.0, 1.0),
             layout: str = "box") -> BoxReading:
    """Choose the target's cell in one crop's (6, r, r) maps and smooth its size.

    Args:
        maps: the box head's output for the target's search crop.
        stride: crop pixels per cell (the model's metadata).
        size: the target's current (w, h) in crop pixels.
        window_influence: weight of the Hann window against the penalised score.
        penalty_k: strength of the size and aspect-change penalty (0: none).
        box_lr: largest step of the size towards the chosen box (times penalty x score).
        size_gain: factors on every predicted width and height (`size_gain`).
        layout: ``box`` or ``nanotrack`` (the module docstring).
    """
    score = scores(maps, layout)
    centers_x, centers_y, widths, heights = cell_boxes(maps, stride, layout)
    widths = np.maximum(widths * size_gain[0], 1e-3)
    heights = np.maximum(heights * size_gain[1], 1e-3)
    width, height = size
    size_change = _change(padded_size(widths, heights) / padded_size(width, height))
    aspect_change = _change((width / height) / (widths / heights))
    penalty = np.exp(-(aspect_change * size_change - 1.0) * penalty_k)
    _, window = _grid(maps.shape[-1], stride, layout)
    chosen = penalty * score * (1.0 - window_influence) + window * window_influence
    best = int(np.argmax(chosen))
    row, col = divmod(best, maps.shape[-1])
    lr = float(penalty[row, col] * score[row, col] * box_lr)
    new_size = (width + lr * (widths[row, col] - width), height + lr * (heights[row, col] - height))
    return BoxReading(best, (float(centers_x[row, col]), float(centers_y[row, col])), new_size,
                      float(score[row, col]))


def size_gain(maps: np.ndarray, stride: int, size: tuple[float, float], limit: float = 2.0) -> tuple[float, float]:
    """Per-axis factors that make the box read at the crop's center equal the target's known size.

    Computed once, when a target is added, from the maps of the search crop cut around it on that
    frame, where its box is known. A box head trained on little data leans towards the sizes and
    shapes it saw most (measured on the held-out training sequences: widths 1.28x, heights 0.94x
    on average, for tall people most of all); since the tracker cuts each crop from its own size
    estimate, such a bias would settle the box at a wrong size or let it grow frame after frame.
    Scaling by the target's own ratio puts the fixed point back at its true size. Clipped to
    [1 / limit, limit].
    """
    side = maps.shape[-1]
    middle = (side - 1) // 2
    _, _, widths, heights = cell_boxes(maps, stride)
    predicted = (float(widths[middle, middle]), float(heights[middle, middle]))
    return tuple(float(np.clip(true / max(guess, 1e-3), 1.0 / limit, limit))  # type: ignore[return-value]
                 for true, guess in zip(size, predicted))


def strongest_box(maps: np.ndarray, stride: int, layout: str = "box") -> tuple[int, BoxReading]:
    """The best-scoring cell over several crops' (N, 6, r, r) maps, without window or penalty.

    Used while re-detecting a lost target over tiles of a wide region. The size is that cell's
    box, unsmoothed; the caller decides whether to take it.

    Returns:
        ``(crop index, reading)``.
    """
    all_scores = np.stack([scores(m, layout) for m in maps])
    crop, best = divmod(int(np.argmax(all_scores)), all_scores[0].size)
    row, col = divmod(best, maps.shape[-1])
    centers_x, centers_y, widths, heights = cell_boxes(maps[crop], stride, layout)
    return crop, BoxReading(best, (float(centers_x[row, col]), float(centers_y[row, col])),
                            (float(widths[row, col]), float(heights[row, col])), float(all_scores[crop, row, col]))
