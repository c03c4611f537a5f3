"""Training pairs as a PyTorch dataset: from sequences (two frames) and still images (one image).

Item ``i`` of epoch ``e`` is a pure function of (seed, e, i), so runs are reproducible and a
resumed run sees the pairs it would have seen, whatever the number of loader workers or
processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch

from siamtrack.datasets.base import LabeledSequence
from siamtrack.datasets.stills import StillImage
from siamtrack.errors import InputError
from siamtrack.training.augment import Augmentation, CropGeometry, training_pair
from siamtrack.training.pairs import PairRules, sample_pair, usable_frames


@dataclass(frozen=True)
class _Video:
    sequence: LabeledSequence
    usable: np.ndarray  # frame indices that pass the pair rules


def _read(path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"cannot read training image {path}")
    return image


class PairDataset(torch.utils.data.Dataset):
    """Augmented (exemplar, search, target) triples; target = (dx, dy, w, h) in the search crop.

    Args:
        sequences: annotated sequences; each contributes in proportion to its usable frames.
        stills: still images; each box gives a pair cut twice from the same image.
        pairs_per_epoch: length of an epoch.
        still_fraction: share of pairs drawn from still images (when there are both kinds).
        negative_fraction: share of still-image pairs that are hard negatives: the search crop is
            cut around another object of the same image (images with two or more boxes; the
            sources mostly show one kind of object, so the distractor is usually of the same
            kind). SiamFC trained on video alone drifts to look-alikes (a crowd, a convoy);
            these pairs penalise exactly that.
        rules, augmentation, config: how pairs are chosen and cut.
        seed: base seed.
    """

    def __init__(self, sequences: Sequence[LabeledSequence], stills: Sequence[StillImage], pairs_per_epoch: int,
                 still_fraction: float = 0.2, negative_fraction: float = 0.0, rules: PairRules = PairRules(),
                 augmentation: Augmentation = Augmentation(), config: CropGeometry = CropGeometry(),
                 seed: int = 0) -> None:
        self.videos = [_Video(s, u) for s in sequences if len(u := usable_frames(s, rules))]
        self.stills = list(stills)
        self.crowded = [still for still in self.stills if len(still.boxes) >= 2]
        if not self.videos and not self.stills:
            raise InputError("no usable training data: no sequence frame or still box passes the filters")
        weights = np.array([len(v.usable) for v in self.videos], dtype=np.float64)
        self.video_weights = weights / weights.sum() if len(weights) else weights
        self.still_fraction = still_fraction if self.videos and self.stills else float(not self.videos)
        self.negative_fraction = negative_fraction if self.crowded else 0.0
        self.pairs_per_epoch = pairs_per_epoch
        self.rules, self.augmentation, self.config, self.seed = rules, augmentation, config, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose pairs ``__getitem__`` returns (call before each epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.pairs_per_epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        distractor = None
        if rng.random() < self.still_fraction:
            if self.negative_fraction and rng.random() < self.negative_fraction:
                still = self.crowded[rng.integers(len(self.crowded))]
                target, other = rng.choice(len(still.boxes), size=2, replace=False)
                distractor = still.boxes[other]
            else:
                still = self.stills[rng.integers(len(self.stills))]
                target = rng.integers(len(still.boxes))
            image = _read(still.path)
            box = still.boxes[target]
            z_image, z_box, x_image, x_box = image, box, image, box
        else:
            source = self.videos[rng.choice(len(self.videos), p=self.video_weights)]
            z_index, x_index = sample_pair(source.usable, self.rules, rng)
            sequence = source.sequence
            z_image, z_box = _read(sequence.frames[z_index]), sequence.boxes[z_index]
            x_image = z_image if x_index == z_index else _read(sequence.frames[x_index])
            x_box = sequence.boxes[x_index]
        exemplar, search, target = training_pair(z_image, z_box, x_image, x_box, rng, self.augmentation, self.config,
                                                 distractor)
        return torch.from_numpy(exemplar), torch.from_numpy(search), torch.from_numpy(target)
