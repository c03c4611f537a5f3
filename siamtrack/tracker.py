"""The trackers: :class:`MultiTracker` (any number of targets) and :class:`Tracker` (one).

Per frame, for all targets together: cut each target's search crops (:mod:`siamtrack.crops`) -
one crop (single-pass scale search) or SiamFC's scale pyramid, or while it is lost a grid of
tiles over a growing region (:mod:`siamtrack.redetect`) - run them through the backbone and
cross-correlation in one batched call (a :class:`~siamtrack.backends.Backend`), find each
target's peak (:mod:`siamtrack.head`), then move its box, update its size and its confidence here.

Single pass: when a target is added, its exemplar is cut at every candidate scale (side
``exemplar / s``, so a target grown by ``s`` matches kernel ``s``), giving one kernel per scale.
Each frame then needs one search crop per target: the backbone runs once and every scale is one
more cross-correlation of the same search features. Scale penalty and damping are SiamFC's.
Kernels cut at different scales match with slightly different strengths (a few percent, as
much as the scale penalty), which would bias the scale choice; so each kernel gets a gain, set
when the target is added, that makes its match with the target shown at its own scale equal
the middle kernel's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence, Union

import cv2
import numpy as np

from .backends.base import DeviceBackend
from .config import TrackerConfig, load_config
from .crops import crop_regions
from .errors import ConfigError, InputError, NotInitializedError
from .frames import as_bgr, validate_box
from .head import Peak, ResponseHead
from .models import default_model_path  # noqa: F401  (public via siamtrack.default_model_path)
from .redetect import search_tiles
from .results import Box, TrackResult

if TYPE_CHECKING:
    from .backends import Backend

ConfigLike = Union[TrackerConfig, Mapping[str, Any], str, Path, None]
PIPELINES = ("auto", "opencv", "tensor")


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


@dataclass(frozen=True)
class StageTimes:
    """Where one update's time went, in milliseconds (:attr:`MultiTracker.stage_times`).

    Attributes:
        crop: checking the frame, planning and cutting the search crops.
        network: the backbone and cross-correlation call; with :func:`update_streams` it is the
            batched call shared by all trackers of that update.
        head: finding each target's peak and moving its box.

    On the ``tensor`` pipeline crops, network and head run as one device step, all counted as
    ``network``. Whatever is not in these three (Python overhead around them) is the caller's
    measured total minus their sum.
    """

    crop: float = 0.0
    network: float = 0.0
    head: float = 0.0


@dataclass
class _Target:
    """What the tracker remembers about one target between frames."""

    target_id: int
    center: tuple[float, float]  # pixel-center coordinates
    initial_size: tuple[float, float]  # (w, h) when added
    initial_search_side: float  # frame pixels covered by the middle search scale when added
    kernels: Any  # the backend's exemplar features: one per scale (single pass) or one (pyramid)
    gains: np.ndarray  # per kernel: its responses (less the model's bias) are multiplied by this
    pad_color: tuple[float, float, float]  # mean color of the frame it was added on (BGR)
    reference_contrast: float  # peak contrast of the exemplar matched against its own frame
    featureless: bool = False  # the exemplar has no texture to match (TrackerConfig.min_texture)
    scale: float = 1.0  # current size / initial size
    last_score: float = 1.0  # confidence of the last update (TrackerConfig.pyramid_below reads it)
    low_score_frames: int = 0
    searching_frames: int = 0  # > 0: lost, re-detecting for this many frames
    frame_index: int = 0

    @property
    def size(self) -> tuple[float, float]:
        return self.initial_size[0] * self.scale, self.initial_size[1] * self.scale

    @property
    def search_side(self) -> float:
        return self.initial_search_side * self.scale

    def box(self) -> Box:
        (cx, cy), (w, h) = self.center, self.size
        return (cx - (w - 1) / 2, cy - (h - 1) / 2, w, h)


@dataclass(frozen=True)
class _Plan:
    """The crops one target asks for this frame; each crop is matched with all the target's kernels."""

    target: _Target
    centers: list[tuple[float, float]]
    sides: list[float]
    kernels_per_crop: int
    redetecting: bool
    pyramid_fallback: bool = False  # single pass, uncertain: a crop per scale, each read with the middle kernel

    @property
    def maps(self) -> int:
        """Response maps this plan gets back: crops x kernels per crop."""
        return len(self.sides) * self.kernels_per_crop

    def map_gains(self) -> np.ndarray:
        """The gain of each of this plan's maps (its kernel's)."""
        return np.tile(self.target.gains, len(self.sides))


