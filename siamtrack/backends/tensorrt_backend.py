"""TensorRT backend: the exported graphs as TensorRT 10 engines on an NVIDIA GPU.

Engines are built from an ONNX export folder on first use and cached (see
`siamtrack.backends.tensorrt_runtime`). Buffers are torch CUDA tensors; every call binds
them by tensor name and runs on torch's current CUDA stream, so the engine orders correctly with
any torch work around it.

TensorRT is imported when this backend is created, never before. Where TensorRT is not
installed its tests skip with the reason; the logic around it (profiles, cache keys, engine
headers) is tested without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from siamtrack.backends.tensorrt_runtime import (
    ENGINE_FILES,
    check_engine_fits,
    engines_for,
    gpu_identity,
    import_tensorrt,
    read_engine_file,
)
from siamtrack.errors import WeightsError
from siamtrack.model import contract


class TensorRTBackend:
    """Runs an exported siamtrack model as TensorRT engines.

    Args:
        model: an ONNX export folder (engines are built and cached on first use) or a folder of
            ``template.engine`` / ``search.engine`` written by ``siamtrack export --format tensorrt``.
        device: ``auto``, ``cuda`` or ``cuda:N``.
        threads: unused (the GPU does the work); accepted so every backend takes the same arguments.
        fp16: True, False or ``auto`` (FP16 where the GPU has fast FP16): about half the time per
            frame on recent GPUs, responses within ~1e-3 of FP32.
        max_batch: largest number of search crops (targets x scales) per call.
        cache_dir: engine cache folder (default ``~/.cache/siamtrack/engines``).

    Raises:
        BackendUnavailableError: TensorRT, torch or CUDA is missing.
        WeightsError: the model or an engine is missing, corrupt, or built for another GPU or
            TensorRT version.
    """

    name = "tensorrt"

    def __init__(self, model: str | Path, device: str = "auto", threads: int | None = None,
                 fp16: str | bool = "auto", max_batch: int = 48, cache_dir: str | Path | None = None) -> None:
        trt = import_tensorrt()
        gpu, capability = gpu_identity(device)
        import torch

        self._torch = torch
        self._device = torch.device("cuda" if device == "auto" else device)
        folder = Path(model)
        if (folder / ENGINE_FILES[contract.TEMPLATE]).is_file():
            paths = {graph: folder / name for graph, name in ENGINE_FILES.items()}
        else:
            cache = None if cache_dir is None else Path(cache_dir)
            paths = engines_for(folder, gpu, capability, trt.__version__, cache, fp16, max_batch)
        logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(logger)
        self._engines, self._contexts, infos = {}, {}, {}
        for graph, path in paths.items():
            header, blob = read_engine_file(path)
            check_engine_fits(header, trt.__version__, gpu, capability, str(path))
            if header.graph != graph:
                raise WeightsError(f"{path} holds the {header.graph} engine, expected {graph}")
            engine = self._runtime.deserialize_cuda_engine(blob)
            if engine is None:
                raise WeightsError(f"TensorRT could not deserialize {path} (corrupt?)")
            self._engines[graph] = engine
            self._contexts[graph] = engine.create_execution_context()
            infos[graph] = header.info()
        self.info = contract.check_pair(infos[contract.TEMPLATE], infos[contract.SEARCH], str(folder))
        self.metadata = self.info.metadata
        self.max_batch = max_batch
        self.device = str(self._device)

    def _upload(self, crops: Any) -> Any:
        torch = self._torch
        if isinstance(crops, torch.Tensor):
            return crops.to(self._device, non_blocking=True).contiguous()
        return torch.from_numpy(np.ascontiguousarray(crops)).pin_memory().to(self._device, non_blocking=True)

    def run_graph(self, graph: str, inputs: dict[str, Any]) -> Any:
        """Run one engine on CUDA tensors bound by name; returns its output tensor (same stream)."""
        torch = self._torch
        context = self._contexts[graph]
        for name, tensor in inputs.items():
            context.set_input_shape(name, tuple(tensor.shape))
            context.set_tensor_address(name, tensor.data_ptr())
        (output_name,) = contract.GRAPH_OUTPUTS[graph]
        output = torch.empty(tuple(context.get_tensor_shape(output_name)), dtype=torch.float32,
                             device=self._device)
        context.set_tensor_address(output_name, output.data_ptr())
        stream = torch.cuda.current_stream(self._device)
        if not context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError(f"TensorRT failed to run the {graph} engine")
        return output

    def kernel_values(self, kernels: Any) -> np.ndarray:
        return kernels.float().cpu().numpy()

    def template(self, exemplar_crops: Any) -> Any:
        return self.run_graph(contract.TEMPLATE, {contract.EXEMPLAR_CROPS: self._upload(exemplar_crops)})

    def stack(self, kernels: Sequence[Any]) -> Any:
        return kernels[0] if len(kernels) == 1 else self._torch.cat(list(kernels))

    def track(self, search_crops: Any, kernels: Any) -> np.ndarray:
        return self.track_tensors(self._upload(search_crops), kernels).cpu().numpy()

    def track_tensors(self, crops: Any, kernels: Any) -> Any:
        """Crops already on the GPU -> responses on the GPU, on the current stream (no sync)."""
        if len(crops) > self.max_batch:
            raise ValueError(f"{len(crops)} search crops exceed the engine's batch limit {self.max_batch}")
        if len(kernels) % len(crops) or len(kernels) // len(crops) > contract.MAX_KERNELS_PER_CROP:
            raise ValueError(f"{len(kernels)} kernels for {len(crops)} search crops: need 1 to "
                             f"{contract.MAX_KERNELS_PER_CROP} per crop, the same for every crop")
        crop_kernels = kernels.reshape(len(crops), -1, *kernels.shape[1:])
        responses = self.run_graph(contract.SEARCH, {contract.SEARCH_CROPS: crops, contract.CROP_KERNELS: crop_kernels})
        return responses.reshape(-1, *responses.shape[2:])
