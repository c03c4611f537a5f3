"""A live window: showing frames, reading keys, selecting a region of interest."""

from __future__ import annotations

import os
import sys
from typing import Optional, Protocol

import cv2
import numpy as np

from siamtrack.errors import SiamtrackError
from siamtrack.results import Box

KEY_QUIT = (ord("q"), 27)  # q, Esc
KEY_RESELECT = ord(" ")
KEY_RESET = ord("r")


class Display(Protocol):
    """What the tracking loop needs from a window (tests use a scripted fake)."""

    def show(self, image: np.ndarray) -> int:
        """Show ``image``; return the key pressed meanwhile (-1 for none)."""
        ...

    def select_roi(self, image: np.ndarray) -> Optional[Box]:
        """Let the user draw a box on ``image``; None when cancelled."""
        ...

    def close(self) -> None: ...


def display_available() -> bool:
    """Whether a window can be opened: on Linux, only with an X11 or Wayland display."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class OpenCVDisplay:
    """An OpenCV HighGUI window."""

    def __init__(self, title: str = "siamtrack") -> None:
        self.title = title
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            raise SiamtrackError(
                "cannot open a window: this OpenCV build has no GUI support (opencv-python-headless?) "
                f"or no display is reachable ({str(exc).strip().splitlines()[-1]})") from None

    def show(self, image: np.ndarray) -> int:
        cv2.imshow(self.title, image)
        key = cv2.waitKey(1)
        return key & 0xFF if key >= 0 else -1

    def select_roi(self, image: np.ndarray) -> Optional[Box]:
        x, y, w, h = cv2.selectROI(self.title, image, showCrosshair=True, fromCenter=False)
        if w <= 0 or h <= 0:
            return None
        return (float(x), float(y), float(w), float(h))

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
        except cv2.error:
            pass  # already closed by the user
