"""Drawing results on frames, kept apart from tracking so embedders can skip it."""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

from .results import TrackResult

TRACKING_COLOR = (0, 220, 0)  # BGR green
LOST_COLOR = (0, 0, 255)  # BGR red


def annotate(frame: np.ndarray, result: TrackResult, label: Optional[str] = None,
             fps: Optional[float] = None, in_place: bool = False) -> np.ndarray:
    """Draw the box, score and lost state of ``result`` (and an FPS counter) on ``frame``.

    Args:
        frame: BGR uint8 image.
        result: what to draw.
        label: text before the score (e.g. a target id).
        fps: frames per second to show in the top-left corner; None shows none.
        in_place: draw on ``frame`` itself instead of a copy (saves a copy per frame).
    """
    canvas = frame if in_place else frame.copy()
    x, y, w, h = result.box
    color = LOST_COLOR if result.lost else TRACKING_COLOR
    top_left = (int(round(x)), int(round(y)))
    bottom_right = (int(round(x + w - 1)), int(round(y + h - 1)))
    cv2.rectangle(canvas, top_left, bottom_right, color, 2, cv2.LINE_AA)
    text = f"{label + '  ' if label else ''}score {result.score:.2f}{'  LOST' if result.lost else ''}"
    text_origin = (top_left[0], max(top_left[1] - 6, 14))
    cv2.putText(canvas, text, text_origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(canvas, text, text_origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)
    if fps is not None:
        cv2.putText(canvas, f"{fps:.1f} fps", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(canvas, f"{fps:.1f} fps", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return canvas
