"""What a model file says about its network, independent of any inference framework.

Stored inside siamtrack weights files and exported graphs (ONNX metadata, TensorRT engine headers)
so that a backend can prepare inputs and interpret outputs without guessing. Importing this module needs no torch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from siamtrack.errors import WeightsError
from siamtrack.model.architectures import ARCHITECTURES

# How a network reads a search crop: ``response`` is SiamFC's cross-correlation into one score map
# per kernel; ``box`` is the target-estimation head (classification, quality and box maps);
# ``nanotrack`` is NanoTrack's layout (two class logits and four box distances per cell).
HEADS = ("response", "box", "nanotrack")
# A nanotrack-layout head's output channels per kernel, in order (siamtrack.network.nano_head).
NANOTRACK_OUTPUTS = ("background", "target", "left", "top", "right", "bottom")
NANOTRACK_CLASSES = slice(0, 2)
# The box head's output channels per kernel, in order: what exported graphs return and the
# tracker reads (siamtrack.network.box_head computes them).
BOX_OUTPUTS = ("class", "quality", "left", "top", "right", "bottom")
CLASS, QUALITY = 0, 1
BOX = slice(2, 6)
# Sane ranges for what a metadata block may say (ModelMetadata._check_ranges).
MIN_CROP, MAX_CROP = 8, 2048
MAX_STRIDE = 64
MAX_WIDTH = 8192
MAX_HEAD_DEPTH = 16
MAX_RESPONSE = 256
COLOR_ORDERS = ("RGB", "BGR")
LEGACY_KEYS = {"input_colour": "input_color"}


@dataclass(frozen=True)
class ModelMetadata:
    """Description of a Siamese network's weights.

    Attributes:
        architecture: backbone name (``alexnet``).
        widths: output channels of each backbone stage.
        batch_norm: whether the state dict holds BatchNorm layers (False when folded).
        bn_eps: BatchNorm epsilon the weights were trained with.
        input_color: channel order the network expects (``RGB`` or ``BGR``).
        input_mean: per-channel value subtracted from 0..255 pixels, in ``input_color`` order.
        input_std: per-channel divisor applied after the mean.
        response_scale: factor on the raw cross-correlation (SiamFC: 0.001).
        response_bias: offset added after scaling.
        exemplar_size: exemplar crop side the network was trained on.
        instance_size: search crop side the network was trained on.
        total_stride: backbone stride.
        template_crop: side, in feature cells, of the central window of the exemplar features
            used as the correlation kernel; 0 uses them all (unpadded backbones such as AlexNet).
        head: ``response`` (SiamFC: the correlation is the output, one map per kernel),
            ``box`` (a target-estimation head turns the correlation into classification,
            quality and box-distance maps: `siamtrack.network.box_head`) or ``nanotrack``
            (NanoTrack's layout: background and target logits and box distances per cell, on a
            grid whose center cell is ``side // 2``: `siamtrack.network.nano_head`).
        head_width: channels of the head's towers (0 for ``response``).
        head_depth: layers of a ``nanotrack`` head's towers (2: two dense 3x3 layers; each
            further layer a separable unit that widens what the towers see).
        lost_threshold: the confidence below which this model's target is most likely gone,
            calibrated on videos with absent frames (its model card says which). Scores are
            not comparable across models (one trained on a teacher's sure maps scores a look-alike
            0.9), so the model carries its own; the tracker's default config takes it, a config
            given explicitly keeps its own. None: the config's (``TrackerConfig.lost_threshold``).
        provenance: free-form strings: where the weights came from, licence, converter, etc.
    """

    architecture: str
    widths: tuple[int, ...]
    batch_norm: bool
    bn_eps: float = 1e-5
    input_color: str = "RGB"
    input_mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    input_std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    response_scale: float = 0.001
    response_bias: float = 0.0
    exemplar_size: int = 127
    instance_size: int = 255
    total_stride: int = 8
    template_crop: int = 0
    head: str = "response"
    head_width: int = 0
    head_depth: int = 2
    lost_threshold: Optional[float] = None
    provenance: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise WeightsError(f"unknown architecture {self.architecture!r}; "
                               f"known: {', '.join(ARCHITECTURES)}")
        if self.input_color not in COLOR_ORDERS:
            raise WeightsError(f"input_color must be RGB or BGR, got {self.input_color!r}")
        if len(self.input_mean) != 3 or len(self.input_std) != 3 or min(self.input_std) <= 0:
            raise WeightsError("input_mean and input_std need 3 values each, std > 0")
        if self.head not in HEADS:
            raise WeightsError(f"unknown head {self.head!r}; known: {', '.join(HEADS)}")
        if (self.head == "response") != (self.head_width == 0):
            raise WeightsError("head_width must be 0 for the response head and > 0 for the others")
        if self.head != "nanotrack" and self.head_depth != 2:
            raise WeightsError("head_depth applies to the nanotrack head only")
        self._check_ranges()

    def _check_ranges(self) -> None:
        """Values a working network can have: a file outside them is damaged or hostile (a
        ``exemplar_size`` of 10**9 would make every crop allocate gigabytes)."""
        def whole(name: str, low: int, high: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise WeightsError(f"model metadata {name} must be a whole number in [{low}, {high}], got {value!r}")

        def finite(name: str, values: Any, positive: bool = False) -> None:
            items = values if isinstance(values, tuple) else (values,)
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       and (v > 0 or not positive) for v in items):
                raise WeightsError(f"model metadata {name} must be finite{' and > 0' if positive else ''}, "
                                   f"got {values!r}")

        whole("exemplar_size", MIN_CROP, MAX_CROP)
        whole("instance_size", MIN_CROP, MAX_CROP)
        whole("total_stride", 1, MAX_STRIDE)
        whole("template_crop", 0, MAX_CROP)
        whole("head_width", 0, MAX_WIDTH)
        whole("head_depth", 2, MAX_HEAD_DEPTH)
        if not self.widths or not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= MAX_WIDTH
                                      for w in self.widths):
            raise WeightsError(f"model metadata widths must be whole numbers in [1, {MAX_WIDTH}], got {self.widths!r}")
        finite("bn_eps", self.bn_eps, positive=True)
        finite("input_mean", tuple(self.input_mean))
        finite("input_std", tuple(self.input_std), positive=True)
        finite("response_scale", self.response_scale, positive=True)
        finite("response_bias", self.response_bias)
        if self.lost_threshold is not None:
            finite("lost_threshold", self.lost_threshold)
            if not 0.0 <= self.lost_threshold <= 1.0:
                raise WeightsError(f"model metadata lost_threshold must be in [0, 1], got {self.lost_threshold!r}")
        if self.instance_size < self.exemplar_size:
            raise WeightsError(f"model metadata instance_size ({self.instance_size}) must be at least "
                               f"exemplar_size ({self.exemplar_size})")
        cells = (self.instance_size - self.exemplar_size) // self.total_stride + 1
        if cells > MAX_RESPONSE:
            raise WeightsError(f"model metadata gives a {cells} x {cells} response (instance_size "
                               f"{self.instance_size}, exemplar_size {self.exemplar_size}, total_stride "
                               f"{self.total_stride}); at most {MAX_RESPONSE} is sane")

    @property
    def kernel_cells(self) -> int:
        """Side, in feature cells, of one exemplar kernel (``template_crop``, or the whole exemplar map
        of a padded backbone of stride ``total_stride``)."""
        return self.template_crop or -(-self.exemplar_size // self.total_stride)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (lists, not tuples)."""
        values = dataclasses.asdict(self)
        for key in ("widths", "input_mean", "input_std"):
            values[key] = list(values[key])
        values["provenance"] = dict(self.provenance)
        if self.lost_threshold is None:
            # Left out rather than null: files of models without a calibration stay readable by
            # versions that predate the key.
            del values["lost_threshold"]
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ModelMetadata":
        """Inverse of `to_dict`; unknown or missing keys are a [WeightsError][siamtrack.WeightsError]."""
        names = {f.name for f in dataclasses.fields(cls)}
        # Files written before the project settled on one spelling say input_colour.
        values = {LEGACY_KEYS.get(key, key): value for key, value in values.items()}
        unknown = sorted(set(values) - names)
        if unknown:
            raise WeightsError(f"unknown model metadata key(s): {', '.join(unknown)}")
        try:
            converted = dict(values)
            for key in ("widths", "input_mean", "input_std"):
                if key in converted:
                    converted[key] = tuple(converted[key])
            if "provenance" in converted:
                converted["provenance"] = {str(k): str(v) for k, v in converted["provenance"].items()}
            return cls(**converted)
        except (TypeError, AttributeError) as exc:
            raise WeightsError(f"invalid model metadata: {exc}") from None


