"""Tracking hyper-parameters as one frozen dataclass.

The defaults are SiamFC-3s (Bertinetto et al., 2016): its hyper-parameters and image pyramid.
The preset ``single-pass`` searches the scales with one search crop per frame (about 3x less
network work, less accurate with the default model: see README, Scale search); the preset
``single-pass-fallback`` does so while the target is confidently tracked and falls back to the
pyramid for the frame after an uncertain one (``pyramid_below``). Presets live in
small JSON files next to this module (``presets/*.json``); any key a file or mapping names that
is not a field is an error, so a typo never silently falls back to a default. Crop sizes and
stride are not here: they belong to the network and come from its metadata.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from siamtrack.errors import ConfigError

if TYPE_CHECKING:
    from siamtrack.model.metadata import ModelMetadata

PRESET_DIR = Path(__file__).with_name("presets")
# The preset a model tracks with when no config is given, by its metadata's head: NanoTrack's
# layout with TrackerNano's settings (window 0.455, penalty 0.055, size rate 0.37); every other
# head with SiamFC-3s (the dataclass's defaults).
HEAD_PRESETS = {"nanotrack": "nanotrack"}
SCALE_SEARCHES = ("single", "pyramid")
BOX_SIZES = ("regression", "scales")


@dataclass(frozen=True)
class TrackerConfig:
    """Every hyper-parameter of the tracking step.

    The scale-search fields (``scale_*``, ``pyramid_below``, ``window_influence``,
    ``response_upsample``) apply to SiamFC response models (and to box-head models with
    ``box_size: scales``), the ``box_*`` fields to box-head models (see `siamtrack.tracking.readout`);
    the rest to both.

    Attributes:
        response_upsample: Factor by which the response map is upsampled (bicubic) before the
            peak is taken; higher gives sub-cell localisation, 16 is the paper's value. Only
            windows of the upsampled map are computed, so the factor costs next to nothing.
        scale_search: How the candidate scales are searched. ``pyramid`` (the default):
            SiamFC's image pyramid, one search crop per scale through the backbone
            (``scale_count`` times the network cost). ``single``: one search crop per target per
            frame; the exemplar was cut at every scale when the target was added, so each scale
            is one more cross-correlation of the same search features (one backbone pass per
            frame). ``single`` is about 3x cheaper but follows scale changes worse with the
            default model (dev AUC 0.470 vs 0.489; the published network: 0.600 vs 0.612).
        scale_count: Number of candidate scales per frame. With ``pyramid`` each costs a
            backbone pass; with ``single`` only a correlation.
        scale_step: Ratio between neighbouring search scales.
        scale_penalty: Multiplies the responses of the non-identity scales, so a scale change
            needs more evidence than staying put.
        scale_lr: Damping of the size update (0 keeps the size, 1 jumps to the chosen scale).
        pyramid_below: With ``single`` only: a target whose last confidence was below this
            searches the next frame with the image pyramid (``scale_count`` crops, each matched
            with the middle kernel), so an uncertain frame pays for the pyramid's steadier scale
            estimate and a confident one does not. 0 (the default) never does.
        window_influence: Weight of the Hann (cosine) window that penalises large displacements.
            Higher is steadier but slower to follow fast motion.
        context_amount: Context added around the target when cropping, as a fraction of
            (w + h); SiamFC's 0.5 lets the network see the surroundings.
        min_size_factor: Lower clamp of the target size, relative to its initial size.
        max_size_factor: Upper clamp of the target size, relative to its initial size.
        lost_threshold: Confidence below which a frame counts as a low-confidence frame. A
            model whose metadata carries a threshold calibrated for it (the default model: 0.9)
            gets that one in its default config; presets and explicit configs keep theirs.
        lost_patience: Consecutive low-confidence frames before ``TrackResult.lost`` is set.
            1 flags a miss at once; larger values ignore brief dips (blur, partial occlusion).
        redetect: Once lost, stop following weak peaks: hold the box and search a region that
            grows every frame until a confident match re-acquires the target. Off (the default)
            keeps plain SiamFC behaviour (the box follows the best peak whatever its score): with
            the default model's scores, holding the box cost accuracy on dev (Crossing AUC 0.24
            vs 0.71), so it is opt-in (preset ``siamfc-3s-redetect``) until confidence is
            calibrated better.
        redetect_growth: Factor by which the lost target's search region grows per frame.
            Larger covers the frame sooner but spends more tiles (compute) on each frame.
        redetect_threshold: Confidence a match needs to re-acquire a lost target. Higher than
            ``lost_threshold`` so that background that merely resembles the target does not
            pull the box away. NanoTrack-layout models score any object near 1, so their match
            must also look like the target (`siamtrack.tracking.appearance`): its confidence is
            the lower of the two.
        max_tiles: Most search crops per frame for one lost target. When the region needs more
            crops at the normal resolution, the crops grow instead (coarser, fewer).
        box_size: Box-head models: how the target's size is estimated. ``regression``: from the
            box head's box (one crop, any aspect ratio; the size follows the box by ``box_lr``).
            ``scales``: SiamFC's scale search (``scale_search``, ``scale_*``, ``window_influence``,
            ``response_upsample``) on the head's class map, which then stands in for SiamFC's
            response; the box head's box is not used.
        box_window_influence: Box-head models: weight of the Hann window against the penalised
            score when choosing the target's cell (SiamFC++ uses 0.23 on OTB, NanoTrack 0.455).
            Higher is steadier against distractors but slower to follow fast motion.
        box_penalty: Box-head models: strength ``k`` of the penalty ``exp(-(r_c * s_c - 1) * k)``
            on a box that changes the target's aspect ratio (``r_c``) or size (``s_c``).
        box_lr: Box-head models: largest step of the size towards the chosen box per frame; the
            step is ``penalty x score x box_lr``, so an unsure frame changes the size little.
        min_texture: Standard deviation of the exemplar crop's pixels (0-255 levels, target and
            context) below which the target is featureless (a black or constant region): the
            network has nothing to match, so its score is 0 and it is reported lost from the
            first frame. Sensor noise on a black frame is 1-2 levels; a plain object on a
            different background is tens.
    """

    response_upsample: int = 16
    scale_search: str = "pyramid"
    scale_count: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_lr: float = 0.59
    pyramid_below: float = 0.0
    window_influence: float = 0.176
    context_amount: float = 0.5
    min_size_factor: float = 0.2
    max_size_factor: float = 5.0
    lost_threshold: float = 0.3
    lost_patience: int = 5
    redetect: bool = False
    redetect_growth: float = 1.5
    redetect_threshold: float = 0.5
    max_tiles: int = 9
    box_size: str = "regression"
    box_window_influence: float = 0.35
    box_penalty: float = 0.05
    box_lr: float = 0.4
    min_texture: float = 4.0

    def __post_init__(self) -> None:
        _check(self.response_upsample >= 1, "response_upsample must be >= 1")
        _check(self.scale_search in SCALE_SEARCHES,
               f"scale_search must be one of {', '.join(SCALE_SEARCHES)}, got {self.scale_search!r}")
        _check(self.scale_count >= 1 and self.scale_count % 2 == 1,
               "scale_count must be an odd number >= 1 (the middle scale keeps the size)")
        _check(self.scale_step >= 1.0, "scale_step must be >= 1")
        _check(0.0 < self.scale_penalty <= 1.0, "scale_penalty must be in (0, 1]")
        _check(0.0 <= self.scale_lr <= 1.0, "scale_lr must be in [0, 1]")
        _check(0.0 <= self.pyramid_below <= 1.0, "pyramid_below must be in [0, 1]")
        _check(self.pyramid_below == 0.0 or self.scale_search == "single",
               "pyramid_below applies to scale_search 'single' only")
        _check(0.0 <= self.window_influence <= 1.0, "window_influence must be in [0, 1]")
        _check(self.context_amount >= 0.0, "context_amount must be >= 0")
        _check(0.0 < self.min_size_factor <= 1.0 <= self.max_size_factor,
               "need 0 < min_size_factor <= 1 <= max_size_factor")
        _check(0.0 <= self.lost_threshold <= 1.0, "lost_threshold must be in [0, 1]")
        _check(0.0 <= self.min_texture <= 255.0, "min_texture must be in [0, 255]")
        _check(self.lost_patience >= 1, "lost_patience must be >= 1")
        _check(self.redetect_growth > 1.0, "redetect_growth must be > 1")
        _check(0.0 <= self.redetect_threshold <= 1.0, "redetect_threshold must be in [0, 1]")
        _check(self.max_tiles >= 1, "max_tiles must be >= 1")
        _check(self.box_size in BOX_SIZES, f"box_size must be one of {', '.join(BOX_SIZES)}, got {self.box_size!r}")
        _check(0.0 <= self.box_window_influence <= 1.0, "box_window_influence must be in [0, 1]")
        _check(self.box_penalty >= 0.0, "box_penalty must be >= 0")
        _check(0.0 <= self.box_lr <= 1.0, "box_lr must be in [0, 1]")

    @property
    def kernels_per_target(self) -> int:
        """Exemplar kernels kept per target: one per scale (``single``) or one (``pyramid``)."""
        return self.scale_count if self.scale_search == "single" else 1

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrackerConfig":
        """Build a config from a mapping; unknown keys and wrong types are errors."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"tracker config must be a mapping, got {type(values).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(
                f"unknown tracker config key(s): {', '.join(unknown)}; "
                f"valid keys: {', '.join(fields)}")
        converted: dict[str, Any] = {}
        for key, value in values.items():
            kind: Any = type(fields[key].default)
            if kind is str:
                if not isinstance(value, str):
                    raise ConfigError(f"tracker config {key!r} must be a string, got {value!r}")
                converted[key] = value
                continue
            if kind is bool:
                if not isinstance(value, bool):
                    raise ConfigError(f"tracker config {key!r} must be true or false, got {value!r}")
                converted[key] = value
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"tracker config {key!r} must be a number, got {value!r}")
            if kind is int and float(value) != int(value):
                raise ConfigError(f"tracker config {key!r} must be an integer, got {value!r}")
            converted[key] = kind(value)
        return cls(**converted)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "TrackerConfig":
        """Return a copy with some fields changed (validated like ``from_dict``)."""
        return TrackerConfig.from_dict({**self.to_dict(), **changes})


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def default_preset(head: str) -> str:
    """The preset a model with this head tracks with when no config is given (``HEAD_PRESETS``)."""
    return HEAD_PRESETS.get(head, "siamfc-3s")


