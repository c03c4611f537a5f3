"""Detectors: frame -> boxes, scores and class ids, to start targets and to get lost ones back.

One small protocol, [Detector][siamtrack.detection.detectors.Detector] (``detect(frame) ->
Detections``), and three built-in kinds, none of which needs a download:

* ``person``: OpenCV's HOG + linear SVM people detector (Dalal and Triggs; ships inside OpenCV).
  Upright, whole people of at least 64 x 128 px; frames are upscaled when their people are smaller
  (``min_height``). No GPU, a few frames per second on large frames.
* ``face``: OpenCV's Haar cascade for frontal faces (Viola and Jones; its XML ships in the OpenCV
  wheel). Fast; frontal faces only.
* ``onnx:PATH``: any ONNX detector with the YOLO output layouts in wide use: YOLOv5 style
  ``(1, N, 5 + C)`` (center x, center y, width, height, objectness, class scores) and YOLOv8 /
  YOLO11 style ``(1, 4 + C, N)`` (no objectness). The input size comes from the graph (640 if
  it is dynamic); frames are letterboxed to it (aspect kept, grey padding), RGB 0..1, and boxes
  go through per-class non-maximum suppression. Class names come from the graph's ``names``
  metadata (Ultralytics writes it) or from ``names=``.

A user's own detector is any object with a ``detect(frame)`` method returning
[Detections][siamtrack.Detections].
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Optional, Protocol, Sequence, runtime_checkable

import cv2
import numpy as np

from siamtrack.errors import ConfigError, InputError
from siamtrack.results import Detections

DETECTOR_NAMES = ("person", "face", "onnx:PATH")
PERSON_IN_WINDOW = np.array([0.45, 0.8])  # the person's share of a HOG window's width and height


@runtime_checkable
class Detector(Protocol):
    """Anything that finds objects in a frame."""

    def detect(self, frame: np.ndarray) -> Detections:
        """Objects in a BGR uint8 frame."""
        ...


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


MAX_HOG_SIDE = 1920  # px: the longest side HOG scans


class PeopleDetector:
    """OpenCV's HOG people detector (see the module docstring).

    Args:
        min_height: smallest person height (px) to find; frames are upscaled so that it becomes
            the detector's 128 px window (slower for small people).
        hit_threshold: SVM margin a window needs (0: OpenCV's default); scores are the margin
            through a logistic, so 0.5 is the default threshold's margin.
    """

    names = ("person",)

    def __init__(self, min_height: int = 96, hit_threshold: float = 0.0) -> None:
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())  # type: ignore[attr-defined]  # stubs lack it
        self.min_height, self.hit_threshold = min_height, hit_threshold

    def detect(self, frame: np.ndarray) -> Detections:
        # Upscaled so min_height becomes HOG's 128 px window, but never past MAX_HOG_SIDE: on an
        # 8000 px frame one pass took ~40 s (and a stop signal waited for it).
        scale = min(max(1.0, 128.0 / self.min_height), MAX_HOG_SIDE / max(frame.shape[:2]))
        image = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale != 1 else frame
        found, weights = self._hog.detectMultiScale(image, hitThreshold=self.hit_threshold, winStride=(8, 8),
                                                    padding=(8, 8), scale=1.05)
        if len(found) == 0:
            return Detections.empty(self.names)
        windows = np.asarray(found, dtype=np.float64) / scale
        # HOG's window holds the person with a margin (64 x 128 px around a ~96 px person): the box
        # is the window's middle, PERSON_IN_WINDOW of its width and height, which raised the median
        # IoU with the ground truth from 0.32 to 0.65 on 45 frames of 9 training sequences.
        boxes = windows.copy()
        boxes[:, 2:] *= PERSON_IN_WINDOW
        boxes[:, :2] += (windows[:, 2:] - boxes[:, 2:]) / 2
        scores = _sigmoid(np.asarray(weights, dtype=np.float64).reshape(-1))
        keep = non_maximum_suppression(boxes, scores, np.zeros(len(boxes), np.int64), 0.5)
        return Detections(boxes[keep], scores[keep], np.zeros(len(keep), np.int64), self.names)


class FaceDetector:
    """OpenCV's Haar cascade for frontal faces (see the module docstring).

    Args:
        min_size: smallest face side (px) to find.
        neighbours: detections a face needs around it (higher: fewer false faces).
    """

    names = ("face",)

    def __init__(self, min_size: int = 24, neighbours: int = 5) -> None:
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ConfigError(f"cannot load OpenCV's face cascade from {path}")
        self.min_size, self.neighbours = min_size, neighbours

    def detect(self, frame: np.ndarray) -> Detections:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        boxes, _, weights = self._cascade.detectMultiScale3(gray, scaleFactor=1.1, minNeighbors=self.neighbours,
                                                            minSize=(self.min_size, self.min_size),
                                                            outputRejectLevels=True)
        if len(boxes) == 0:
            return Detections.empty(self.names)
        # The last stage's weight: about 0 at the cascade's acceptance, a few units for clear faces.
        scores = _sigmoid(np.asarray(weights, dtype=np.float64).reshape(-1))
        return Detections(np.asarray(boxes, dtype=np.float64), scores, np.zeros(len(boxes), np.int64), self.names)


def non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray,
                            iou_threshold: float) -> np.ndarray:
    """Indices of the boxes kept, best first: within each class, a box overlapping a better one by
    more than ``iou_threshold`` (intersection over union) is dropped."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    # Shifting each class far apart lets one pass keep classes separate (boxes of different
    # classes never overlap).
    offset = (class_ids.astype(np.float64) * (np.abs(boxes).max() + 1.0))[:, None]
    shifted = boxes.copy()
    shifted[:, :2] += offset
    order = np.argsort(-scores, kind="stable")
    x1, y1 = shifted[:, 0], shifted[:, 1]
    x2, y2 = x1 + shifted[:, 2], y1 + shifted[:, 3]
    areas = shifted[:, 2] * shifted[:, 3]
    kept: list[int] = []
    while len(order):
        best, rest = order[0], order[1:]
        kept.append(int(best))
        width = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        height = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        overlap = width * height
        iou = overlap / (areas[best] + areas[rest] - overlap + 1e-12)
        order = rest[iou <= iou_threshold]
    return np.asarray(kept, np.int64)


def clip_to_frame(boxes: np.ndarray, shape: tuple[int, ...], min_side: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """(x, y, w, h) boxes cut to the frame, and which of them keep at least ``min_side`` px each way."""
    height, width = shape[:2]
    x0, y0 = np.clip(boxes[:, 0], 0, width), np.clip(boxes[:, 1], 0, height)
    x1, y1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width), np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
    clipped = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    return clipped, (clipped[:, 2] >= min_side) & (clipped[:, 3] >= min_side)


def letterbox(frame: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Resize keeping the aspect ratio and pad to ``size`` (width, height) with grey (114), as YOLO
    trains; returns the image, the scale and the (x, y) padding, to map boxes back."""
    height, width = frame.shape[:2]
    scale = min(size[0] / width, size[1] / height)
    new_w, new_h = int(round(width * scale)), int(round(height * scale))
    pad_x, pad_y = (size[0] - new_w) / 2, (size[1] - new_h) / 2
    resized = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    left, top = int(round(pad_x - 0.1)), int(round(pad_y - 0.1))
    canvas = cv2.copyMakeBorder(resized, top, size[1] - new_h - top, left, size[0] - new_w - left,
                                cv2.BORDER_CONSTANT, value=(114, 114, 114))
    return canvas, scale, (float(left), float(top))


def decode_yolo(output: np.ndarray, class_count: Optional[int] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image's raw YOLO output -> (boxes (N, 4) center x, y, w, h; scores (N,); class ids (N,)).

    Reads both layouts (see the module docstring): YOLOv8 / YOLO11 ``(4 + C, N)`` and YOLOv5
    ``(N, 5 + C)``. A leading batch axis of 1 is dropped. ``class_count`` tells them apart when
    the shape alone cannot (a square output).
    """
    values = np.asarray(output, dtype=np.float64)
    if values.ndim == 3:
        if values.shape[0] != 1:
            raise InputError(f"expected one image's detector output, got a batch of {values.shape[0]}")
        values = values[0]
    if values.ndim != 2:
        raise InputError(f"unrecognised detector output of shape {output.shape}")
    rows, columns = values.shape
    if class_count is not None:
        v8 = rows == 4 + class_count and columns != 5 + class_count
    else:
        v8 = rows < columns  # (4 + C, N): a handful of channels, thousands of anchors
    if (v8 and rows < 5) or (not v8 and columns < 6):  # too few channels for that layout: the other one
        v8 = not v8
    if (v8 and rows < 5) or (not v8 and columns < 6):
        raise InputError(f"detector output of shape {output.shape} is no YOLO layout (too few channels)")
    if v8:
        boxes = values[:4].T
        class_scores = values[4:].T
        objectness = np.ones(len(boxes))
    else:
        boxes = values[:, :4]
        objectness = values[:, 4]
        class_scores = values[:, 5:]
    if class_scores.shape[1] == 0:
        raise InputError(f"detector output of shape {output.shape} holds no class scores")
    class_ids = class_scores.argmax(axis=1)
    scores = objectness * class_scores[np.arange(len(boxes)), class_ids]
    return boxes, scores, class_ids


class OnnxDetector:
    """A YOLO-layout ONNX detector run by ONNX Runtime (see the module docstring).

    Args:
        path: the ``.onnx`` file.
        names: class names by index (default: the graph's ``names`` metadata, if any).
        confidence: lowest score kept.
        iou_threshold: non-maximum suppression overlap.
        threads: ONNX Runtime intra-op threads (None: its default).

    Raises:
        ConfigError: the file is missing or not an ONNX graph, or ONNX Runtime is not installed.
    """

    def __init__(self, path: str | Path, names: Sequence[str] | None = None, confidence: float = 0.25,
                 iou_threshold: float = 0.45, threads: int | None = None) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise ConfigError("ONNX detectors need ONNX Runtime: pip install onnxruntime") from None
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"detector model not found: {path}")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if threads is not None:
            options.intra_op_num_threads = threads
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ONNX Runtime raises its own pybind types for every load failure
            raise ConfigError(f"{path} cannot be loaded as an ONNX detector: {str(exc).splitlines()[0]}") from None
        graph_input = self._session.get_inputs()[0]
        self._input_name = graph_input.name
        self.input_size = _checked_input_size(path, list(graph_input.shape))
        _check_output_shape(path, list(self._session.get_outputs()[0].shape))
        self.names = tuple(names) if names is not None else _graph_names(self._session)
        self.confidence, self.iou_threshold = confidence, iou_threshold

    def detect(self, frame: np.ndarray) -> Detections:
        image, scale, (pad_x, pad_y) = letterbox(frame, self.input_size)
        blob = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        output = self._session.run(None, {self._input_name: blob})[0]
        centers, scores, class_ids = decode_yolo(output, len(self.names) or None)
        keep = scores >= self.confidence
        centers, scores, class_ids = centers[keep], scores[keep], class_ids[keep]
        boxes = np.stack([(centers[:, 0] - centers[:, 2] / 2 - pad_x) / scale,
                          (centers[:, 1] - centers[:, 3] / 2 - pad_y) / scale,
                          centers[:, 2] / scale, centers[:, 3] / scale], axis=1) if len(centers) else np.zeros((0, 4))
        boxes, inside = clip_to_frame(boxes, frame.shape)  # a box in the letterbox's padding is no object
        boxes, scores, class_ids = boxes[inside], scores[inside], class_ids[inside]
        kept = non_maximum_suppression(boxes, scores, class_ids, self.iou_threshold)
        return Detections(boxes[kept], scores[kept], class_ids[kept], self.names)


# The largest input side a detector may declare: YOLO exports are 320 - 1280; 4096 keeps one
# letterboxed frame under 200 MB of float32, where a hostile graph could ask for gigabytes.
MAX_DETECTOR_SIDE = 4096


def _checked_input_size(path: Path, shape: list[Any]) -> tuple[int, int]:
    """(width, height) of a detector's declared (1, 3, H, W) input (640 for a dynamic side), checked
    when it is loaded: another layout is a one-line error, not ONNX Runtime's on the first frame."""
    if len(shape) != 4 or shape[1] not in (3, "3") and isinstance(shape[1], int):
        raise ConfigError(f"{path}: the detector's input is {shape}; siamtrack feeds (1, 3, height, width) RGB images")
    sides = [side if isinstance(side, int) else 640 for side in shape[2:]]
    if not all(32 <= side <= MAX_DETECTOR_SIDE for side in sides):
        raise ConfigError(f"{path}: the detector's input side {shape[2:]} is outside 32 - {MAX_DETECTOR_SIDE} px")
    return sides[1], sides[0]


def _check_output_shape(path: Path, shape: list[Any]) -> None:
    """A YOLO layout's output: (1, 4 + C, N) or (1, N, 5 + C), C >= 1; fixed sides must allow one."""
    fixed = [side for side in shape[1:] if isinstance(side, int)]
    if len(shape) != 3 or (len(fixed) == 2 and max(fixed) < 5):
        raise ConfigError(f"{path}: the detector's output is {shape}; siamtrack reads YOLO layouts, "
                          f"(1, 4 + classes, boxes) or (1, boxes, 5 + classes)")


def _graph_names(session: Any) -> tuple[str, ...]:
    """Class names from an ONNX graph's ``names`` metadata (Ultralytics: ``{0: 'person', ...}``)."""
    text = session.get_modelmeta().custom_metadata_map.get("names")
    if not text:
        return ()
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return ()
    if isinstance(names, dict):
        return tuple(str(names[key]) for key in sorted(names))
    if isinstance(names, (list, tuple)):
        return tuple(str(name) for name in names)
    return ()


def create_detector(spec: str, threads: int | None = None) -> Detector:
    """``person``, ``face`` or ``onnx:PATH`` -> a detector (see the module docstring).

    Raises:
        ConfigError: an unknown name, or a model that cannot be loaded.
    """
    if spec == "person":
        return PeopleDetector()
    if spec == "face":
        return FaceDetector()
    if spec.startswith("onnx:") and len(spec) > len("onnx:"):
        return OnnxDetector(spec[len("onnx:"):], threads=threads)
    raise ConfigError(f"unknown detector {spec!r}; use {', '.join(DETECTOR_NAMES)}")
