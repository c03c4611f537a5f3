"""The trackers: [MultiTracker][siamtrack.MultiTracker] (any number of targets) and [Tracker][siamtrack.Tracker] (one).

Per frame, for all targets together: plan each target's search crops (the step for the model's
head, `siamtrack.tracking.readout`, says which: one crop, SiamFC's scale pyramid, or while the
target is lost a grid of tiles over a growing region, `siamtrack.tracking.redetect`), cut them
(`siamtrack.tracking.crops`), run them through the network in one batched call (a
[Backend][siamtrack.backends.Backend]), let the step read each target's outputs, then move its
box, clamp its size and keep its confidence and lost state here. On the ``tensor`` pipeline the
crops and the reading of response peaks run on the backend's device
(`siamtrack.tracking.device`); the planning and the state stay here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple, Sequence, Union

import cv2
import numpy as np

from siamtrack.backends.base import DeviceBackend, KernelBackend
from siamtrack.config import TrackerConfig, default_config, load_config
from siamtrack.errors import ConfigError, InputError, NotInitializedError
from siamtrack.geometry import box_center, center_box, clear_of, context_side, search_side
from siamtrack.model.builtin import default_model_path  # noqa: F401  (public via siamtrack.default_model_path)
from siamtrack.model.metadata import ModelMetadata
from siamtrack.results import Detections, TrackResult
from siamtrack.tracking.appearance import appearance_scores
from siamtrack.tracking.crops import crop_regions
from siamtrack.tracking.inputs import as_bgr, validate_box
from siamtrack.tracking.readout import Estimate, Plan, TargetState, per_plan, read_plans, tracking_step
from siamtrack.tracking.redetect import search_tiles

if TYPE_CHECKING:
    from siamtrack.backends import Backend

ConfigLike = Union[TrackerConfig, Mapping[str, Any], str, Path, None]


class Prepared(NamedTuple):
    """One tracker's frame, ready for the batched network call."""

    plans: list[Plan]
    crops: np.ndarray | None  # None without targets
    frame_size: tuple[int, int]  # (width, height)
    image: np.ndarray


PIPELINES = ("auto", "opencv", "tensor")


def _as_config(config: ConfigLike, metadata: ModelMetadata) -> TrackerConfig:
    if config is None:
        return default_config(metadata)
    if isinstance(config, TrackerConfig):
        return config
    if isinstance(config, Mapping):
        # Changes to the model's own config: {"lost_patience": 3} keeps a nanotrack-layout model's
        # window, penalty and calibrated threshold rather than falling back to SiamFC-3s's.
        return default_config(metadata).replace(**config)
    if isinstance(config, (str, Path)):
        return load_config(config)
    raise ConfigError(f"config must be a TrackerConfig, a mapping, or a preset name/path; got "
                      f"{type(config).__name__}")


def choose_pipeline(pipeline: str, backend: Any) -> str:
    """``tensor`` or ``opencv`` for a requested pipeline (see [MultiTracker][siamtrack.MultiTracker]).

    Raises:
        ConfigError: ``tensor`` with a backend that has no ``track_tensors``.
    """
    on_device = isinstance(backend, DeviceBackend)
    if pipeline == "tensor" and not on_device:
        raise ConfigError(f"the tensor pipeline needs a backend with track_tensors (torch or tensorrt), "
                          f"not {backend.name}")
    if pipeline == "auto":
        return "tensor" if on_device and str(backend.device).startswith("cuda") else "opencv"
    return pipeline


@dataclass(frozen=True)
class StageTimes:
    """Where one update's time went, in milliseconds ([MultiTracker.stage_times][siamtrack.MultiTracker.stage_times]).

    Attributes:
        crop: checking the frame, planning and cutting the search crops.
        network: the backbone and cross-correlation call; with [update_streams][siamtrack.update_streams] it is the
            batched call shared by all trackers of that update.
        head: finding each target's peak and moving its box.

    On the ``tensor`` pipeline crops, network and head run as one device step, all counted as
    ``network``. Whatever is not in these three (Python overhead around them) is the caller's
    measured total minus their sum.
    """

    crop: float = 0.0
    network: float = 0.0
    head: float = 0.0