def default_config(metadata: "ModelMetadata") -> TrackerConfig:
    """The config a model tracks with when none is given: its head's `default_preset`
    (``siamfc-3s`` holds the dataclass's defaults), with the lost threshold calibrated for the
    model when its metadata carries one."""
    config = load_config(default_preset(metadata.head))
    if metadata.lost_threshold is None:
        return config
    return config.replace(lost_threshold=metadata.lost_threshold)


def default_config_name(metadata: "ModelMetadata") -> str:
    """How `default_config` is named to a user: the preset, and the model's own lost threshold."""
    name = default_preset(metadata.head)
    if metadata.lost_threshold is None:
        return name
    return f"{name}, the model's lost_threshold {metadata.lost_threshold:g}"


def preset_names() -> list[str]:
    """Names of the presets shipped with siamtrack (e.g. ``siamfc-3s``, ``siamfc-5s``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_config(name_or_path: str | Path) -> TrackerConfig:
    """Load a preset by name (see [preset_names][siamtrack.preset_names]) or a JSON file of config keys.

    Keys a file leaves out take the SiamFC-3s defaults.
    """
    path = Path(name_or_path)
    if not path.suffix and (PRESET_DIR / f"{name_or_path}.json").is_file():
        path = PRESET_DIR / f"{name_or_path}.json"
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no tracker config file or preset named {str(name_or_path)!r}; "
            f"presets: {', '.join(preset_names())}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read tracker config {str(path)!r}: {exc}") from None
    return TrackerConfig.from_dict(values)
