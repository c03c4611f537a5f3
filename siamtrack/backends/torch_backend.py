"""PyTorch backend: CPU or CUDA, inference mode, BatchNorm folded away."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..errors import BackendUnavailableError
from ..network.siamese import SiameseNet
from ..weights import ModelWeights, load_weights


def resolve_torch_device(device: str) -> torch.device:
    """Map ``auto`` / ``cpu`` / ``cuda`` / ``cuda:N`` to a usable torch device.

    Raises:
        BackendUnavailableError: CUDA was asked for but is not available, or the name is unknown.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise BackendUnavailableError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise BackendUnavailableError(
                f"device {device!r} was requested but CUDA is not available to this PyTorch "
                f"({torch.__version__}); use device='cpu'")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise BackendUnavailableError(
                f"device {device!r} does not exist: {torch.cuda.device_count()} CUDA device(s)")
    elif resolved.type != "cpu":
        raise BackendUnavailableError(f"the torch backend runs on cpu or cuda, not {device!r}")
    return resolved


class TorchBackend:
    """Runs a :class:`SiameseNet` with PyTorch.

    Args:
        model: a weights file (any layout :func:`~siamtrack.weights.load_weights` reads) or
            loaded :class:`~siamtrack.weights.ModelWeights`.
        device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        threads: CPU threads for PyTorch (process-wide setting); None leaves PyTorch's default.
            Fewer threads leave cores for other work (e.g. several trackers in one process).
        half: fp16 inference: ``auto`` (on CUDA only), True or False. Responses move by ~1e-3,
            which changes no box in practice; fp32 on CUDA is for checking that.
    """

    name = "torch"

    def __init__(self, model: "str | Path | ModelWeights", device: str = "auto",
                 threads: int | None = None, half: "bool | str" = "auto") -> None:
        weights = model if isinstance(model, ModelWeights) else load_weights(model)
        self._device = resolve_torch_device(device)
        if threads is not None:
            if threads < 1:
                raise ValueError(f"threads must be >= 1, got {threads}")
            torch.set_num_threads(threads)
        network = SiameseNet(weights.metadata)
        network.load_state_dict(dict(weights.state_dict))
        network = network.eval().fold_batch_norm().to(self._device)
        network.requires_grad_(False)
        # On CUDA: fp16 kernels (tensor cores) through autocast, and channels-last layout, which
        # cuDNN's fp16 convolutions prefer. The CPU keeps fp32 and the default layout.
        self.half = self._device.type == "cuda" if half == "auto" else bool(half)
        if self.half and self._device.type != "cuda":
            raise BackendUnavailableError("half=True needs a CUDA device (fp16 on the CPU is slow)")
        if self._device.type == "cuda":
            network = network.to(memory_format=torch.channels_last)
        self.network = network
        self.metadata = weights.metadata
        self.device = str(self._device)

    def _to_device(self, crops: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(crops))
        if self._device.type == "cuda":
            tensor = tensor.pin_memory().to(self._device, non_blocking=True)
        return tensor

    def template(self, exemplar_crops: np.ndarray) -> torch.Tensor:
        with torch.inference_mode(), torch.autocast("cuda", torch.float16, enabled=self.half):
            return self.network.template(self._to_device(exemplar_crops))

    def stack(self, kernels: Sequence[torch.Tensor]) -> torch.Tensor:
        return kernels[0] if len(kernels) == 1 else torch.cat(list(kernels))

    def track(self, search_crops: np.ndarray, kernels: torch.Tensor) -> np.ndarray:
        return self.track_tensors(self._to_device(search_crops), kernels).cpu().numpy()

    def track_tensors(self, search_crops: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        """Like ``track`` for crops already on the device; float32 responses stay there (no sync)."""
        with torch.inference_mode(), torch.autocast("cuda", torch.float16, enabled=self.half):
            return self.network.track(search_crops, kernels).float()
