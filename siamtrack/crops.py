"""Cutting the exemplar and the multi-scale search regions out of a frame.

A crop is a square of side ``size`` frame pixels centred on ``center`` (pixel-centre
coordinates, sub-pixel allowed), resampled bilinearly to ``out_size`` pixels. Output pixel ``u``
samples the frame at ``center + (u - (out_size - 1) / 2) * size / out_size``. Parts of the square
outside the frame take ``pad_color`` (SiamFC pads with the frame's mean colour, which the
network has learnt to ignore).

All scales of a search come from one ``cv2.remap`` call over stacked sampling grids: no Python
loop over pixels or scales.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np


def sampling_grid(center: tuple[float, float], sizes: Sequence[float],
                  out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame coordinates sampled by square crops of several sizes around one centre.

    Returns:
        ``(map_x, map_y)``, float32 arrays of shape (len(sizes) * out_size, out_size): the crops
        stacked vertically, as ``cv2.remap`` expects.
    """
    steps = np.asarray(sizes, dtype=np.float64)[:, None] / out_size
    offsets = np.arange(out_size, dtype=np.float64) - (out_size - 1) / 2.0
    xs = (center[0] + steps * offsets).astype(np.float32)  # (scales, out) one row per scale
    ys = (center[1] + steps * offsets).astype(np.float32)
    count = len(sizes)
    map_x = np.broadcast_to(xs[:, None, :], (count, out_size, out_size))
    map_y = np.broadcast_to(ys[:, :, None], (count, out_size, out_size))
    return (np.ascontiguousarray(map_x.reshape(count * out_size, out_size)),
            np.ascontiguousarray(map_y.reshape(count * out_size, out_size)))


def crop_squares(frame: np.ndarray, center: tuple[float, float], sizes: Sequence[float],
                 out_size: int, pad_color: Sequence[float]) -> np.ndarray:
    """Cut square crops of the given sizes, all around ``center``, resampled to ``out_size``.

    Args:
        frame: H x W x 3 uint8 image.
        center: (cx, cy) in pixel-centre coordinates.
        sizes: side of each square, in frame pixels.
        out_size: side of every output crop.
        pad_color: colour (one value per channel) for samples outside the frame.

    Returns:
        uint8 array of shape (len(sizes), out_size, out_size, 3).
    """
    map_x, map_y = sampling_grid(center, sizes, out_size)
    stacked = cv2.remap(frame, map_x, map_y, interpolation=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT,
                        borderValue=tuple(float(c) for c in pad_color))
    return stacked.reshape(len(sizes), out_size, out_size, frame.shape[2])
