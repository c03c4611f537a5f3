"""Annotated sequences in the layouts trackers are benchmarked and trained on.

Every reader returns `LabeledSequence` objects with 0-based (x, y, w, h) boxes and an
``absent`` mask (frames where the target is not visible: NaN rows, absence/occlusion labels).
`load_dataset` recognises the layout of a folder by itself; sequences stored as one video
file each are decoded once into a frame cache (`siamtrack.datasets.video`).
"""

from siamtrack.datasets.base import LabeledSequence
from siamtrack.datasets.registry import dataset_layout, load_dataset

__all__ = ["LabeledSequence", "load_dataset", "dataset_layout"]
