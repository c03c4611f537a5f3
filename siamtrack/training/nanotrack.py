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
from typing import Any

import numpy as np

from ..errors import ConfigError

BACKBONE_FILE = "nanotrack_backbone_sim.onnx"
HEAD_FILE = "nanotrack_head_sim.onnx"
STRIDE = 16
CENTER_CELL = 8.0  # the cell at the search crop's center


def _dynamic_graph(path: Path, dynamic_size: bool) -> bytes:
    """The graph with a dynamic batch axis (and dynamic height and width), serialised."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        dims[0].dim_param = "batch"
        if dynamic_size:
            dims[2].dim_param, dims[3].dim_param = "height", "width"
    del model.graph.value_info[:]  # shapes inferred for batch 1 would contradict the new axes
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    for node in model.graph.node:
        shape = initializers.get(node.input[1]) if node.op_type == "Reshape" else None
        if shape is None:
            continue
        values = numpy_helper.to_array(shape).copy()
        if values[0] == 1:  # a batch of 1 written as a constant: 0 copies the input's batch instead
            values[0] = 0
            shape.CopyFrom(numpy_helper.from_array(values, shape.name))
    return model.SerializeToString()


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
            import onnxruntime
        except ImportError:
            raise ConfigError("the NanoTrack teacher needs onnxruntime and onnx "
                              "(pip install 'siamtrack[export]')") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if threads is not None:
            options.intra_op_num_threads = threads
        providers = ["CPUExecutionProvider"]
        self._backbone: Any = onnxruntime.InferenceSession(_dynamic_graph(folder / BACKBONE_FILE, True), options,
                                                           providers=providers)
        self._head: Any = onnxruntime.InferenceSession(_dynamic_graph(folder / HEAD_FILE, False), options,
                                                       providers=providers)
        self.folder = folder

    def _features(self, crops: np.ndarray) -> np.ndarray:
        rgb = np.ascontiguousarray(crops[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)
        return self._backbone.run(None, {"input": rgb})[0]

    def __call__(self, exemplars: np.ndarray, searches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, 127, 127, 3) and (B, 255, 255, 3) uint8 BGR crops -> its maps.

        Returns:
            ``(probability, distances)``: (B, 16, 16) probability that the target's center is at
            each cell (the softmax of its two class scores), and (B, 4, 16, 16) left, top,
            right, bottom in search-crop pixels.
        """
        scores, distances = self._head.run(["output1", "output2"], {"input1": self._features(exemplars),
                                                                    "input2": self._features(searches)})
        shifted = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return (exp[:, 1] / exp.sum(axis=1)).astype(np.float32), distances.astype(np.float32)