class MultiTracker:
    """Tracks any number of targets, all in one batched network call per frame.

    Args:
        model: weights file (any layout :func:`siamtrack.weights.load_weights` reads), loaded
            :class:`~siamtrack.weights.ModelWeights`, an exported ONNX folder (``siamtrack
            export``), or a built-in model's name (``default``; ``fast``, meant for
            ``config="single-pass"``); None loads the default model, in the form the backend reads.
        backend: ``auto``, a backend name (see :data:`siamtrack.backends.BACKEND_NAMES`), or an
            object implementing :class:`~siamtrack.backends.Backend` (then ``model`` must be None).
            An explicitly requested backend that cannot run here is an error, never a fallback.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        config: a :class:`TrackerConfig`, a mapping of its fields, or a preset name / JSON path;
            None is SiamFC-3s.
        threads: CPU threads for inference; None keeps the framework's default.
        pipeline: where crops and the response head run. ``opencv``: on the CPU (OpenCV and
            NumPy), the right choice for CPU backends. ``tensor``: on the backend's device with
            torch (:mod:`siamtrack.gpu`): the frame is uploaded once and nothing but the peaks
            comes back, which is what makes a GPU fast. ``auto``: ``tensor`` when the backend
            runs on CUDA, else ``opencv``.
        cuda_graphs: on the tensor pipeline on CUDA, capture each frame's step as a CUDA graph
            and replay it (less launch overhead); False launches the kernels one by one.

    Example:
        >>> tracker = MultiTracker()
        >>> car = tracker.add(frame, (x, y, w, h)).target_id
        >>> for frame in frames:
        ...     results = tracker.update(frame)   # {target id: TrackResult}
    """

    def __init__(self, model: Any = None, backend: "str | Backend" = "auto", device: str = "auto",
                 config: ConfigLike = None, threads: int | None = None, pipeline: str = "auto",
                 cuda_graphs: bool = True) -> None:
        from .backends import create_backend

        if pipeline not in PIPELINES:
            raise ConfigError(f"pipeline must be one of {', '.join(PIPELINES)}, got {pipeline!r}")
        self.config = _as_config(config)
        if isinstance(backend, str):
            self._backend = create_backend(backend, model, device=device, threads=threads)
        elif model is not None or device != "auto" or threads is not None:
            raise ConfigError("a backend object already holds its model, device and threads; "
                              "pass model/device/threads only with a backend name")
        else:
            self._backend = backend
        # Crop sizes and stride belong to the network: they come from its metadata.
        self.metadata = self._backend.metadata
        self._head = ResponseHead(self.config, self.metadata.total_stride)
        self._targets: dict[int, _Target] = {}
        self._next_id = 1
        self._frame_shape: tuple[int, int] | None = None
        self._stacked: tuple[tuple, Any] | None = None  # (layout, kernels) of the last batch
        self._stage_times = StageTimes()
        on_device = isinstance(self._backend, DeviceBackend)
        if pipeline == "tensor" and not on_device:
            raise ConfigError(f"the tensor pipeline needs a backend with track_tensors (torch or tensorrt), "
                              f"not {self._backend.name}")
        self._tensor_step = None
        if self.config.pyramid_below > 0 and (pipeline == "tensor" or (
                pipeline == "auto" and on_device and str(self._backend.device).startswith("cuda"))):
            raise ConfigError("pyramid_below runs on the opencv pipeline only; pass pipeline='opencv'")
        if pipeline == "tensor" or (pipeline == "auto" and on_device and str(self._backend.device).startswith("cuda")):
            from .gpu.step import TensorStep

            self._tensor_step = TensorStep(self._backend, self.config, self._head, self.metadata.instance_size,
                                           cuda_graphs=cuda_graphs)

    @property
    def stage_times(self) -> StageTimes:
        """Where the last :meth:`update`'s time went (all zero before the first)."""
        return self._stage_times

    @property
    def pipeline(self) -> str:
        """``tensor`` (crops and head on the backend's device) or ``opencv`` (on the CPU)."""
        return "tensor" if self._tensor_step is not None else "opencv"

    @property
    def backend_name(self) -> str:
        return self._backend.name

    @property
    def device(self) -> str:
        return self._backend.device

    @property
    def ids(self) -> list[int]:
        """Ids of the current targets, in the order they were added."""
        return list(self._targets)

    def __len__(self) -> int:
        return len(self._targets)

    def __contains__(self, target_id: object) -> bool:
        return target_id in self._targets

    def _check_frame(self, frame: np.ndarray) -> np.ndarray:
        image = as_bgr(frame)
        if self._targets and self._frame_shape is not None and image.shape[:2] != self._frame_shape:
            height, width = self._frame_shape
            raise InputError(
                f"frame size changed from {width}x{height} to {image.shape[1]}x{image.shape[0]}; "
                f"remove the targets (or call init() again) for a new video size")
        return image

    def add(self, frame: np.ndarray, box: Sequence[float], target_id: int | None = None) -> TrackResult:
        """Start tracking the object inside ``box`` on ``frame``.

        Args:
            frame: H x W x 3 uint8 BGR (grayscale and BGRA are converted); the same size as the
                frames of the targets already tracked.
            box: (x, y, w, h) in pixels, 0-based top-left, floats allowed. It may stick out of
                the frame but must overlap it.
            target_id: the id to give it (e.g. a detector's track id), >= 1 and not in use;
                None takes the next unused one. Automatic ids continue above every id given.

        Returns:
            Its result on this frame: the given box, score 1 (0 and lost for a featureless
            box), frame index 0, and its ``target_id``, which ``remove`` takes.

        Raises:
            InputError: bad frame or box.
            KeyError: ``target_id`` is in use.
            ValueError: ``target_id`` is below 1.
        """
        if target_id is not None:
            if target_id < 1:
                raise ValueError(f"target ids start at 1, got {target_id}")
            if target_id in self._targets:
                raise KeyError(f"target id {target_id} is in use")
        image = self._check_frame(frame)
        x, y, w, h = validate_box(box, image.shape)
        config, model = self.config, self.metadata
        context = config.context_amount * (w + h)
        exemplar_side = math.sqrt((w + context) * (h + context))
        blue, green, red = cv2.mean(image)[:3]
        pad_color = (blue, green, red)
        center = (x + (w - 1) / 2, y + (h - 1) / 2)
        search_side = exemplar_side * model.instance_size / model.exemplar_size
        # Single pass: one exemplar per scale s, cut at side exemplar / s, so that kernel s shows
        # the target as large as it looks in the search crop once it has grown by s.
        scales = self._head.scales if config.scale_search == "single" else [1.0]
        exemplar = crop_regions(image, [center] * len(scales), [exemplar_side / s for s in scales],
                                model.exemplar_size, pad_color)
        kernels = self._backend.template(exemplar)
        featureless = float(exemplar[len(scales) // 2].std()) < config.min_texture
        # The exemplar found in its own frame is the best match the target will ever get; later
        # peaks are scored against it (see TrackResult.score). Kernel s is also matched with
        # the target shown at its scale (search side / s), which sets its gain.
        count, middle = len(scales), len(scales) // 2
        own_search = crop_regions(image, [center] * count, [search_side / s for s in scales],
                                  model.instance_size, pad_color)
        own_maps = self._backend.track(own_search, self._backend.stack([kernels] * count))
        own = own_maps[np.arange(count) * (count + 1)]  # crop s against kernel s
        strengths = own.reshape(count, -1).max(axis=1) - model.response_bias
        if np.all(strengths > 0):
            gains = strengths[middle] / strengths
        else:  # no positive self-match (a featureless exemplar): nothing to calibrate against
            gains = np.ones(count)
        own_contrast = self._head.contrast(own[middle])
        if target_id is None:
            target_id = self._next_id
        self._next_id = max(self._next_id, target_id + 1)
        target = _Target(target_id=target_id, center=center, initial_size=(w, h),
                         initial_search_side=search_side, kernels=kernels, gains=gains, pad_color=pad_color,
                         reference_contrast=max(own_contrast, 1e-6), featureless=featureless)
        self._targets[target.target_id] = target
        self._frame_shape = image.shape[:2]
        self._stacked = None  # the batch of kernels changes
        return TrackResult((x, y, w, h), 0.0 if featureless else 1.0, featureless, 0, target.target_id)

    def remove(self, target_id: int) -> None:
        """Stop tracking a target. Its id is never reused.

        Raises:
            KeyError: no target has this id.
        """
        if target_id not in self._targets:
            raise KeyError(f"no target with id {target_id}; current ids: {self.ids}")
        del self._targets[target_id]
        self._stacked = None

    def clear(self) -> None:
        """Remove every target."""
        self._targets.clear()
        self._stacked = None

    def _plan(self, target: _Target, frame_size: tuple[int, int]) -> _Plan:
        config, per_crop = self.config, self.config.kernels_per_target
        if target.searching_frames == 0:
            # Every crop of a batch is matched with all of its target's kernels, so a fallback frame
            # also correlates the side kernels (a few % of the backbone's cost) and reads only the middle.
            fallback = config.scale_search == "single" and target.last_score < config.pyramid_below
            if config.scale_search == "single" and not fallback:
                return _Plan(target, [target.center], [target.search_side], per_crop, False)
            sides = list(target.search_side * self._head.scales)
            return _Plan(target, [target.center] * len(sides), sides, per_crop, False, fallback)
        # Lost: cover a region that grows every frame, with crops of the normal search size.
        region = target.search_side * config.redetect_growth ** target.searching_frames
        exemplar_side = target.search_side * self.metadata.exemplar_size / self.metadata.instance_size
        centers, side = search_tiles(target.center, target.search_side, exemplar_side, region,
                                     frame_size, config.max_tiles)
        return _Plan(target, centers, [side] * len(centers), per_crop, True)

    def _batched_kernels(self, plans: Sequence[_Plan]) -> Any:
        """Each crop's kernels, for all targets; rebuilt only when the targets or their crop counts change."""
        layout = tuple((plan.target.target_id, len(plan.sides)) for plan in plans)
        if self._stacked is None or self._stacked[0] != layout:
            per_crop = [plan.target.kernels for plan in plans for _ in plan.sides]
            self._stacked = (layout, self._backend.stack(per_crop))
        return self._stacked[1]

    def update(self, frame: np.ndarray) -> dict[int, TrackResult]:
        """Locate every target in the next frame.

        Returns:
            ``{target id: TrackResult}`` for every current target (empty when there are none).

        Raises:
            InputError: bad frame, or its size differs from the targets' frames.
        """
        return update_streams([(self, frame)])[0]

    def _prepare(self, frame: np.ndarray) -> tuple[list[_Plan], np.ndarray | None, tuple[int, int]]:
        """This frame's crop plans and crops (None without targets) and the frame's (width, height)."""
        image = self._check_frame(frame)
        height, width = image.shape[:2]
        plans = [self._plan(target, (width, height)) for target in self._targets.values()]
        if not plans:
            return plans, None, (width, height)
        # Each target pads with its own first frame's mean color, so one remap per target.
        crops = [crop_regions(image, plan.centers, plan.sides, self.metadata.instance_size,
                              plan.target.pad_color) for plan in plans]
        return plans, crops[0] if len(crops) == 1 else np.concatenate(crops), (width, height)

    def _finish(self, plans: Sequence[_Plan], responses: np.ndarray,
                frame_size: tuple[int, int]) -> dict[int, TrackResult]:
        results, start, bias = {}, 0, self.metadata.response_bias
        for plan in plans:
            maps = responses[start:start + plan.maps]
            if plan.kernels_per_crop > 1:  # scale kernels: apply their gains (a pyramid's one kernel has none)
                maps = bias + (maps - bias) * plan.map_gains()[:, None, None]
            start += plan.maps
            if plan.pyramid_fallback:  # crop s read with the middle kernel (gain 1): a plain pyramid
                maps = maps[plan.kernels_per_crop // 2::plan.kernels_per_crop]
            peak = self._head.strongest(maps) if plan.redetecting else self._head.locate(maps)
            results[plan.target.target_id] = self._advance(plan, peak, frame_size)
        return results

    def _update_on_device(self, frame: np.ndarray) -> dict[int, TrackResult]:
        """The tensor pipeline: crops, network and head on the backend's device (see siamtrack.gpu)."""
        image = self._check_frame(frame)
        height, width = image.shape[:2]
        plans = [self._plan(target, (width, height)) for target in self._targets.values()]
        if not plans:
            return {}
        if self._tensor_step is None:
            raise RuntimeError("the tensor pipeline was not set up for this tracker")
        began = time.perf_counter()
        peaks = self._tensor_step.peaks(image, plans, self._batched_kernels(plans),
                                        [plan.target.pad_color for plan in plans])
        stepped = time.perf_counter()
        results = {plan.target.target_id: self._advance(plan, peak, (width, height))
                   for plan, peak in zip(plans, peaks)}
        self._stage_times = StageTimes(0.0, (stepped - began) * 1e3, (time.perf_counter() - stepped) * 1e3)
        return results

    def _advance(self, plan: _Plan, peak: Peak, frame_size: tuple[int, int]) -> TrackResult:
        """Update one target from the peak found in its crops."""
        config, target = self.config, plan.target
        score = 0.0 if target.featureless else min(max(peak.contrast / target.reference_contrast, 0.0), 1.0)
        # Map m is kernel m % K of crop m // K; the scale is the kernel's (single pass) or the crop's (pyramid).
        if plan.pyramid_fallback:  # its maps were reduced to one per crop
            crop = scale_index = peak.map_index
        else:
            crop, kernel = divmod(peak.map_index, plan.kernels_per_crop)
            scale_index = kernel if plan.kernels_per_crop > 1 else crop
        # Offsets are in search-crop pixels; the chosen crop covers sides[crop] frame pixels.
        frame_per_crop_pixel = plan.sides[crop] / self.metadata.instance_size
        origin = plan.centers[crop]
        found = (origin[0] + peak.offset[0] * frame_per_crop_pixel,
                 origin[1] + peak.offset[1] * frame_per_crop_pixel)
        width, height = frame_size
        if plan.redetecting:
            if score >= config.redetect_threshold:  # re-acquired: resume normal tracking there
                target.center = found
                target.searching_frames = target.low_score_frames = 0
            else:  # hold the box, widen the search
                target.searching_frames += 1
        else:
            target.center = found
            damped = (1.0 - config.scale_lr) + config.scale_lr * self._head.scales[scale_index]
            target.scale = min(max(target.scale * damped, config.min_size_factor), config.max_size_factor)
            target.low_score_frames = target.low_score_frames + 1 if score < config.lost_threshold else 0
            if config.redetect and target.low_score_frames >= config.lost_patience:
                target.searching_frames = 1
        target.center = (min(max(target.center[0], 0.0), width - 1.0),
                         min(max(target.center[1], 0.0), height - 1.0))
        target.frame_index += 1
        target.last_score = score
        lost = target.featureless or target.searching_frames > 0 or target.low_score_frames >= config.lost_patience
        return TrackResult(target.box(), score, lost, target.frame_index, target.target_id)


def update_streams(streams: Sequence[tuple[MultiTracker, np.ndarray]]) -> list[dict[int, TrackResult]]:
    """Update several trackers (e.g. one per camera) with one network call for all their targets.

    The trackers must share one backend object (build it once with
    :func:`siamtrack.backends.create_backend` and pass it as ``backend=`` to each), because
    their crops and kernels go through it together. Per-target state stays in each tracker.
    Trackers whose scale searches need different numbers of kernels per crop get one call per
    kind. On the ``tensor`` pipeline each frame is its own device step (crops are cut from that
    frame's tensor), so the trackers are updated one after the other.

    Args:
        streams: (tracker, its next frame) pairs; frames may differ in size between trackers.

    Returns:
        Each tracker's ``{target id: TrackResult}``, in the order given.

    Raises:
        ConfigError: the trackers do not share one backend, or mix pipelines.
        InputError: a frame is bad or changed size for its tracker.
    """
    if not streams:
        return []
    trackers = [tracker for tracker, _ in streams]
    backend = trackers[0]._backend
    if any(tracker._backend is not backend for tracker in trackers):
        raise ConfigError("update_streams needs trackers that share one backend object")
    pipelines = {tracker.pipeline for tracker in trackers}
    if len(pipelines) > 1:
        raise ConfigError(f"update_streams needs trackers on one pipeline, got {' and '.join(sorted(pipelines))}")
    if pipelines == {"tensor"}:
        return [tracker._update_on_device(frame) for tracker, frame in streams]
    prepared, crop_seconds = [], []
    for tracker, frame in streams:
        began = time.perf_counter()
        prepared.append(tracker._prepare(frame))
        crop_seconds.append(time.perf_counter() - began)
    active = [index for index, (_, crops, _) in enumerate(prepared) if crops is not None]
    results: list[dict[int, TrackResult]] = [{} for _ in streams]
    network_seconds = 0.0
    head_seconds = [0.0] * len(streams)
    # One call per kernels-per-crop count (trackers with another scale search need their own).
    calls: dict[int, list[int]] = {}
    for index in active:
        calls.setdefault(trackers[index].config.kernels_per_target, []).append(index)
    for members in calls.values():
        called = time.perf_counter()
        kernels = [trackers[i]._batched_kernels(prepared[i][0]) for i in members]
        crops = [crops for i in members if (crops := prepared[i][1]) is not None]  # all: members are active
        responses = backend.track(crops[0] if len(crops) == 1 else np.concatenate(crops),
                                  kernels[0] if len(kernels) == 1 else backend.stack(kernels))
        network_seconds += time.perf_counter() - called
        start = 0
        for index in members:
            finished = time.perf_counter()
            plans, _, frame_size = prepared[index]
            count = sum(plan.maps for plan in plans)
            results[index] = trackers[index]._finish(plans, responses[start:start + count], frame_size)
            start += count
            head_seconds[index] = time.perf_counter() - finished
    for index, tracker in enumerate(trackers):
        tracker._stage_times = StageTimes(crop_seconds[index] * 1e3, network_seconds * 1e3 if index in active else 0.0,
                                          head_seconds[index] * 1e3)
    return results


class Tracker:
    """SiamFC single-object tracker: the one-target face of :class:`MultiTracker`.

    Args:
        model, backend, device, config, threads, pipeline: as for :class:`MultiTracker`.

    Example:
        >>> tracker = Tracker(model="weights.pth")
        >>> tracker.init(first_frame, (x, y, w, h))
        >>> for frame in frames:
        ...     result = tracker.update(frame)
    """

    def __init__(self, model: Any = None, backend: "str | Backend" = "auto", device: str = "auto",
                 config: ConfigLike = None, threads: int | None = None, pipeline: str = "auto") -> None:
        self.targets = MultiTracker(model, backend, device, config, threads, pipeline)
        self.config = self.targets.config
        self._target_id: int | None = None

    @property
    def backend_name(self) -> str:
        return self.targets.backend_name

    @property
    def device(self) -> str:
        return self.targets.device

    @property
    def initialized(self) -> bool:
        return self._target_id is not None

    def init(self, frame: np.ndarray, box: Sequence[float]) -> TrackResult:
        """Start tracking the object inside ``box`` on ``frame`` (replaces any current target).

        Args:
            frame: H x W x 3 uint8 BGR (grayscale and BGRA are converted).
            box: (x, y, w, h) in pixels, 0-based top-left, floats allowed. It may stick out of
                the frame but must overlap it.

        Returns:
            The result for this frame: the given box, score 1, frame index 0, target id 1.

        Raises:
            InputError: bad frame or box.
        """
        self.reset()
        result = self.targets.add(frame, box, target_id=1)  # the single target is always id 1
        self._target_id = 1
        return result

    def update(self, frame: np.ndarray) -> TrackResult:
        """Locate the target in the next frame.

        Raises:
            NotInitializedError: ``init`` has not been called (or ``reset`` was).
            InputError: bad frame, or its size differs from the frame given to ``init``.
        """
        if self._target_id is None:
            raise NotInitializedError("call init(frame, box) before update(frame)")
        return self.targets.update(frame)[self._target_id]

    def reset(self) -> None:
        """Forget the target; ``init`` must be called again before ``update``."""
        self.targets.clear()
        self._target_id = None
