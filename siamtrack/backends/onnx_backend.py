"""ONNX Runtime backend: runs the exported graphs on the CPU, with no torch in the process.

The model is a folder written by ``siamtrack export MODEL --format onnx`` (see
`siamtrack.model.contract`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from siamtrack.errors import BackendUnavailableError, WeightsError
from siamtrack.model import contract

GRAPH_OPTIMIZATIONS = ("disable", "basic", "extended", "all")


def _import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise BackendUnavailableError(
            "the onnx backend needs ONNX Runtime: pip install 'siamtrack[onnx]' "
            "(or pip install onnxruntime)") from None
    return onnxruntime


class OnnxBackend:
    """Runs an exported siamtrack model with ONNX Runtime's CPU execution provider.

    Args:
        model: the export folder (or either graph file in it).
        device: ``auto`` or ``cpu``; this backend runs on the CPU only.
        threads: intra-op threads per graph; None lets ONNX Runtime use every physical core.
            Fewer threads leave cores for capture, display or other trackers.
        graph_optimization: ONNX Runtime graph optimisation level (``disable``, ``basic``,
            ``extended``, ``all``). ``all`` fuses convolutions with their activations and picks
            the CPU's fastest layouts; the lower levels only help to debug a graph.
        spin_threads: let idle worker threads spin between runs (ONNX Runtime's own default).
            Off by default: on the 2-core machine no spinning was 1.13x faster idle and 1.36x /
            1.48x faster beside one / two busy processes, as spinning threads fight the other
            work for the cores (``python benchmarks/threads.py``).

    Raises:
        BackendUnavailableError: ONNX Runtime is missing, or a device other than the CPU was asked for.
        WeightsError: the graphs are missing, corrupt, or not a matching siamtrack pair.
    """

    name = "onnx"

    def __init__(self, model: str | Path, device: str = "auto", threads: int | None = None,
                 graph_optimization: str = "all", spin_threads: bool = False) -> None:
        if device not in ("auto", "cpu"):
            raise BackendUnavailableError(
                f"the onnx backend runs on the CPU; for device {device!r} use backend='tensorrt' "
                f"or backend='torch'")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if graph_optimization not in GRAPH_OPTIMIZATIONS:
            raise ValueError(f"graph_optimization must be one of {', '.join(GRAPH_OPTIMIZATIONS)}")
        if isinstance(model, (str, Path)) and not contract.is_exported_model(model):
            raise WeightsError(f"{model} is not an exported ONNX model; the onnx backend runs the "
                               f"graphs of: siamtrack export {model} --format onnx --output FOLDER")
        onnxruntime = _import_onnxruntime()
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = getattr(
            onnxruntime.GraphOptimizationLevel,
            {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC",
             "extended": "ORT_ENABLE_EXTENDED", "all": "ORT_ENABLE_ALL"}[graph_optimization])
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        if threads is not None:
            options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_threads else "0")
        options.log_severity_level = 3  # errors reach the user as exceptions, not log lines

        paths = contract.graph_paths(model)
        self._sessions = {}
        infos = {}
        for graph, path in paths.items():
            try:
                session = onnxruntime.InferenceSession(str(path), options,
                                                       providers=["CPUExecutionProvider"])
            except Exception as exc:  # ORT raises its own pybind types for every load failure
                first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise WeightsError(f"{path} cannot be loaded by ONNX Runtime (corrupt or not ONNX?): "
                                   f"{first_line}") from exc
            infos[graph] = contract.GraphInfo.from_props(session.get_modelmeta().custom_metadata_map,
                                                         graph, str(path))
            names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
            expected = (list(contract.GRAPH_INPUTS[graph]), list(contract.GRAPH_OUTPUTS[graph]))
            if names != expected:
                raise WeightsError(f"{path}: tensors {names} do not match siamtrack's {expected}")
            self._sessions[graph] = session
        self.info = contract.check_pair(infos[contract.TEMPLATE], infos[contract.SEARCH],
                                        str(paths[contract.TEMPLATE].parent))
        self.metadata = self.info.metadata
        self.device = "cpu"
        self.threads = threads

    def kernel_values(self, kernels: np.ndarray) -> np.ndarray:
        return np.asarray(kernels, dtype=np.float32)

    def template(self, exemplar_crops: np.ndarray) -> np.ndarray:
        crops = np.ascontiguousarray(exemplar_crops, dtype=np.uint8)
        return self._sessions[contract.TEMPLATE].run(None, {contract.EXEMPLAR_CROPS: crops})[0]

    def stack(self, kernels: Sequence[np.ndarray]) -> np.ndarray:
        return kernels[0] if len(kernels) == 1 else np.concatenate(kernels)

    def track(self, search_crops: np.ndarray, kernels: np.ndarray) -> np.ndarray:
        crops = np.ascontiguousarray(search_crops, dtype=np.uint8)
        if len(kernels) % len(crops):
            raise ValueError(f"{len(kernels)} kernels cannot be split evenly among {len(crops)} search crops")
        # The graph takes K kernels per crop as (N, K, C, h, w) (see contract); ONNX Runtime
        # reads both numpy arrays in place on the CPU, so plain run() copies nothing that I/O
        # binding would save.
        crop_kernels = kernels.reshape(len(crops), -1, *kernels.shape[1:])
        responses = self._sessions[contract.SEARCH].run(
            None, {contract.SEARCH_CROPS: crops, contract.CROP_KERNELS: crop_kernels})[0]
        return responses.reshape(-1, *responses.shape[2:])
