"""Drawing results on frames, kept apart from tracking so embedders can skip it.

Every label stays inside the frame and clear of the others and of the fps counter: it goes above
its box, else below it, else inside its top edge, whichever is the first to fit without overlapping
what is already drawn (labels of boxes near the top edge would otherwise be cut off, and those of
neighbouring targets written over each other).
"""

from __future__ import annotations

from typing import Optional, Sequence

import cv2
import numpy as np

from siamtrack.results import TrackResult

TRACKING_COLOR = (0, 220, 0)  # BGR green
LOST_COLOR = (0, 0, 255)  # BGR red
FONT = cv2.FONT_HERSHEY_SIMPLEX
LABEL_SCALE, FPS_SCALE = 0.5, 0.6
Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


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
    return annotate_all(frame, [result], [label], fps, in_place)


def annotate_all(frame: np.ndarray, results: Sequence[TrackResult], labels: Sequence[Optional[str]],
                 fps: Optional[float] = None, in_place: bool = False) -> np.ndarray:
    """Draw several results on one frame, their labels placed apart (see the module docstring)."""
    canvas = frame if in_place else frame.copy()
    fps_text = None if fps is None else f"{fps:.1f} fps"
    texts = [_label_text(result, label) for result, label in zip(results, labels)]
    layout = label_layout([_box_corners(result) for result in results], texts, canvas.shape, fps_text)
    if fps_text is not None:
        _outlined(canvas, fps_text, (layout[0][0], layout[0][3] - 4), FPS_SCALE, (255, 255, 255))
        layout = layout[1:]
    for result, text, rect in zip(results, texts, layout):
        color = LOST_COLOR if result.lost else TRACKING_COLOR
        corners = _box_corners(result)
        cv2.rectangle(canvas, corners[:2], corners[2:], color, 2, cv2.LINE_AA)
        _, base = cv2.getTextSize(text, FONT, LABEL_SCALE, 1)
        _outlined(canvas, text, (rect[0], rect[3] - base), LABEL_SCALE, color)
    return canvas


def label_layout(boxes: Sequence[Rect], texts: Sequence[str], shape: tuple[int, ...],
                 fps_text: Optional[str] = None) -> list[Rect]:
    """The rectangles the fps counter (first, if any) and each box's label will cover: inside the frame,
    and apart from each other wherever one of the candidate places is free."""
    taken: list[Rect] = []
    if fps_text is not None:
        (width, height), base = cv2.getTextSize(fps_text, FONT, FPS_SCALE, 1)
        taken.append((8, 8, 8 + width, 8 + height + base))
    for box, text in zip(boxes, texts):
        taken.append(_place(text, box, shape, taken))
    return taken


def _label_text(result: TrackResult, label: Optional[str]) -> str:
    return f"{label + '  ' if label else ''}score {result.score:.2f}{'  LOST' if result.lost else ''}"


def _box_corners(result: TrackResult) -> Rect:
    x, y, w, h = result.box
    return int(round(x)), int(round(y)), int(round(x + w - 1)), int(round(y + h - 1))


def _place(text: str, box: Rect, shape: tuple[int, ...], taken: Sequence[Rect]) -> Rect:
    """The rectangle a box's label covers: above the box, below it, or inside its top edge."""
    (width, height), base = cv2.getTextSize(text, FONT, LABEL_SCALE, 1)
    frame_h, frame_w = shape[:2]
    left = min(max(box[0], 2), max(frame_w - width - 2, 2))
    candidates = []
    for top in (box[1] - 6 - height - base, box[3] + 4, box[1] + 4):
        top = min(max(top, 2), max(frame_h - height - base - 2, 2))
        candidates.append((left, top, left + width, top + height + base))
    # Crowded: the nearest free row below, then above, the first place (a label far from its box
    # still beats one written over another).
    step = height + base + 2
    rows = [candidates[0][1] + k * step for k in range(1, frame_h // step + 1)]
    rows += [candidates[0][1] - k * step for k in range(1, frame_h // step + 1)]
    candidates += [(left, top, left + width, top + height + base) for top in rows
                   if 0 <= top and top + height + base <= frame_h]
    free = [rect for rect in candidates if not any(_overlap(rect, other) for other in taken)]
    return free[0] if free else candidates[0]


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _outlined(canvas: np.ndarray, text: str, origin: tuple[int, int], scale: float, color: tuple[int, ...]) -> None:
    """Text with a black outline, readable on any background."""
    cv2.putText(canvas, text, origin, FONT, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(canvas, text, origin, FONT, scale, color, 1, cv2.LINE_AA)
