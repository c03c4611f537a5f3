"""How a network's outputs become a target's next box: one small interface, two implementations.

A model's metadata names its head ([head][siamtrack.ModelMetadata.head]), and
`tracking_step` returns the matching `TrackingStep`:

* `ScaleSearchStep` (``response``): SiamFC. The network gives one response map per kernel;
  the target's size changes only by one of a few scales, searched with an image pyramid or, in a
  single pass, with one exemplar kernel per scale (see `siamtrack.tracking.tracker`). Peaks are found
  by `PeakFinder`.
* `BoxStep` (``box`` and ``nanotrack``): a box-predicting head. One search crop, one
  kernel; the maps give position, size and aspect ratio, read by `siamtrack.tracking.box_reader` in
  the layout the metadata names (NanoTrack's layout exactly as OpenCV's ``TrackerNano`` reads it).

The tracker asks its step which exemplars to cut, what to measure when a target is added, which
crops a normal frame needs and how to read their outputs; ids, batching, clipping, the lost state
and re-detection are the tracker's and the same for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Protocol, Sequence

import numpy as np

from siamtrack.backends.base import Backend
from siamtrack.config import TrackerConfig
from siamtrack.geometry import center_box
from siamtrack.model.metadata import CLASS, ModelMetadata
from siamtrack.tracking.box_reader import read_box, size_gain, strongest_box
from siamtrack.tracking.crops import crop_regions
from siamtrack.tracking.peaks import Peak, PeakFinder


@dataclass
class TargetState:
    """What the tracker remembers about one target between frames."""

    target_id: int
    center: tuple[float, float]  # pixel-center coordinates
    size: tuple[float, float]  # (w, h) now
    initial_size: tuple[float, float]  # (w, h) when added
    kernels: Any  # the backend's exemplar features: one per scale (single pass) or one
    pad_color: tuple[float, float, float]  # mean color of the frame it was added on (BGR)
    calibration: "Calibration"
    featureless: bool = False  # the exemplar has no texture to match (TrackerConfig.min_texture)
    last_score: float = 1.0  # confidence of the last update (TrackerConfig.pyramid_below reads it)
    class_id: int | None = None  # the class of the detection it was started from
    low_score_frames: int = 0
    searching_frames: int = 0  # > 0: lost, re-detecting for this many frames
    frame_index: int = 0

    def box(self) -> tuple[float, float, float, float]:
        return center_box(self.center, self.size)


@dataclass(frozen=True)
class Calibration:
    """What a step measured about a target when it was added.

    Attributes:
        gains: per kernel, the factor on its responses (less the model's bias) that makes kernels
            cut at different scales match equally strongly (single pass; ones otherwise).
        reference_contrast: the peak contrast of the exemplar matched in its own frame, which
            later peaks are scored against (SiamFC; 1 for the box head, whose score is absolute).
        size_gain: per-axis factors on the box head's widths and heights that make its box match
            the target's known size on the frame it was added on
            (`siamtrack.tracking.box_reader.size_gain`; ones for SiamFC).
    """

    gains: np.ndarray = field(default_factory=lambda: np.ones(1))
    reference_contrast: float = 1.0
    size_gain: tuple[float, float] = (1.0, 1.0)


@dataclass(frozen=True)
class Plan:
    """The crops one target asks for this frame; each crop is matched with all the target's kernels."""

    target: TargetState
    centers: list[tuple[float, float]]
    sides: list[float]
    kernels_per_crop: int
    redetecting: bool
    pyramid_fallback: bool = False  # single pass, uncertain: a crop per scale, each read with the middle kernel

    @property
    def map_count(self) -> int:
        """Output maps this plan gets back: crops x kernels per crop."""
        return len(self.sides) * self.kernels_per_crop

    def map_gains(self) -> np.ndarray:
        """The gain of each of this plan's maps (its kernel's)."""
        return np.tile(self.target.calibration.gains, len(self.sides))


@dataclass(frozen=True)
class Estimate:
    """Where a step found its target in one frame's outputs.

    Attributes:
        crop: which of the plan's crops it was found in.
        offset: (dx, dy) of its center from that crop's center, in crop pixels.
        size: its (w, h) in frame pixels, before the tracker's clamps.
        score: confidence, 0..1.
    """

    crop: int
    offset: tuple[float, float]
    size: tuple[float, float]
    score: float


class TrackingStep(Protocol):
    """The head-specific part of tracking one target (see the module docstring)."""

    kernels_per_crop: int

    def exemplar_scales(self) -> Sequence[float]:
        """The scales to cut exemplars at when a target is added: one kernel each."""
        ...

    def calibrate(self, backend: Backend, image: np.ndarray, center: tuple[float, float], search_side: float,
                  kernels: Any, pad_color: tuple[float, float, float], size: tuple[float, float] = (1.0, 1.0),
                  ) -> Calibration:
        """Measure what reading this target's outputs needs, on the frame it is added on (``size``:
        its box's width and height there)."""
        ...

    def search_scales(self, target: TargetState) -> tuple[list[float], bool]:
        """A normal frame's crops around the target's center, as multiples of its search side, and
        whether each crop is read with its middle kernel only (the pyramid fallback)."""
        ...

    def read(self, plan: Plan, outputs: np.ndarray) -> Estimate:
        """The target in a normal frame's outputs for ``plan`` (``plan.map_count`` maps)."""
        ...

    def read_tiles(self, plan: Plan, outputs: np.ndarray) -> Estimate:
        """The best match over the tiles of a lost target's wide search, with no motion prior."""
        ...

    def match_scores(self, plan: Plan, outputs: np.ndarray) -> list[float]:
        """How well the target matches the object at the center of each of the plan's crops (0..1,
        each crop read on its own; 0 when the best match lies away from the center)."""
        ...


class ScaleSearchStep:
    """SiamFC: response maps, a peak per frame, the size changed by one of a few damped scales.

    For a box-head model (``box_size: scales``) the maps are its class logits: the channel
    `responses` picks from its outputs."""

    def __init__(self, config: TrackerConfig, metadata: ModelMetadata) -> None:
        self.config, self.metadata = config, metadata
        self.peaks = PeakFinder(config, metadata.total_stride)
        self.kernels_per_crop = config.kernels_per_target
        self.channel = CLASS if metadata.head == "box" else None

    def responses(self, outputs: Any) -> Any:
        """The response maps (M, r, r) in a backend's outputs (NumPy or torch alike)."""
        return outputs if self.channel is None else outputs[:, self.channel]

    def exemplar_scales(self) -> Sequence[float]:
        # Single pass: one exemplar per scale s, cut at side exemplar / s, so that kernel s shows
        # the target as large as it looks in the search crop once it has grown by s.
        return list(self.peaks.scales) if self.config.scale_search == "single" else [1.0]

    def calibrate(self, backend: Backend, image: np.ndarray, center: tuple[float, float], search_side: float,
                  kernels: Any, pad_color: tuple[float, float, float], size: tuple[float, float] = (1.0, 1.0),
                  ) -> Calibration:
        # The exemplar found in its own frame is the best match the target will ever get; later
        # peaks are scored against it (see TrackResult.score). Kernel s is also matched with
        # the target shown at its scale (search side / s), which sets its gain.
        scales = self.exemplar_scales()
        count, middle = len(scales), len(scales) // 2
        own_search = crop_regions(image, [center] * count, [search_side / s for s in scales],
                                  self.metadata.instance_size, pad_color)
        own_maps = self.responses(backend.track(own_search, backend.stack([kernels] * count)))
        own = own_maps[np.arange(count) * (count + 1)]  # crop s against kernel s
        strengths = own.reshape(count, -1).max(axis=1) - self.metadata.response_bias
        if np.all(strengths > 0):
            gains = strengths[middle] / strengths
        else:  # no positive self-match (a featureless exemplar): nothing to calibrate against
            gains = np.ones(count)
        return Calibration(gains, max(self.peaks.contrast(own[middle]), 1e-6))

    def search_scales(self, target: TargetState) -> tuple[list[float], bool]:
        config = self.config
        # Every crop of a batch is matched with all of its target's kernels, so a fallback frame
        # also correlates the side kernels (a few % of the backbone's cost) and reads only the middle.
        fallback = config.scale_search == "single" and target.last_score < config.pyramid_below
        if config.scale_search == "single" and not fallback:
            return [1.0], False
        return list(self.peaks.scales), fallback

    def gained(self, maps: Any, gains: Any) -> Any:
        """Response maps (M, r, r) with each map's kernel gain applied to its responses less the
        model's bias (NumPy or torch alike; see `Calibration`)."""
        bias = self.metadata.response_bias
        return bias + (maps - bias) * gains[:, None, None]

    def _gained(self, plan: Plan, outputs: np.ndarray) -> np.ndarray:
        maps = self.responses(outputs)
        if plan.kernels_per_crop > 1:  # scale kernels: apply their gains (a pyramid's one kernel has none)
            maps = self.gained(maps, plan.map_gains())
        if plan.pyramid_fallback:  # crop s read with the middle kernel (gain 1): a plain pyramid
            maps = maps[plan.kernels_per_crop // 2::plan.kernels_per_crop]
        return maps

    def read(self, plan: Plan, outputs: np.ndarray) -> Estimate:
        return self.from_peak(plan, self.peaks.locate(self._gained(plan, outputs)))

    def read_tiles(self, plan: Plan, outputs: np.ndarray) -> Estimate:
        return self.from_peak(plan, self.peaks.strongest(self._gained(plan, outputs)))

    def match_scores(self, plan: Plan, outputs: np.ndarray) -> list[float]:
        per_crop, scores = plan.kernels_per_crop, []
        for i in range(len(plan.sides)):
            estimate = self.read_tiles(replace(plan, centers=plan.centers[i:i + 1], sides=plan.sides[i:i + 1]),
                                       outputs[i * per_crop:(i + 1) * per_crop])
            scores.append(estimate.score if _at_center(estimate, self.metadata) else 0.0)
        return scores

    def from_peak(self, plan: Plan, peak: Peak) -> Estimate:
        """The estimate a `Peak` (found here or on the device) stands for."""
        target = plan.target
        score = 0.0 if target.featureless else min(max(peak.contrast / target.calibration.reference_contrast, 0.0),
                                                   1.0)
        # Map m is kernel m % K of crop m // K; the scale is the kernel's (single pass) or the crop's (pyramid).
        if plan.pyramid_fallback:  # its maps were reduced to one per crop
            crop = scale_index = peak.map_index
        else:
            crop, kernel = divmod(peak.map_index, plan.kernels_per_crop)
            scale_index = kernel if plan.kernels_per_crop > 1 else crop
        size = target.size
        if not plan.redetecting:
            damped = (1.0 - self.config.scale_lr) + self.config.scale_lr * self.peaks.scales[scale_index]
            size = (size[0] * damped, size[1] * damped)
        return Estimate(crop, peak.offset, size, score)


class BoxStep:
    """A box-predicting head: one crop, one kernel; position, size and aspect ratio from its maps."""

    kernels_per_crop = 1

    def __init__(self, config: TrackerConfig, metadata: ModelMetadata) -> None:
        self.config, self.metadata = config, metadata
        self.layout = metadata.head

    def exemplar_scales(self) -> Sequence[float]:
        return [1.0]

    def calibrate(self, backend: Backend, image: np.ndarray, center: tuple[float, float], search_side: float,
                  kernels: Any, pad_color: tuple[float, float, float], size: tuple[float, float] = (1.0, 1.0),
                  ) -> Calibration:
        # Its score is absolute (a probability); siamtrack's box head has its sizes matched to the
        # known box on this frame (see box_reader.size_gain). The nanotrack layout is read as
        # TrackerNano reads it, uncalibrated.
        if self.layout == "nanotrack":
            return Calibration()
        own = backend.track(crop_regions(image, [center], [search_side], self.metadata.instance_size, pad_color),
                            kernels)
        factor = self.metadata.instance_size / search_side
        return Calibration(size_gain=size_gain(own[0], self.metadata.total_stride,
                                               (size[0] * factor, size[1] * factor)))

    def search_scales(self, target: TargetState) -> tuple[list[float], bool]:
        return [1.0], False

    def _crop_pixels(self, plan: Plan, crop: int) -> float:
        """Search-crop pixels per frame pixel in crop ``crop``."""
        return self.metadata.instance_size / plan.sides[crop]

    def read(self, plan: Plan, outputs: np.ndarray) -> Estimate:
        target, config = plan.target, self.config
        factor = self._crop_pixels(plan, 0)
        reading = read_box(outputs[0], self.metadata.total_stride, (target.size[0] * factor, target.size[1] * factor),
                           config.box_window_influence, config.box_penalty, config.box_lr,
                           target.calibration.size_gain, self.layout)
        score = 0.0 if target.featureless else reading.score
        return Estimate(0, reading.offset, (reading.size[0] / factor, reading.size[1] / factor), score)

    def read_tiles(self, plan: Plan, outputs: np.ndarray) -> Estimate:
        crop, reading = strongest_box(outputs, self.metadata.total_stride, self.layout)
        score = 0.0 if plan.target.featureless else reading.score
        return Estimate(crop, reading.offset, plan.target.size, score)

    def match_scores(self, plan: Plan, outputs: np.ndarray) -> list[float]:
        if plan.target.featureless:
            return [0.0] * len(outputs)
        stride = self.metadata.total_stride
        found = []
        for maps in outputs:
            _, reading = strongest_box(maps[None], stride, self.layout)
            estimate = Estimate(0, reading.offset, reading.size, reading.score)
            found.append(reading.score if _at_center(estimate, self.metadata) else 0.0)
        return found


def per_plan(plans: Sequence[Plan], outputs: Any) -> Iterator[tuple[Plan, Any]]:
    """Each plan with its slice of one batched call's outputs (the maps are in plan order)."""
    start = 0
    for plan in plans:
        yield plan, outputs[start:start + plan.map_count]
        start += plan.map_count


def read_plans(step: TrackingStep, plans: Sequence[Plan], outputs: Any) -> list[Estimate]:
    """Where each plan's target is in a frame's outputs: a normal search, or a lost target's tiles."""
    return [step.read_tiles(plan, maps) if plan.redetecting else step.read(plan, maps)
            for plan, maps in per_plan(plans, outputs)]


def _at_center(estimate: Estimate, metadata: ModelMetadata) -> bool:
    """Whether a match found in a crop cut around a detection lies on that detection: within a
    quarter of the exemplar's side (about half the target's size) of the crop's center."""
    return math.hypot(*estimate.offset) <= metadata.exemplar_size / 4


def tracking_step(config: TrackerConfig, metadata: ModelMetadata) -> ScaleSearchStep | BoxStep:
    """The step for the model's head (see the module docstring)."""
    if metadata.head == "nanotrack" or (metadata.head == "box" and config.box_size == "regression"):
        return BoxStep(config, metadata)
    return ScaleSearchStep(config, metadata)
