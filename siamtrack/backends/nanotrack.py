"""NanoTrack v2's published files, run natively: ONNX Runtime on the CPU, torch on the CPU or CUDA.

A NanoTrack folder holds the two graphs OpenCV's ``TrackerNano`` reads (HonglinChu/SiamTrackers,
Apache-2.0): ``nanotrack_backbone_sim.onnx`` (crop -> 48-channel features, stride 16: 127 px ->
8 x 8, 255 px -> 16 x 16) and ``nanotrack_head_sim.onnx`` (exemplar and search features -> two
class scores and four box distances on a 16 x 16 grid). Passed as a model
(``Tracker(model=FOLDER)``, ``--model FOLDER``), it runs through siamtrack's own pipeline: its
crops, every target and stream in one batched call, its lost flag, detectors, ``serve`` and
``batch``; `siamtrack.tracking.box_reader` decodes the maps as ``TrackerNano`` does (metadata head
``nanotrack``). Nothing of NanoTrack is bundled: a folder, or ``siamtrack weights download
nanotrack`` (`siamtrack.io.downloads`).

The published graphs declare a batch of 1 and a 255 px backbone input; they are rewritten in
memory with a dynamic batch (their reshapes' constant 1 becomes ONNX's "copy this dimension")
and, for the backbone, dynamic height and width, so one call takes every crop of a frame and the
backbone takes 127 px exemplars too. The rewrite needs the ``onnx`` package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from siamtrack.errors import BackendUnavailableError, WeightsError
from siamtrack.model.metadata import ModelMetadata

BACKBONE_FILE = "nanotrack_backbone_sim.onnx"
HEAD_FILE = "nanotrack_head_sim.onnx"
GRAPH_FILES = (BACKBONE_FILE, HEAD_FILE)
# The head's tensor names (NanoTrack's export): exemplar features, search features -> class, box.
HEAD_INPUTS = ("input1", "input2")
HEAD_OUTPUTS = ("output1", "output2")
FEATURE_CHANNELS = 48
TOWER_WIDTH = 96


def is_nanotrack_folder(path: Any) -> bool:
    """True for a folder holding NanoTrack v2's two graphs (by their published names)."""
    if not isinstance(path, (str, Path)):
        return False
    folder = Path(path)
    return folder.is_dir() and all((folder / name).is_file() for name in GRAPH_FILES)


def nanotrack_metadata(folder: str | Path) -> ModelMetadata:
    """What siamtrack needs to know to crop for NanoTrack v2 and read its maps."""
    return ModelMetadata(architecture="nanotrack-v2", widths=(FEATURE_CHANNELS,), batch_norm=False,
                         input_color="RGB", response_scale=1.0, total_stride=16, head="nanotrack",
                         head_width=TOWER_WIDTH,
                         provenance={"model": "NanoTrack v2 (HonglinChu/SiamTrackers, Apache-2.0), run as published",
                                     "folder": str(Path(folder).resolve())})


def dynamic_graph(path: Path, dynamic_size: bool) -> Any:
    """The graph at ``path`` with a dynamic batch axis (and dynamic height and width), as a ``ModelProto``.

    Raises:
        WeightsError: the file is not a readable ONNX graph.
        BackendUnavailableError: the ``onnx`` package is missing.
    """
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise BackendUnavailableError("NanoTrack's graphs need the onnx package to be batched: "
                                      "pip install onnx") from None
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # onnx raises protobuf's DecodeError and others for a damaged file
        raise WeightsError(f"{path} is not a readable ONNX graph: {str(exc).splitlines()[0] if str(exc) else exc}"
                           ) from None
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4:
            raise WeightsError(f"{path}: {value.name} has {len(dims)} axes; NanoTrack's graphs have 4")
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
    return model


