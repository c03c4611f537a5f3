"""NanoTrack v2 as a teacher: its classification map and boxes for every training pair.

NanoTrack (HonglinChu/SiamTrackers, Apache-2.0; the model behind OpenCV's ``TrackerNano``) was
trained on far more data than this project has, and it localises well where SiamFC-style models
drift to look-alikes, so its classification map is a training target for the box head's class
branch (weights only ever serve as targets: nothing of NanoTrack ends up in a trained file).

It takes the same crops as siamtrack's networks (127 px exemplar, 255 px search, context 0.5),
as RGB 0..255 (OpenCV feeds it with ``swapRB``), and returns on a 16 x 16 grid of stride 16 the
two-way class scores and left/top/right/bottom distances in crop pixels. Cell ``i`` sits at
``(i - 8) * 16`` pixels from the crop center (OpenCV's ``grid2search``), so the grid's center
cell is 8, not 7.5. The published graphs declare a batch of 1 and a 255 px backbone input; they
are rewritten in memory with dynamic batch and size (their reshapes copy the batch axis), which
lets one call process a training batch. ``tests/training/test_nanotrack.py`` checks that the
teacher, fed siamtrack's crops, reproduces ``cv2.TrackerNano``'s box on real frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from siamtrack.backends.nanotrack import BACKBONE_FILE, HEAD_FILE, NanoTrackOnnxBackend
from siamtrack.errors import BackendUnavailableError, ConfigError
from siamtrack.training.nano_loss import TeacherMaps

STRIDE = 16
CENTER_CELL = 8.0  # the cell at the search crop's center


class NanoTrackTeacher:
    """Runs NanoTrack v2's two graphs on batches of siamtrack training crops.

    Args:
        folder: the folder holding ``nanotrack_backbone_sim.onnx`` and ``nanotrack_head_sim.onnx``.
        threads: ONNX Runtime intra-op threads (None: its default).

    Raises:
        ConfigError: a graph is missing, or onnx / onnxruntime are not installed.
    """

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        folder = Path(folder)
        missing = [name for name in (BACKBONE_FILE, HEAD_FILE) if not (folder / name).is_file()]
        if missing:
            raise ConfigError(f"class teacher {folder}: missing {', '.join(missing)} (NanoTrack v2's graphs)")
        try:
            self._graphs = NanoTrackOnnxBackend(folder, threads=threads)
        except BackendUnavailableError as exc:
            raise ConfigError(f"the NanoTrack teacher needs onnxruntime and onnx: {exc}") from None
        self.folder = folder

    def maps(self, exemplars: np.ndarray, searches: np.ndarray) -> TeacherMaps:
        """(B, 127, 127, 3) and (B, 255, 255, 3) uint8 BGR crops -> its backbone maps of both and its
        head's probability and box distances (see `__call__`), as CPU tensors."""
        exemplar_features, search_features = self._graphs.features(exemplars), self._graphs.features(searches)
        scores, distances = self._graphs.head_maps(exemplar_features, search_features)
        return TeacherMaps(*(torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)) for values in
                             (exemplar_features, search_features, _target_probability(scores), distances)))

    def head_on(self, exemplar_features: torch.Tensor, search_features: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Its head on another backbone's (B, 48, 8, 8) and (B, 48, 16, 16) maps -> target logits
        (B, 16, 16) (target minus background score) and box distances (B, 4, 16, 16), on the
        maps' device, without gradient."""
        scores, distances = self._graphs.head_maps(
            *(np.ascontiguousarray(maps.detach().cpu().numpy(), dtype=np.float32)
              for maps in (exemplar_features, search_features)))
        device = exemplar_features.device
        return (torch.from_numpy(np.ascontiguousarray(scores[:, 1] - scores[:, 0], dtype=np.float32)).to(device),
                torch.from_numpy(np.ascontiguousarray(distances, dtype=np.float32)).to(device))

    def __call__(self, exemplars: np.ndarray, searches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 127, 127, 3) and (B, 255, 255, 3) uint8 BGR crops -> its maps.

        Returns:
            ``(probability, distances)``: (B, 16, 16) probability that the target's center is at
            each cell (the softmax of its two class scores), and (B, 4, 16, 16) left, top,
            right, bottom in search-crop pixels.
        """
        scores, distances = self._graphs.head_maps(self._graphs.features(exemplars), self._graphs.features(searches))
        return _target_probability(scores), distances.astype(np.float32)


def _target_probability(scores: np.ndarray) -> np.ndarray:
    """(B, 2, r, r) background and target scores -> (B, r, r) softmax probability of the target."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return (exp[:, 1] / exp.sum(axis=1)).astype(np.float32)