class MultiTracker:
    """Tracks any number of targets, all in one batched network call per frame.

    Args:
        model: weights file (any layout [siamtrack.model.weights.load_weights][siamtrack.load_weights] reads), loaded
            [ModelWeights][siamtrack.ModelWeights], an exported ONNX folder (``siamtrack
            export``), or a built-in model's name (``default``; ``v4``, the SiamFC-style
            model it replaced); None loads the default model, in the form the backend reads.
        backend: ``auto``, a backend name (see `siamtrack.backends.BACKEND_NAMES`), or an
            object implementing [Backend][siamtrack.backends.Backend] (then ``model`` must be None).
            An explicitly requested backend that cannot run here is an error, never a fallback.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        config: a [TrackerConfig][siamtrack.TrackerConfig], a mapping of fields to change in the model's own
            config, or a preset name / JSON path (complete: keys it leaves out take SiamFC-3s's values);
            None is the model's own (`siamtrack.config.default_config`: SiamFC-3s, or
            TrackerNano's settings for a nanotrack-layout model; with the lost threshold
            calibrated for the model when its metadata has one).
        threads: CPU threads for inference; None keeps the framework's default.
        pipeline: where crops and the response head run. ``opencv``: on the CPU (OpenCV and
            NumPy), the right choice for CPU backends. ``tensor``: on the backend's device with
            torch (`siamtrack.tracking.device`): the frame is uploaded once and nothing but the peaks
            comes back, which is what makes a GPU fast. ``auto``: ``tensor`` when the backend
            runs on CUDA, else ``opencv``.
        cuda_graphs: on the tensor pipeline on CUDA, capture each frame's step as a CUDA graph
            and replay it (less launch overhead); False launches the kernels one by one.

    Examples:
        >>> tracker = MultiTracker()
        >>> car = tracker.add(frame, (x, y, w, h)).target_id
        >>> for frame in frames:
        ...     results = tracker.update(frame)   # {target id: TrackResult}
    """

    def __init__(self, model: Any = None, backend: "str | Backend" = "auto", device: str = "auto",
                 config: ConfigLike = None, threads: int | None = None, pipeline: str = "auto",
                 cuda_graphs: bool = True) -> None:
        from siamtrack.backends import create_backend

        if pipeline not in PIPELINES:  # before a backend is built for nothing
            raise ConfigError(f"pipeline must be one of {', '.join(PIPELINES)}, got {pipeline!r}")
        if isinstance(backend, str):
            self._backend = create_backend(backend, model, device=device, threads=threads)
        elif model is not None or device != "auto" or threads is not None:
            raise ConfigError("a backend object already holds its model, device and threads; "
                              "pass model/device/threads only with a backend name")
        else:
            self._backend = backend
        # Crop sizes and stride belong to the network: they come from its metadata.
        self.metadata = self._backend.metadata
        self.config = _as_config(config, self.metadata)
        # How outputs become boxes depends on the network's head: SiamFC's scale search or the box head.
        self._step = tracking_step(self.config, self.metadata)
        # A NanoTrack-layout head scores any object near 1: its re-acquisitions are checked by
        # appearance (siamtrack.tracking.appearance), through this backend; None re-acquires by score.
        self._appearance: KernelBackend | None = (
            self._backend if self.metadata.head == "nanotrack" and isinstance(self._backend, KernelBackend) else None)
        self._targets: dict[int, TargetState] = {}
        self._next_id = 1
        self._frame_shape: tuple[int, int] | None = None
        self._stacked: tuple[tuple, Any] | None = None  # (layout, kernels) of the last batch
        self._stage_times = StageTimes()
        self._tensor_pipeline = None
        if choose_pipeline(pipeline, self._backend) == "tensor":
            if self.config.pyramid_below > 0:
                raise ConfigError("pyramid_below runs on the opencv pipeline only; pass pipeline='opencv'")
            from siamtrack.tracking.device.pipeline import TensorPipeline

            self._tensor_pipeline = TensorPipeline(self._backend, self._step, self.metadata.instance_size,
                                                   cuda_graphs=cuda_graphs)

    @property
    def stage_times(self) -> StageTimes:
        """Where the last `update`'s time went (all zero before the first)."""
        return self._stage_times

    @property
    def pipeline(self) -> str:
        """``tensor`` (crops and head on the backend's device) or ``opencv`` (on the CPU)."""
        return "tensor" if self._tensor_pipeline is not None else "opencv"

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
            InputError: bad frame or box, or ``target_id`` is not a whole number >= 1 (an
                ``InputError`` is a ``ValueError``).
            KeyError: ``target_id`` is in use.
        """
        if target_id is not None:
            if isinstance(target_id, (bool, np.bool_)) or not isinstance(target_id, (int, np.integer)):
                raise InputError(f"target ids are whole numbers >= 1, got {target_id!r}")
            target_id = int(target_id)
            if target_id < 1:
                raise InputError(f"target ids start at 1, got {target_id}")
            if target_id in self._targets:
                raise KeyError(f"target id {target_id} is in use")
        image = self._check_frame(frame)
        x, y, w, h = validate_box(box, image.shape)
        config, model = self.config, self.metadata
        exemplar_side = context_side(w, h, config.context_amount)
        blue, green, red = cv2.mean(image)[:3]
        pad_color = (blue, green, red)
        center = box_center((x, y, w, h))
        search_side = exemplar_side * model.instance_size / model.exemplar_size
        scales = self._step.exemplar_scales()
        exemplar = crop_regions(image, [center] * len(scales), [exemplar_side / s for s in scales],
                                model.exemplar_size, pad_color)
        kernels = self._backend.template(exemplar)
        featureless = float(exemplar[len(scales) // 2].std()) < config.min_texture
        calibration = self._step.calibrate(self._backend, image, center, search_side, kernels, pad_color, (w, h))
        if target_id is None:
            target_id = self._next_id
        self._next_id = max(self._next_id, target_id + 1)
        target = TargetState(target_id=target_id, center=center, size=(w, h), initial_size=(w, h), kernels=kernels,
                             pad_color=pad_color, calibration=calibration, featureless=featureless)
        self._targets[target.target_id] = target
        self._frame_shape = image.shape[:2]
        self._stacked = None  # the batch of kernels changes
        return TrackResult((x, y, w, h), 0.0 if featureless else 1.0, featureless, 0, target.target_id)

    def add_detections(self, frame: np.ndarray, detections: Detections | Sequence[Sequence[float]],
                       max_targets: int | None = None, pick: tuple[float, float] | None = None,
                       min_score: float = 0.0) -> list[TrackResult]:
        """Start a target on each chosen detection of ``frame`` (a detector's output, or plain boxes).

        Args:
            frame: the frame the detections are in.
            detections: [Detections][siamtrack.Detections], or (x, y, w, h) boxes (score 1).
            max_targets: keep only the most confident ones (None: all).
            pick: (x, y): keep only the detection nearest this point (its box's center).
            min_score: drop detections scoring below this.

        Returns:
            The new targets' first results, in the order chosen (most confident first). Their
            class ids are kept (`target_class`).
        """
        found = detections if isinstance(detections, Detections) else Detections(
            np.asarray(detections, dtype=np.float64).reshape(-1, 4), np.ones(len(detections)),
            np.zeros(len(detections), np.int64))
        chosen = [int(i) for i in np.argsort(-found.scores, kind="stable") if found.scores[i] >= min_score]
        if pick is not None and chosen:
            centers = found.boxes[chosen, :2] + (found.boxes[chosen, 2:] - 1) / 2
            chosen = [chosen[int(np.argmin(np.hypot(*(centers - np.asarray(pick, dtype=np.float64)).T)))]]
        if max_targets is not None:
            chosen = chosen[:max_targets]
        results = []
        for index in chosen:
            result = self.add(frame, found.boxes[index])
            self._targets[result.target_id].class_id = int(found.class_ids[index])
            results.append(result)
        return results

    def target_class(self, target_id: int) -> int | None:
        """The class id of the detection a target was started from (None: started from a box)."""
        return self._targets[target_id].class_id

    def lost_ids(self) -> list[int]:
        """Ids of the targets that are lost now (see `TrackResult.lost`)."""
        return [target_id for target_id, target in self._targets.items() if self._is_lost(target)]

    def _is_lost(self, target: TargetState) -> bool:
        return target.featureless or target.searching_frames > 0 or target.low_score_frames >= self.config.lost_patience

    def reacquire(self, frame: np.ndarray, detections: Detections, threshold: float = 0.5) -> dict[int, TrackResult]:
        """Give lost targets back their detections: match each lost target's own exemplar against a
        search crop around every detection (the same network, one batched call), and resume each
        target at its best match scoring at least ``threshold``, best pairs first. A NanoTrack-layout
        model matches by appearance instead (`siamtrack.tracking.appearance`: its head scores any
        object near 1), which on real videos lets few detections through. A detection that
        overlaps a target that is not lost (intersection over union > 0.3) is that target's, and
        is not offered to the others.

        Returns:
            ``{target id: TrackResult}`` of the targets resumed on this frame.
        """

        image = self._check_frame(frame)
        lost = [target for target in self._targets.values() if self._is_lost(target) and not target.featureless]
        if not lost or not len(detections):
            return {}
        held = np.array([target.box() for target in self._targets.values() if not self._is_lost(target)]).reshape(-1, 4)
        free = [int(i) for i in np.flatnonzero(clear_of(detections.boxes, held))]
        if not free:
            return {}
        boxes = detections.boxes[free]
        if self._appearance is not None:
            pairs = self._appearance_pairs(image, lost, boxes, self._appearance)
        else:
            pairs = self._search_pairs(image, lost, boxes)
        resumed: dict[int, TrackResult] = {}
        taken: set[int] = set()
        height, width = image.shape[:2]
        for score, number, crop in sorted(pairs, key=lambda pair: -pair[0]):
            target = lost[number]
            if score < threshold or target.target_id in resumed or crop in taken:
                continue
            taken.add(crop)
            box = detections.boxes[free[crop]]
            target.center = (float(box[0] + (box[2] - 1) / 2), float(box[1] + (box[3] - 1) / 2))
            target.size = self._clamped_size(target, (float(box[2]), float(box[3])), (width, height))
            target.low_score_frames = target.searching_frames = 0
            target.last_score = float(score)
            resumed[target.target_id] = TrackResult(target.box(), score, False, target.frame_index, target.target_id)
        return resumed

    def _search_pairs(self, image: np.ndarray, lost: list[TargetState],
                      boxes: np.ndarray) -> list[tuple[float, int, int]]:
        """(score, lost target's number, detection's number) of every pair, read from each lost
        target's search maps on a crop around each detection."""
        model = self.metadata
        centers = [box_center(box) for box in boxes]
        sides = [search_side(float(box[2]), float(box[3]), model.exemplar_size, model.instance_size,
                             self.config.context_amount) for box in boxes]
        plans = [Plan(target, centers, sides, self._step.kernels_per_crop, True) for target in lost]
        crops = [crop_regions(image, centers, sides, model.instance_size, target.pad_color) for target in lost]
        kernels = self._backend.stack([target.kernels for target in lost for _ in boxes])
        outputs = self._backend.track(np.concatenate(crops), kernels)
        return [(score, number, crop) for number, (plan, maps) in enumerate(per_plan(plans, outputs))
                for crop, score in enumerate(self._step.match_scores(plan, maps))]

    def _appearance_pairs(self, image: np.ndarray, lost: list[TargetState], boxes: np.ndarray,
                          backend: KernelBackend) -> list[tuple[float, int, int]]:
        """The same pairs scored by appearance (`siamtrack.tracking.appearance`)."""
        scores = self._appearance_scores(image, lost, boxes, backend)
        return [(float(scores[number, crop]), number, crop) for number, crop in np.ndindex(*scores.shape)]

    def _appearance_scores(self, image: np.ndarray, targets: Sequence[TargetState], boxes: np.ndarray,
                           backend: KernelBackend) -> np.ndarray:
        """(targets, boxes) appearance scores: each box's exemplar features (one template call for
        all) against each target's own."""
        centers = [box_center(box) for box in boxes]
        sides = [context_side(float(box[2]), float(box[3]), self.config.context_amount) for box in boxes]
        blue, green, red = cv2.mean(image)[:3]
        found = backend.kernel_values(backend.template(crop_regions(image, centers, sides, self.metadata.exemplar_size,
                                                                   (blue, green, red))))
        middle = self._step.kernels_per_crop // 2  # the target's unscaled exemplar
        own = np.stack([backend.kernel_values(target.kernels)[middle] for target in targets])
        return appearance_scores(own, found)

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

    def _plan(self, target: TargetState, frame_size: tuple[int, int]) -> Plan:
        per_crop = self._step.kernels_per_crop
        side = search_side(target.size[0], target.size[1], self.metadata.exemplar_size,
                           self.metadata.instance_size, self.config.context_amount)
        if target.searching_frames == 0:
            scales, fallback = self._step.search_scales(target)
            return Plan(target, [target.center] * len(scales), [side * s for s in scales], per_crop, False,
                        fallback)
        # Lost: cover a region that grows every frame, with crops of the normal search size.
        region = side * self.config.redetect_growth ** target.searching_frames
        exemplar_side = side * self.metadata.exemplar_size / self.metadata.instance_size
        centers, tile_side = search_tiles(target.center, side, exemplar_side, region, frame_size,
                                          self.config.max_tiles)
        return Plan(target, centers, [tile_side] * len(centers), per_crop, True)

    def _batched_kernels(self, plans: Sequence[Plan]) -> Any:
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

    def _prepare(self, frame: np.ndarray) -> Prepared:
        """This frame's crop plans and crops (None without targets)."""
        image = self._check_frame(frame)
        height, width = image.shape[:2]
        plans = [self._plan(target, (width, height)) for target in self._targets.values()]
        if not plans:
            return Prepared(plans, None, (width, height), image)
        # Each target pads with its own first frame's mean color, so one remap per target.
        crops = [crop_regions(image, plan.centers, plan.sides, self.metadata.instance_size,
                              plan.target.pad_color) for plan in plans]
        return Prepared(plans, crops[0] if len(crops) == 1 else np.concatenate(crops), (width, height), image)

    def _finish(self, prepared: Prepared, outputs: np.ndarray) -> dict[int, TrackResult]:
        estimates = self._confirmed(prepared.image, prepared.plans, read_plans(self._step, prepared.plans, outputs))
        return {plan.target.target_id: self._advance(plan, estimate, prepared.frame_size)
                for plan, estimate in zip(prepared.plans, estimates)}

    def _confirmed(self, image: np.ndarray, plans: Sequence[Plan],
                   estimates: Sequence[Estimate]) -> Sequence[Estimate]:
        """A NanoTrack-layout head scores any object near 1, so where re-detection would re-acquire a
        lost target, the match must also look like it (`siamtrack.tracking.appearance`): its score
        becomes the lower of the two."""
        if self._appearance is None or not any(plan.redetecting for plan in plans):
            return estimates
        checked = list(estimates)
        for index, (plan, estimate) in enumerate(zip(plans, estimates)):
            if plan.redetecting and estimate.score >= self.config.redetect_threshold:
                box = center_box(self._found_center(plan, estimate), plan.target.size)
                looks = self._appearance_scores(image, [plan.target], np.array([box]), self._appearance)[0, 0]
                checked[index] = replace(estimate, score=min(estimate.score, float(looks)))
        return checked

    def _found_center(self, plan: Plan, estimate: Estimate) -> tuple[float, float]:
        """Where in the frame an estimate puts the target's center."""
        # Offsets are in search-crop pixels; the chosen crop covers sides[crop] frame pixels.
        frame_per_crop_pixel = plan.sides[estimate.crop] / self.metadata.instance_size
        origin = plan.centers[estimate.crop]
        return (origin[0] + estimate.offset[0] * frame_per_crop_pixel,
                origin[1] + estimate.offset[1] * frame_per_crop_pixel)

    def _update_on_device(self, frame: np.ndarray) -> dict[int, TrackResult]:
        """The tensor pipeline: crops, network and head on the backend's device (see siamtrack.tracking.device)."""
        image = self._check_frame(frame)
        height, width = image.shape[:2]
        plans = [self._plan(target, (width, height)) for target in self._targets.values()]
        if not plans:
            return {}
        if self._tensor_pipeline is None:
            raise RuntimeError("the tensor pipeline was not set up for this tracker")
        began = time.perf_counter()
        estimates = self._confirmed(image, plans, self._tensor_pipeline.estimates(
            image, plans, self._batched_kernels(plans), [plan.target.pad_color for plan in plans]))
        stepped = time.perf_counter()
        results = {plan.target.target_id: self._advance(plan, estimate, (width, height))
                   for plan, estimate in zip(plans, estimates)}
        self._stage_times = StageTimes(0.0, (stepped - began) * 1e3, (time.perf_counter() - stepped) * 1e3)
        return results

    def _advance(self, plan: Plan, estimate: Estimate, frame_size: tuple[int, int]) -> TrackResult:
        """Update one target from where its step found it."""
        config, target = self.config, plan.target
        score = estimate.score
        found = self._found_center(plan, estimate)
        width, height = frame_size
        if plan.redetecting:
            if score >= config.redetect_threshold:  # re-acquired: resume normal tracking there
                target.center = found
                target.searching_frames = target.low_score_frames = 0
            else:  # hold the box, widen the search
                target.searching_frames += 1
        else:
            target.center = found
            target.size = self._clamped_size(target, estimate.size, frame_size)
            target.low_score_frames = target.low_score_frames + 1 if score < config.lost_threshold else 0
            if config.redetect and target.low_score_frames >= config.lost_patience:
                target.searching_frames = 1
        target.center = (min(max(target.center[0], 0.0), width - 1.0),
                         min(max(target.center[1], 0.0), height - 1.0))
        target.frame_index += 1
        target.last_score = score
        return TrackResult(target.box(), score, self._is_lost(target), target.frame_index, target.target_id)

    def _clamped_size(self, target: TargetState, size: tuple[float, float],
                      frame_size: tuple[int, int]) -> tuple[float, float]:
        """Each side within [min_size_factor, max_size_factor] x its initial length, at least 1 px and
        at most twice the frame's side. (SiamFC's step changes both sides by one factor, so its
        clamped box keeps the aspect ratio.)"""
        low, high = self.config.min_size_factor, self.config.max_size_factor
        width, height = (min(max(side, initial * low, 1.0), initial * high, 2.0 * limit)
                         for side, initial, limit in zip(size, target.initial_size, frame_size))
        return width, height


def update_streams(streams: Sequence[tuple[MultiTracker, np.ndarray]]) -> list[dict[int, TrackResult]]:
    """Update several trackers (e.g. one per camera) with one network call for all their targets.

    The trackers must share one backend object (build it once with
    [siamtrack.backends.create_backend][siamtrack.backends.create_backend] and pass it as ``backend=`` to each), because
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
    active = [index for index, ready in enumerate(prepared) if ready.crops is not None]
    results: list[dict[int, TrackResult]] = [{} for _ in streams]
    network_seconds = 0.0
    head_seconds = [0.0] * len(streams)
    # One call per kernels-per-crop count (trackers with another scale search need their own).
    calls: dict[int, list[int]] = {}
    for index in active:
        calls.setdefault(trackers[index].config.kernels_per_target, []).append(index)
    for members in calls.values():
        called = time.perf_counter()
        kernels = [trackers[i]._batched_kernels(prepared[i].plans) for i in members]
        crops = [crops for i in members if (crops := prepared[i].crops) is not None]  # all: members are active
        responses = backend.track(crops[0] if len(crops) == 1 else np.concatenate(crops),
                                  kernels[0] if len(kernels) == 1 else backend.stack(kernels))
        network_seconds += time.perf_counter() - called
        _finish_members([(index, trackers[index], prepared[index]) for index in members], responses, results,
                        head_seconds)
    for index, tracker in enumerate(trackers):
        tracker._stage_times = StageTimes(crop_seconds[index] * 1e3, network_seconds * 1e3 if index in active else 0.0,
                                          head_seconds[index] * 1e3)
    return results


def _finish_members(members: Sequence[tuple[int, MultiTracker, Prepared]], responses: Any,
                    results: list[dict[int, TrackResult]], head_seconds: list[float]) -> None:
    """Hand each tracker of one batched call its slice of the outputs (in member order)."""
    start = 0
    for index, tracker, ready in members:
        finished = time.perf_counter()
        count = sum(plan.map_count for plan in ready.plans)
        results[index] = tracker._finish(ready, responses[start:start + count])
        start += count
        head_seconds[index] = time.perf_counter() - finished


class Tracker:
    """SiamFC single-object tracker: the one-target face of [MultiTracker][siamtrack.MultiTracker].

    Its arguments (``model``, ``backend``, ``device``, ``config``, ``threads``, ``pipeline``) are
    [MultiTracker][siamtrack.MultiTracker]'s.

    Examples:
        >>> tracker = Tracker(model="weights.pth")
        >>> tracker.init(first_frame, (x, y, w, h))
        >>> for frame in frames:
        ...     result = tracker.update(frame)
    """

    def __init__(self, model: Any = None, backend: "str | Backend" = "auto", device: str = "auto",
                 config: ConfigLike = None, threads: int | None = None, pipeline: str = "auto") -> None:
        self.multi_tracker = MultiTracker(model, backend, device, config, threads, pipeline)
        self.config = self.multi_tracker.config
        self._target_id: int | None = None

    @property
    def backend_name(self) -> str:
        return self.multi_tracker.backend_name

    @property
    def device(self) -> str:
        return self.multi_tracker.device

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
        result = self.multi_tracker.add(frame, box, target_id=1)  # the single target is always id 1
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
        return self.multi_tracker.update(frame)[self._target_id]

    def reset(self) -> None:
        """Forget the target; ``init`` must be called again before ``update``."""
        self.multi_tracker.clear()
        self._target_id = None
