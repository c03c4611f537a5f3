"""Checking and normalising what users pass in: frames and boxes.

Frames are OpenCV images. The tracker works on H x W x 3 uint8 BGR; grayscale (H x W or
H x W x 1) and BGRA (H x W x 4) frames are converted. Anything else is an [InputError][siamtrack.InputError]
that says what was wrong, rather than a failure deep inside OpenCV or the network.
"""

from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

from siamtrack.errors import InputError
from siamtrack.results import Box


def as_bgr(frame: object) -> np.ndarray:
    """Return ``frame`` as a C-contiguous H x W x 3 uint8 BGR array.

    Args:
        frame: H x W x 3 BGR, H x W or H x W x 1 grayscale, or H x W x 4 BGRA, dtype uint8.

    Raises:
        InputError: for anything else (wrong type, dtype, shape, or an empty frame).
    """
    if not isinstance(frame, np.ndarray):
        raise InputError(f"frame must be a numpy array (an OpenCV image), got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise InputError(f"frame must have dtype uint8, got {frame.dtype}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 2:
        converted = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_GRAY2BGR)
    elif frame.ndim == 3 and frame.shape[2] == 4:
        converted = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGRA2BGR)
    elif frame.ndim == 3 and frame.shape[2] == 3:
        converted = np.ascontiguousarray(frame)
    else:
        raise InputError(
            f"frame must be H x W x 3 (BGR), H x W (gray) or H x W x 4 (BGRA), got shape {frame.shape}")
    if converted.shape[0] < 1 or converted.shape[1] < 1:
        raise InputError(f"frame is empty (shape {frame.shape})")
    return converted


MAX_BOX_TO_FRAME = 2  # a box may be at most this many times the frame's width and height


def validate_box(box: Sequence[float], frame_shape: tuple[int, ...]) -> Box:
    """Check an initial box against the frame and return it as four floats.

    A box may stick out of the frame (the crop pads with the mean color), but it must overlap
    the frame, be at least one pixel wide and high, and at most twice the frame's width and
    height (a larger target cannot be seen in the frame; such a box is a typo or a unit mix-up).

    Raises:
        InputError: if the box is malformed, smaller than a pixel, far larger than the frame,
            or entirely outside the frame.
    """
    try:
        items = list(box)
    except TypeError:
        raise InputError(f"box must be four numbers (x, y, w, h), got {box!r}") from None
    # Text and booleans convert to floats but are never a box ("1234" would be 1, 2, 3, 4).
    if isinstance(box, (str, bytes)) or any(isinstance(v, (bool, np.bool_, str, bytes)) for v in items):
        raise InputError(f"box must be four numbers (x, y, w, h), got {box!r}")
    try:
        values = [float(v) for v in items]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"box must be four numbers (x, y, w, h) within float range, got {box!r}") from None
    if len(values) != 4:
        raise InputError(f"box must be four numbers (x, y, w, h), got {len(values)} values")
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"box values must be finite, got {tuple(values)}")
    x, y, w, h = values
    if w <= 0 or h <= 0:
        raise InputError(f"box width and height must be positive, got w={w:g}, h={h:g}")
    if w < 1 or h < 1:
        raise InputError(f"box must be at least 1 pixel wide and high, got w={w:g}, h={h:g}")
    height, width = frame_shape[:2]
    if w > MAX_BOX_TO_FRAME * width or h > MAX_BOX_TO_FRAME * height:
        raise InputError(f"box (w={w:g}, h={h:g}) is more than {MAX_BOX_TO_FRAME} times the {width}x{height} frame")
    if x + w <= 0 or y + h <= 0 or x >= width or y >= height:
        raise InputError(
            f"box (x={x:g}, y={y:g}, w={w:g}, h={h:g}) lies entirely outside the "
            f"{width}x{height} frame")
    return (x, y, w, h)