def describe_metadata(meta: ModelMetadata) -> list[str]:
    """``weights info`` lines about a network: architecture, input convention, sizes, provenance."""
    lines = [
        f"architecture:   {meta.architecture}, widths {list(meta.widths)}, "
        f"batch norm {'yes (eps %g)' % meta.bn_eps if meta.batch_norm else 'folded/none'}",
        f"input:          {meta.input_color} 0..255, mean {list(meta.input_mean)}, std {list(meta.input_std)}",
        f"sizes:          exemplar {meta.exemplar_size}, instance {meta.instance_size}, "
        f"stride {meta.total_stride}",
        f"response:       x {meta.response_scale:g} + {meta.response_bias:g}",
    ]
    if meta.head == "box":
        lines.append(f"head:           box (classification, quality, box distances), towers {meta.head_width} wide")
    if meta.head == "nanotrack":
        lines.append(f"head:           nanotrack layout (class pair, box distances), towers {meta.head_width} wide, "
                     f"{meta.head_depth} deep")
    if meta.lost_threshold is not None:
        lines.append(f"lost threshold: {meta.lost_threshold:g} (calibrated for this model; the default config's)")
    if meta.template_crop:
        lines.append(f"template:       central {meta.template_crop}x{meta.template_crop} exemplar feature cells")
    lines += [f"provenance:     {key} = {value}" for key, value in sorted(meta.provenance.items())]
    return lines
