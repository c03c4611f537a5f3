"""Cutting the exemplar and the multi-scale search regions out of a frame.

A crop is a square of side ``size`` frame pixels centered on ``center`` (pixel-center
coordinates, sub-pixel allowed), resampled bilinearly to ``out_size`` pixels. Output pixel ``u``
samples the frame at ``center + (u - (out_size - 1) / 2) * size / out_size``. Parts of the square
outside the frame take ``pad_color`` (SiamFC pads with the frame's mean color, which the
network has learnt to ignore).

All scales of a search come from one ``cv2.remap`` call over stacked sampling grids: no Python
loop over pixels or scales.
"""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np


def sampling_grid(centers: Sequence[tuple[float, float]], sizes: Sequence[Any],
                  out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame coordinates sampled by the crops (one center and side per crop; a side is a number
    for a square or a (width, height) pair for a rectangle, which training's stretch uses).

    Returns:
        ``(map_x, map_y)``, float32 arrays of shape (len(sizes) * out_size, out_size): the crops
        stacked vertically, as ``cv2.remap`` expects.
    """
    sides = np.asarray(sizes, dtype=np.float64)
    steps = (sides[:, None] if sides.ndim == 1 else sides) / out_size  # (crops, 1 or 2)
    points = np.broadcast_to(np.asarray(centers, dtype=np.float64).reshape(-1, 2), (len(steps), 2))
    offsets = np.arange(out_size, dtype=np.float64) - (out_size - 1) / 2.0
    xs = (points[:, :1] + steps[:, :1] * offsets).astype(np.float32)  # (crops, out) one row per crop
    ys = (points[:, 1:] + steps[:, -1:] * offsets).astype(np.float32)
    count = len(steps)
    map_x = np.broadcast_to(xs[:, None, :], (count, out_size, out_size))
    map_y = np.broadcast_to(ys[:, :, None], (count, out_size, out_size))
    return (np.ascontiguousarray(map_x.reshape(count * out_size, out_size)),
            np.ascontiguousarray(map_y.reshape(count * out_size, out_size)))


def crop_regions(frame: np.ndarray, centers: Sequence[tuple[float, float]], sizes: Sequence[Any],
                 out_size: int, pad_color: Sequence[float]) -> np.ndarray:
    """Cut square crops, crop ``i`` of side ``sizes[i]`` around ``centers[i]``, all to ``out_size``.

    Args:
        frame: H x W x 3 uint8 image.
        centers: (cx, cy) of each crop in pixel-center coordinates.
        sizes: side of each square in frame pixels, or (width, height) of each rectangle.
        out_size: side of every output crop.
        pad_color: color (one value per channel) for samples outside the frame.

    Returns:
        uint8 array of shape (len(sizes), out_size, out_size, 3).
    """
    if len(centers) != len(sizes):
        raise ValueError(f"{len(centers)} centers for {len(sizes)} sizes")
    map_x, map_y = sampling_grid(centers, sizes, out_size)
    stacked = cv2.remap(frame, map_x, map_y, interpolation=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT,
                        borderValue=tuple(float(c) for c in pad_color))
    return stacked.reshape(len(sizes), out_size, out_size, -1)


def crop_squares(frame: np.ndarray, center: tuple[float, float], sizes: Sequence[float],
                 out_size: int, pad_color: Sequence[float]) -> np.ndarray:
    """Square crops of several sizes all around one ``center`` (a scale pyramid); see `crop_regions`."""
    return crop_regions(frame, [center] * len(sizes), sizes, out_size, pad_color)
