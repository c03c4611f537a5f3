"""OpenCV's trackers as peers to compare against, behind the same init/update interface.

CSRT and KCF live in OpenCV's contrib modules (``opencv-contrib-python``, which siamtrack
installs); MIL, Nano (NanoTrack v2) and Vit (VitTrack) are in the main modules. Nano and Vit need
their ONNX models, looked up under a folder laid out as ``../shared/weights``::

    nanotrack_v2/nanotrack_backbone_sim.onnx, nanotrack_v2/nanotrack_head_sim.onnx
    vittrack/vitTracker.onnx

A peer that cannot be built here raises `PeerUnavailable` with the reason.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any, Callable, Optional

import cv2
import numpy as np

from siamtrack.errors import PeerUnavailable
from siamtrack.results import Box, TrackResult

PEER_NAMES = ("csrt", "kcf", "mil", "nano", "vit")
NANO_FILES = ("nanotrack_v2/nanotrack_backbone_sim.onnx", "nanotrack_v2/nanotrack_head_sim.onnx")
VIT_FILE = "vittrack/vitTracker.onnx"
OPENCV_DISTRIBUTIONS = ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
                        "opencv-contrib-python-headless")


def installed_opencv() -> list[str]:
    """Names of the OpenCV wheels installed (more than one breaks ``cv2``)."""
    found = []
    for name in OPENCV_DISTRIBUTIONS:
        try:
            importlib.metadata.version(name)
            found.append(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _opencv_class(name: str) -> Any:
    tracker_class = getattr(cv2, name, None)
    if tracker_class is None:
        wheels = ", ".join(installed_opencv()) or "an unknown OpenCV build"
        raise PeerUnavailable(
            f"cv2.{name} is not in this OpenCV ({cv2.__version__}, from {wheels}); it ships in "
            f"opencv-contrib-python: uninstall the other OpenCV wheel(s), then install that one")
    return tracker_class


def _model_file(models: Optional[Path], relative: str, tracker: str) -> str:
    if models is None:
        raise PeerUnavailable(f"{tracker} needs its ONNX model: pass --peer-models DIR (laid out as ../shared/weights)")
    path = Path(models) / relative
    if not path.is_file():
        raise PeerUnavailable(f"{tracker} model not found: {path}")
    return str(path)


class OpenCVPeer:
    """Adapts a ``cv2.Tracker`` to ``init(frame, box)`` / ``update(frame) -> TrackResult``.

    When OpenCV reports a failure, the previous box is kept and ``lost`` is set; ``score`` is
    OpenCV's tracking score where the tracker has one (Nano, Vit), else 1 or 0.
    """

    def __init__(self, name: str, create: Callable[[], object]) -> None:
        self.name = name
        self._create = create
        self._tracker: Any = None
        self._box: Box = (0.0, 0.0, 0.0, 0.0)
        self._index = 0

    def init(self, frame: np.ndarray, box) -> TrackResult:
        self._tracker = self._create()  # OpenCV trackers are not reliably re-initialisable
        x, y, w, h = (float(v) for v in box)
        self._tracker.init(frame, (int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h)))))
        self._box, self._index = (x, y, w, h), 0
        return TrackResult(self._box, 1.0, False, 0)

    def update(self, frame: np.ndarray) -> TrackResult:
        ok, box = self._tracker.update(frame)
        self._index += 1
        if ok:
            x, y, w, h = (float(v) for v in box)
            self._box = (x, y, w, h)
        score_of = getattr(self._tracker, "getTrackingScore", None)
        score = float(score_of()) if score_of is not None else float(ok)
        return TrackResult(self._box, min(max(score, 0.0), 1.0), not ok, self._index)


def create_peer(name: str, models: Optional[Path] = None) -> OpenCVPeer:
    """Build the named peer (see ``PEER_NAMES``).

    Raises:
        PeerUnavailable: unknown name, model file missing, or not in this OpenCV build.
    """
    if name in ("csrt", "kcf", "mil"):
        tracker_class = _opencv_class({"csrt": "TrackerCSRT", "kcf": "TrackerKCF", "mil": "TrackerMIL"}[name])
        return OpenCVPeer(name, tracker_class.create)
    if name == "nano":
        tracker_class = _opencv_class("TrackerNano")
        backbone, head = (_model_file(models, f, "nano") for f in NANO_FILES)

        def create_nano() -> object:
            params = cv2.TrackerNano_Params()  # type: ignore[attr-defined]  # contrib builds only
            params.backbone, params.neckhead = backbone, head
            return tracker_class.create(params)

        create_nano()  # fail now, with the file named, if OpenCV cannot load the models
        return OpenCVPeer(name, create_nano)
    if name == "vit":
        tracker_class = _opencv_class("TrackerVit")
        net = _model_file(models, VIT_FILE, "vit")

        def create_vit() -> object:
            params = cv2.TrackerVit_Params()  # type: ignore[attr-defined]  # contrib builds only
            params.net = net
            return tracker_class.create(params)

        create_vit()
        return OpenCVPeer(name, create_vit)
    raise PeerUnavailable(f"unknown peer tracker {name!r}; known: {', '.join(PEER_NAMES)}")
