"""Cutting augmented training pairs: an exemplar crop and a search crop with a known target offset.

Crops use the tracker's geometry (context around the box, exemplar / instance sizes, bilinear
sampling with mean-color padding), so the network trains on what it will see when tracking.
On top of that:

* the target is shifted randomly inside the search crop, so the network cannot learn that the
  answer is always in the middle (padded backbones could otherwise read that off the border);
* each axis is stretched slightly, and scale varies, so matches survive shape and size change;
  with ``scale`` the search crop is cut larger or smaller than the target's size says, so the
  target shows at varied sizes in it, as it does when tracking (the crop is cut from the last
  frame's size estimate): a box head must learn to measure the size, not to expect one;
* color, blur and grayscale vary, so matches rely on structure more than on exact color.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from siamtrack.errors import ConfigError
from siamtrack.geometry import context_side
from siamtrack.tracking.crops import crop_regions


@dataclass(frozen=True)
class Augmentation:
    """Random changes applied to each training pair.

    Attributes:
        max_shift: largest target offset from the search-crop center, per axis, in search-crop
            pixels. SiamFC's search area is 255 px; 64 keeps the target well inside it.
        stretch: largest relative change of each axis's scale (0.05: +-5 %).
        color: largest relative change of brightness, contrast and per-channel gain.
        blur_probability: chance of a Gaussian blur on each crop.
        gray_probability: chance that both crops of a pair are turned gray.
        scale: largest relative change of the search crop's side (both axes), drawn log-uniformly
            in [1 / (1 + scale), 1 + scale]; 0 (the default) cuts it at the target's own size.
    """

    max_shift: float = 64.0
    stretch: float = 0.05
    color: float = 0.2
    blur_probability: float = 0.15
    gray_probability: float = 0.1
    scale: float = 0.0

    def __post_init__(self) -> None:
        if self.max_shift < 0 or not 0 <= self.stretch < 0.5 or not 0 <= self.color < 1:
            raise ConfigError("need max_shift >= 0, 0 <= stretch < 0.5, 0 <= color < 1")
        if not (0 <= self.blur_probability <= 1 and 0 <= self.gray_probability <= 1):
            raise ConfigError("probabilities must be in [0, 1]")
        if not 0 <= self.scale < 1:
            raise ConfigError("need 0 <= scale < 1")


NO_AUGMENTATION = Augmentation(max_shift=0.0, stretch=0.0, color=0.0, blur_probability=0.0, gray_probability=0.0)


def _cut(image: np.ndarray, center: tuple[float, float], side_x: float, side_y: float, out: int,
         pad: tuple[float, ...]) -> np.ndarray:
    """A ``side_x`` x ``side_y`` crop around ``center``, resized to out x out: the tracker's
    sampling (`siamtrack.tracking.crops.crop_regions`), so training sees the crops tracking cuts."""
    return crop_regions(image, [center], [(side_x, side_y)], out, pad)[0]


def _photometric(crop: np.ndarray, rng: np.random.Generator, aug: Augmentation, gray: bool) -> np.ndarray:
    image: np.ndarray = crop.astype(np.float32)
    if aug.color > 0:
        gain = 1 + rng.uniform(-aug.color, aug.color, 3) * 0.5  # per channel
        contrast = 1 + rng.uniform(-aug.color, aug.color)
        brightness = rng.uniform(-aug.color, aug.color) * 64
        mean = image.mean()
        image = (image - mean) * contrast + mean + brightness
        image = image * gain
    if rng.random() < aug.blur_probability:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 1.5)))
    if gray:
        image = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return np.clip(image, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class CropGeometry:
    """How pairs are cut: the crop sizes of the network being trained and the tracker's context.

    Attributes:
        exemplar_size, instance_size: crop sides the network takes (its metadata's).
        context_amount: context around the box, as a fraction of (w + h) (``TrackerConfig``'s).
    """

    exemplar_size: int = 127
    instance_size: int = 255
    context_amount: float = 0.5


def box_center(box: np.ndarray) -> np.ndarray:
    """Center (x, y) of a 0-based (x, y, w, h) box, in the tracker's pixel convention."""
    return np.array([box[0] + (box[2] - 1) / 2, box[1] + (box[3] - 1) / 2], dtype=np.float64)


def training_pair(exemplar_image: np.ndarray, exemplar_box: np.ndarray, search_image: np.ndarray,
                  search_box: np.ndarray, rng: np.random.Generator, aug: Augmentation = Augmentation(),
                  config: CropGeometry = CropGeometry(), distractor_box: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut one augmented pair.

    Args:
        exemplar_image, search_image: BGR uint8 frames (may be the same image).
        exemplar_box, search_box: 0-based (x, y, w, h) of the target in each.
        rng: source of randomness (seed it for reproducible pairs).
        distractor_box: another object in ``search_image``. When given, the search crop is cut
            around it (at its size) instead of around the target: a hard negative, where the
            best match in the middle of the crop is the wrong object. The returned offset still
            says where the target is, usually outside the crop (then the label map is all
            negative).

    Returns:
        ``(exemplar, search, target)``: (E, E, 3) and (I, I, 3) uint8 crops and the target in
        the search crop as (dx, dy, w, h): its center's offset from the crop center and its
        size, in search-crop pixels.
    """
    ratio = config.instance_size / config.exemplar_size
    gray = rng.random() < aug.gray_probability

    def stretched(side: float) -> tuple[float, float]:
        return (side * (1 + rng.uniform(-aug.stretch, aug.stretch)),
                side * (1 + rng.uniform(-aug.stretch, aug.stretch)))

    z_pad = tuple(float(c) for c in cv2.mean(exemplar_image)[:3])
    z_side = context_side(float(exemplar_box[2]), float(exemplar_box[3]), config.context_amount)
    exemplar = _cut(exemplar_image, tuple(box_center(exemplar_box)), *stretched(z_side), config.exemplar_size, z_pad)

    anchor = search_box if distractor_box is None else distractor_box
    x_side = np.array(stretched(context_side(float(anchor[2]), float(anchor[3]), config.context_amount) * ratio))
    if aug.scale > 0:  # drawn only when asked for, so runs without it keep their pairs
        x_side *= math.exp(rng.uniform(-math.log1p(aug.scale), math.log1p(aug.scale)))
    shift = rng.uniform(-aug.max_shift, aug.max_shift, 2)
    # The crop center moves opposite to the shift, so the anchor lands at +shift in the crop.
    x_center = box_center(anchor) - shift * x_side / config.instance_size
    offset = (box_center(search_box) - x_center) * config.instance_size / x_side
    size = np.asarray(search_box[2:4], dtype=np.float64) * config.instance_size / x_side
    x_pad = tuple(float(c) for c in cv2.mean(search_image)[:3])
    search = _cut(search_image, tuple(x_center), float(x_side[0]), float(x_side[1]), config.instance_size, x_pad)
    return (_photometric(exemplar, rng, aug, gray), _photometric(search, rng, aug, gray),
            np.concatenate([offset, size]).astype(np.float32))
