"""PyTorch backend: CPU or CUDA, inference mode, BatchNorm folded away."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from siamtrack.backends.nanotrack import NanoTrackNet, is_nanotrack_folder
from siamtrack.errors import BackendUnavailableError
from siamtrack.model.architectures import ARCHITECTURES
from siamtrack.model.weights import ModelWeights, load_weights
from siamtrack.network.siamese import SiameseNet

LOG = logging.getLogger(__name__)


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


def _frozen_backbone(network: SiameseNet) -> tuple[torch.nn.Module, str]:
    """The backbone traced, frozen and optimised by TorchScript, checked against eager on random crops."""
    import warnings

    eager = network.backbone
    size = network.metadata.instance_size
    generator = torch.Generator().manual_seed(0)
    sample = network.preprocess(torch.randint(0, 256, (2, size, size, 3), dtype=torch.uint8, generator=generator))
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript's deprecation notices; the graph is checked below
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(eager, sample)))
        expected = eager(sample)
        if not torch.allclose(frozen(sample), expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max())):
            LOG.warning("the frozen backbone does not reproduce the eager one; using eager")
            return eager, "eager"
    return frozen, "frozen"


class TorchBackend:
    """Runs a `SiameseNet` with PyTorch.

    Args:
        model: a weights file (any layout [load_weights][siamtrack.load_weights] reads), loaded
            [ModelWeights][siamtrack.ModelWeights], or a NanoTrack folder
            (`siamtrack.backends.nanotrack`, run as published).
        device: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        threads: CPU threads for PyTorch (process-wide setting); None leaves PyTorch's default.
            Fewer threads leave cores for other work (e.g. several trackers in one process).
        half: fp16 inference: ``auto`` (on CUDA only), True or False. Responses move by ~1e-3,
            which changes no box in practice; fp32 on CUDA is for checking that.
        cpu_graph: how the backbone runs on the CPU. ``frozen``: traced, frozen and optimised
            for inference by TorchScript (fused convolutions; ~1.7x faster for the light
            backbone, slower for AlexNet on the machines measured). ``eager``: plain PyTorch.
            ``auto``: the recorded choice for the architecture (`siamtrack.model.architectures`);
            never timed at load, so every load of a model computes the same outputs.
    """

    name = "torch"

    def __init__(self, model: "str | Path | ModelWeights", device: str = "auto",
                 threads: int | None = None, half: "bool | str" = "auto", cpu_graph: str = "auto") -> None:
        self._device = resolve_torch_device(device)
        if threads is not None:
            if threads < 1:
                raise ValueError(f"threads must be >= 1, got {threads}")
            torch.set_num_threads(threads)
        if is_nanotrack_folder(model):  # NanoTrack's published graphs, run as they are
            self._set_network(NanoTrackNet(model).to(self._device), "eager", half)  # type: ignore[arg-type]
            return
        weights = model if isinstance(model, ModelWeights) else load_weights(model)  # type: ignore[arg-type]
        network = SiameseNet(weights.metadata)
        network.load_state_dict(dict(weights.state_dict))
        network = network.eval().fold_batch_norm().to(self._device)
        network.requires_grad_(False)
        if self._device.type == "cuda":
            # channels-last layout, which cuDNN's fp16 convolutions prefer.
            network = network.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # stub lacks it
        if cpu_graph not in ("auto", "eager", "frozen"):
            raise ValueError(f"cpu_graph must be auto, eager or frozen, got {cpu_graph!r}")
        if cpu_graph == "auto":
            cpu_graph = ARCHITECTURES[weights.metadata.architecture].cpu_graph
        graph = "eager"
        if self._device.type == "cpu" and cpu_graph == "frozen":
            network.backbone, graph = _frozen_backbone(network)
        self._set_network(network, graph, half)

    def _set_network(self, network: "SiameseNet | NanoTrackNet", cpu_graph: str, half: "bool | str") -> None:
        # On CUDA: fp16 kernels (tensor cores) through autocast. The CPU keeps fp32.
        self.half = self._device.type == "cuda" if half == "auto" else bool(half)
        if self.half and self._device.type != "cuda":
            raise BackendUnavailableError("half=True needs a CUDA device (fp16 on the CPU is slow)")
        self.network = network
        self.cpu_graph = cpu_graph
        self.metadata = network.metadata
        self.device = str(self._device)

    def _to_device(self, crops: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(crops))
        if self._device.type == "cuda":
            tensor = tensor.pin_memory().to(self._device, non_blocking=True)
        return tensor

    def kernel_values(self, kernels: torch.Tensor) -> np.ndarray:
        return kernels.float().cpu().numpy()

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