def _rgb_planes(crops: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) uint8 BGR -> (N, 3, S, S) float32 RGB 0..255, as OpenCV feeds NanoTrack (swapRB)."""
    return np.ascontiguousarray(crops[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)


def _one_kernel_per_crop(crops: int, kernels: int) -> None:
    if kernels != crops:
        raise ValueError(f"NanoTrack matches one kernel per search crop; got {kernels} kernels for {crops} crops")


class NanoTrackOnnxBackend:
    """NanoTrack v2's graphs in ONNX Runtime on the CPU (the [Backend][siamtrack.backends.Backend] interface).

    Args:
        model: the NanoTrack folder.
        device: ``auto`` or ``cpu``.
        threads: intra-op threads per graph; None lets ONNX Runtime use every physical core.
    """

    name = "onnx"

    def __init__(self, model: str | Path, device: str = "auto", threads: int | None = None) -> None:
        if device not in ("auto", "cpu"):
            raise BackendUnavailableError(f"the onnx backend runs on the CPU; for device {device!r} use "
                                          f"backend='torch'")
        if not is_nanotrack_folder(model):
            raise WeightsError(f"{model} is not a NanoTrack folder ({' and '.join(GRAPH_FILES)})")
        from siamtrack.backends.onnx_backend import _import_onnxruntime

        onnxruntime = _import_onnxruntime()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads is not None:
            options.intra_op_num_threads = threads
        folder = Path(model)
        sessions = []
        for name, dynamic_size in ((BACKBONE_FILE, True), (HEAD_FILE, False)):
            try:
                sessions.append(onnxruntime.InferenceSession(
                    dynamic_graph(folder / name, dynamic_size).SerializeToString(), options,
                    providers=["CPUExecutionProvider"]))
            except (WeightsError, BackendUnavailableError):
                raise
            except Exception as exc:  # ORT's own pybind error types
                raise WeightsError(f"{folder / name} cannot be loaded by ONNX Runtime: "
                                   f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        self._backbone, self._head = sessions
        self.metadata = nanotrack_metadata(folder)
        self.device = "cpu"
        self.threads = threads

    def features(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 BGR crops of any side -> NanoTrack's backbone maps (N, 48, S/16, S/16)."""
        return self._backbone.run(None, {"input": _rgb_planes(crops)})[0]

    def head_maps(self, kernels: np.ndarray, search_features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exemplar and search features, one pair per row -> (class scores (N, 2, r, r), box distances (N, 4, r, r))."""
        classes, boxes = self._head.run(list(HEAD_OUTPUTS), {HEAD_INPUTS[0]: kernels, HEAD_INPUTS[1]: search_features})
        return classes, boxes

    def kernel_values(self, kernels: np.ndarray) -> np.ndarray:
        return np.asarray(kernels, dtype=np.float32)

    def template(self, exemplar_crops: np.ndarray) -> np.ndarray:
        return self.features(exemplar_crops)

    def stack(self, kernels: Sequence[np.ndarray]) -> np.ndarray:
        return kernels[0] if len(kernels) == 1 else np.concatenate(kernels)

    def track(self, search_crops: np.ndarray, kernels: np.ndarray) -> np.ndarray:
        _one_kernel_per_crop(len(search_crops), len(kernels))
        return np.concatenate(self.head_maps(kernels, self.features(search_crops)), axis=1)


class NanoTrackNet:
    """NanoTrack v2's graphs as torch modules, with the ``template`` / ``track`` pair of
    `SiameseNet`, which
    `TorchBackend` runs."""

    def __init__(self, folder: str | Path) -> None:
        import torch

        from siamtrack.backends.onnx_torch import OnnxGraphModule

        folder = Path(folder)
        self.backbone = OnnxGraphModule(dynamic_graph(folder / BACKBONE_FILE, True)).eval()
        self.head = OnnxGraphModule(dynamic_graph(folder / HEAD_FILE, False)).eval()
        self.metadata = nanotrack_metadata(folder)
        self._torch = torch

    def to(self, device: Any) -> "NanoTrackNet":
        self.backbone.to(device)
        self.head.to(device)
        return self

    def _features(self, crops: Any) -> Any:
        return self.backbone(crops.permute(0, 3, 1, 2).flip(1).float())[0]

    def template(self, exemplar_crops: Any) -> Any:
        return self._features(exemplar_crops)

    def track(self, search_crops: Any, kernels: Any) -> Any:
        _one_kernel_per_crop(len(search_crops), len(kernels))
        classes, boxes = self.head(kernels, self._features(search_crops))
        return self._torch.cat([classes, boxes], dim=1)
