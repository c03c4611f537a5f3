"""The single-object tracker: ``init(frame, box)`` once, then ``update(frame)`` per frame.

Per frame: crop the search region at every scale (:mod:`siamtrack.crops`), run the backbone and
cross-correlation (a :class:`~siamtrack.backends.Backend`), find the peak (:mod:`siamtrack.head`),
then move the box and update its size here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence, Union

import cv2
import numpy as np

from .config import TrackerConfig, load_config
from .crops import crop_squares
from .errors import ConfigError, InputError, NotInitializedError
from .frames import as_bgr, validate_box
from .head import ResponseHead
from .models import default_model_path  # noqa: F401  (public via siamtrack.default_model_path)
from .results import Box, TrackResult

if TYPE_CHECKING:
    from .backends import Backend

ConfigLike = Union[TrackerConfig, Mapping[str, Any], str, Path, None]


def _as_config(config: ConfigLike) -> TrackerConfig:
    if config is None:
        return TrackerConfig()
    if isinstance(config, TrackerConfig):
        return config
    if isinstance(config, Mapping):
        return TrackerConfig.from_dict(config)
    if isinstance(config, (str, Path)):
        return load_config(config)
    raise ConfigError(f"config must be a TrackerConfig, a mapping, or a preset name/path; got "
                      f"{type(config).__name__}")


@dataclass
class _TargetState:
    """What the tracker remembers about its target between frames."""

    center: tuple[float, float]  # pixel-centre coordinates
    initial_size: tuple[float, float]  # (w, h) at init
    initial_search_side: float  # frame pixels covered by the middle search scale at init
    kernels: Any  # the backend's exemplar features
    pad_color: tuple[float, float, float]  # mean colour of the first frame (BGR)
    reference_contrast: float  # peak contrast of the exemplar matched against its own frame
    frame_shape: tuple[int, int]  # (height, width) of the first frame
    scale: float = 1.0  # current size / initial size
    low_score_frames: int = 0
    frame_index: int = 0

    @property
    def size(self) -> tuple[float, float]:
        return self.initial_size[0] * self.scale, self.initial_size[1] * self.scale

    def box(self) -> Box:
        (cx, cy), (w, h) = self.center, self.size
        return (cx - (w - 1) / 2, cy - (h - 1) / 2, w, h)


class Tracker:
    """SiamFC single-object tracker.

    Args:
        model: weights file (any layout :func:`siamtrack.weights.load_weights` reads), loaded
            :class:`~siamtrack.weights.ModelWeights`, or an exported ONNX folder (``siamtrack
            export``); None loads the project's default model in the form the backend reads.
        backend: ``auto``, a backend name (see :data:`siamtrack.backends.BACKEND_NAMES`), or an
            object implementing :class:`~siamtrack.backends.Backend` (then ``model`` must be None).
            An explicitly requested backend that cannot run here is an error, never a fallback.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        config: a :class:`TrackerConfig`, a mapping of its fields, or a preset name / JSON path;
            None is SiamFC-3s.
        threads: CPU threads for inference; None keeps the framework's default.

    Example:
        >>> tracker = Tracker(model="weights.pth")
        >>> tracker.init(first_frame, (x, y, w, h))
        >>> for frame in frames:
        ...     result = tracker.update(frame)
    """

    def __init__(self, model: Any = None, backend: "str | Backend" = "auto", device: str = "auto",
                 config: ConfigLike = None, threads: int | None = None) -> None:
        from .backends import create_backend

        self.config = _as_config(config)
        if isinstance(backend, str):
            self._backend = create_backend(backend, model, device=device, threads=threads)
        elif model is not None or device != "auto" or threads is not None:
            raise ConfigError("a backend object already holds its model, device and threads; "
                              "pass model/device/threads only with a backend name")
        else:
            self._backend = backend
        meta = self._backend.metadata
        expected = (meta.exemplar_size, meta.instance_size, meta.total_stride)
        configured = (self.config.exemplar_size, self.config.instance_size, self.config.total_stride)
        if expected != configured:
            raise ConfigError(f"the model works on exemplar/instance/stride {expected} but the config "
                              f"says {configured}")
        self._head = ResponseHead(self.config)
        self._state: _TargetState | None = None

    @property
    def backend_name(self) -> str:
        return self._backend.name

    @property
    def device(self) -> str:
        return self._backend.device

    @property
    def initialized(self) -> bool:
        return self._state is not None

    def init(self, frame: np.ndarray, box: Sequence[float]) -> TrackResult:
        """Start tracking the object inside ``box`` on ``frame`` (replaces any current target).

        Args:
            frame: H x W x 3 uint8 BGR (grayscale and BGRA are converted).
            box: (x, y, w, h) in pixels, 0-based top-left, floats allowed. It may stick out of
                the frame but must overlap it.

        Returns:
            The result for this frame: the given box, score 1, frame index 0.

        Raises:
            InputError: bad frame or box.
        """
        image = as_bgr(frame)
        x, y, w, h = validate_box(box, image.shape)
        config = self.config
        context = config.context_amount * (w + h)
        exemplar_side = math.sqrt((w + context) * (h + context))
        pad_color = tuple(cv2.mean(image)[:3])
        center = (x + (w - 1) / 2, y + (h - 1) / 2)
        search_side = exemplar_side * config.instance_size / config.exemplar_size
        exemplar = crop_squares(image, center, [exemplar_side], config.exemplar_size, pad_color)
        kernels = self._backend.template(exemplar)
        # The exemplar found in its own frame is the best match the target will ever get; later
        # peaks are scored against it (see TrackResult.score).
        own_search = crop_squares(image, center, [search_side], config.instance_size, pad_color)
        own_contrast = self._head.contrast(self._backend.track(own_search, kernels)[0])
        self._state = _TargetState(
            center=center, initial_size=(w, h), initial_search_side=search_side,
            kernels=kernels, pad_color=pad_color, reference_contrast=max(own_contrast, 1e-6),
            frame_shape=image.shape[:2])
        return TrackResult((x, y, w, h), 1.0, False, 0)

    def update(self, frame: np.ndarray) -> TrackResult:
        """Locate the target in the next frame.

        Raises:
            NotInitializedError: ``init`` has not been called (or ``reset`` was).
            InputError: bad frame, or its size differs from the frame given to ``init``.
        """
        state = self._state
        if state is None:
            raise NotInitializedError("call init(frame, box) before update(frame)")
        image = as_bgr(frame)
        if image.shape[:2] != state.frame_shape:
            raise InputError(
                f"frame size changed from {state.frame_shape[1]}x{state.frame_shape[0]} to "
                f"{image.shape[1]}x{image.shape[0]}; call init() again for a new video size")
        config = self.config
        sides = state.initial_search_side * state.scale * self._head.scales
        crops = crop_squares(image, state.center, sides, config.instance_size, state.pad_color)
        peak = self._head.locate(self._backend.track(crops, state.kernels))

        # Offsets are in search-crop pixels; the chosen crop covers sides[k] frame pixels.
        frame_per_crop_pixel = sides[peak.scale_index] / config.instance_size
        height, width = state.frame_shape
        state.center = (
            min(max(state.center[0] + peak.offset[0] * frame_per_crop_pixel, 0.0), width - 1.0),
            min(max(state.center[1] + peak.offset[1] * frame_per_crop_pixel, 0.0), height - 1.0))
        damped = (1.0 - config.scale_lr) + config.scale_lr * self._head.scales[peak.scale_index]
        state.scale = min(max(state.scale * damped, config.min_size_factor), config.max_size_factor)

        score = min(max(peak.contrast / state.reference_contrast, 0.0), 1.0)
        state.low_score_frames = state.low_score_frames + 1 if score < config.lost_threshold else 0
        state.frame_index += 1
        return TrackResult(state.box(), score, state.low_score_frames >= config.lost_patience,
                           state.frame_index)

    def reset(self) -> None:
        """Forget the target; ``init`` must be called again before ``update``."""
        self._state = None
