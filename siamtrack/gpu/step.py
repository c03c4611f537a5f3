"""One frame's tracking work for all targets on the backend's device, one synchronisation.

`TensorStep` turns a frame and the tracker's crop plans into
`Estimate` objects: upload the frame once (pinned memory, asynchronous),
cut every crop of every target on the device (`crops`), run the network (the backend's
``track_tensors``) and copy back what the host needs in one transfer. For SiamFC response models
that is each target's peak, found on the device (`head`: 5 numbers per target instead of its
upsampled maps); a box-head model's maps are already small (6 x r x r per target), so they come
back as they are and are read by the same code as on the CPU (`siamtrack.box_reader`). On
CUDA, frames whose targets all track normally replay the step as a CUDA graph captured for that
number of targets and frame size.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch

from ..config import TrackerConfig
from ..head import Peak
from ..steps import Estimate, ScaleSearchStep, TrackingStep
from . import crops as device_crops
from . import head as device_head

LOG = logging.getLogger(__name__)


class StepInputs(NamedTuple):
    """Per-crop inputs of one frame's step, on the device (the tensors a CUDA graph replays with)."""

    centers: torch.Tensor  # (crops, 2) crop centers in frame pixels
    sides: torch.Tensor  # (crops,) crop sides in frame pixels
    pads: torch.Tensor  # (crops, 3) padding color of each crop's target
    gains: torch.Tensor  # (maps,) each map's kernel gain (see siamtrack.tracker)


class TensorStep:
    """Per-frame work on torch tensors for a [DeviceBackend][siamtrack.backends.DeviceBackend].

    Args:
        backend: a backend with ``track_tensors(crops, kernels) -> responses`` on its device
            (torch or TensorRT).
        config: the tracker's configuration.
        step: the tracker's step for its model's head (for SiamFC its NumPy head supplies scales,
            penalties, interpolation matrix and windows to the device head).
        instance_size: side of a search crop (the model's metadata).
        cuda_graphs: on CUDA, capture and replay the step as a CUDA graph per target count and
            frame size (saves the launch overhead of ~100 small kernels per frame).
    """

    def __init__(self, backend: Any, config: TrackerConfig, step: TrackingStep, instance_size: int,
                 cuda_graphs: bool = True) -> None:
        self.backend = backend
        self.config = config
        self.instance_size = instance_size
        self.device = torch.device(backend.device)
        self._step = step
        # SiamFC: peaks on the device; the box head: its maps to the host (see the module docstring).
        self._scale_search = step if isinstance(step, ScaleSearchStep) else None
        self._device_heads: dict[int, device_head.DeviceHead] = {}
        self._host_frame: torch.Tensor | None = None
        self.use_graphs = cuda_graphs and self.device.type == "cuda"
        self._graphs: dict[tuple, _GraphedStep] = {}

    def head_tensors(self, side: int) -> device_head.DeviceHead:
        """The head's tensors for raw maps of this side (built once per side, before any capture)."""
        if side not in self._device_heads:
            if self._scale_search is None:
                raise RuntimeError("only response models have a device head")
            self._device_heads[side] = device_head.DeviceHead(self._scale_search.head, side, self.device)
        return self._device_heads[side]

    def upload(self, image: np.ndarray) -> torch.Tensor:
        """The frame on the device, copied once through a reused pinned buffer on CUDA."""
        if self.device.type != "cuda":
            return torch.from_numpy(image)
        if self._host_frame is None or self._host_frame.shape != image.shape:
            self._host_frame = torch.empty(image.shape, dtype=torch.uint8, pin_memory=True)
        self._host_frame.numpy()[...] = image
        return self._host_frame.to(self.device, non_blocking=True)

    def compute(self, frame: torch.Tensor, inputs: StepInputs, kernels: Any,
                groups: Sequence[tuple[int, int, bool]]) -> torch.Tensor:
        """Crops -> outputs -> peaks, all on the device; (len(groups) rows, 5) as in `head.locate`.
        ``groups`` lists (first map, map count, re-detecting) per target, in map order. When no
        target re-detects (the only case captured in a CUDA graph) every target has the same
        map count and the maps are a reshape away: no index tensor, no host-to-device copy.
        A box-head model's outputs are returned as they are (all maps, in plan order).
        """
        config = self.config
        batch = device_crops.crop_regions(frame, inputs.centers, inputs.sides, self.instance_size, inputs.pads)
        if self._scale_search is None:
            return self.backend.track_tensors(batch, kernels)
        bias = self.backend.metadata.response_bias
        outputs = self._scale_search.responses(self.backend.track_tensors(batch, kernels))
        responses = bias + (outputs - bias) * inputs.gains[:, None, None]
        head = self.head_tensors(responses.shape[-1])
        if not any(redetecting for _, _, redetecting in groups):
            maps = responses.reshape(len(groups), groups[0][1], *responses.shape[-2:])
            return device_head.locate(maps, head, head.penalties, config.window_influence)
        rows: list[torch.Tensor] = []
        for start, count, redetecting in groups:
            maps = responses[start:start + count][None]
            if redetecting:  # wide search: strongest tile, no motion prior, no scale penalty
                rows.append(device_head.locate(maps, head, torch.ones(count, device=self.device), 0.0)[0])
            else:
                rows.append(device_head.locate(maps, head, head.penalties, config.window_influence)[0])
        return torch.stack(rows)

    def estimates(self, image: np.ndarray, plans: Sequence[Any], kernels: Any,
                  pad_colors: Sequence[Sequence[float]]) -> list[Estimate]:
        """One `Estimate` per plan (the tracker's crop plans), after one
        device synchronisation."""
        groups, start = [], 0
        for plan in plans:
            groups.append((start, plan.maps, plan.redetecting))
            start += plan.maps
        centers = torch.tensor([c for plan in plans for c in plan.centers], dtype=torch.float32)
        sides = torch.tensor([s for plan in plans for s in plan.sides], dtype=torch.float32)
        pads = torch.tensor([pad for plan, pad in zip(plans, pad_colors) for _ in plan.sides], dtype=torch.float32)
        gains = torch.from_numpy(np.concatenate([plan.map_gains() for plan in plans]).astype(np.float32))
        inputs = StepInputs(*(tensor.to(self.device, non_blocking=True) for tensor in (centers, sides, pads, gains)))
        frame = self.upload(image)
        if self.use_graphs and not any(g[2] for g in groups):
            key = (image.shape, tuple(groups))
            if key not in self._graphs:
                self._graphs[key] = _GraphedStep(self, frame, inputs, kernels, groups)
            found = self._graphs[key].replay(frame, inputs, kernels)
        else:
            found = self.compute(frame, inputs, kernels, groups)
        values = found.cpu().numpy()  # the one synchronisation of the frame
        if self._scale_search is None:
            estimates, start = [], 0
            for plan in plans:
                maps = values[start:start + plan.maps]
                start += plan.maps
                estimates.append(self._step.read_tiles(plan, maps) if plan.redetecting else self._step.read(plan, maps))
            return estimates
        return [self._scale_search.from_peak(plan, self._peak(row)) for plan, row in zip(plans, values)]

    def _peak(self, row: np.ndarray) -> Peak:
        map_index, r, c, value, contrast = row
        (size,) = {head.size for head in self._device_heads.values()}  # one network, one map side
        center = (size - 1) / 2.0
        assert self._scale_search is not None  # peaks come from response models only
        ppc = self._scale_search.head.pixels_per_cell
        return Peak(int(map_index), ((c - center) * ppc, (r - center) * ppc), float(value), float(contrast))


class _GraphedStep:
    """`TensorStep.compute` captured as a CUDA graph for one batch layout and frame size.

    Inputs are copied into static buffers before each replay; the output buffer is the graph's.
    Checked against eager launches on an H200 (``tests/gpu/test_cuda.py``), targets added and removed.
    """

    def __init__(self, step: TensorStep, frame: torch.Tensor, inputs: StepInputs, kernels: Any,
                 groups: Sequence[tuple[int, int, bool]]) -> None:
        self.frame = frame.clone()
        self.inputs = StepInputs(*(t.clone() for t in inputs))
        self.kernels = kernels.clone()
        side_stream = torch.cuda.Stream(step.device)
        side_stream.wait_stream(torch.cuda.current_stream(step.device))
        with torch.cuda.stream(side_stream):  # warm-up outside the graph (allocations, autotuning)
            for _ in range(2):
                step.compute(self.frame, self.inputs, self.kernels, groups)
        torch.cuda.current_stream(step.device).wait_stream(side_stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.output = step.compute(self.frame, self.inputs, self.kernels, groups)
        LOG.info("captured the per-frame step as a CUDA graph for %d crops", int(self.inputs.sides.numel()))

    def replay(self, frame: torch.Tensor, inputs: StepInputs, kernels: Any) -> torch.Tensor:
        self.frame.copy_(frame, non_blocking=True)
        for static, value in zip(self.inputs, inputs):
            static.copy_(value, non_blocking=True)
        if kernels.data_ptr() != self.kernels.data_ptr():
            self.kernels.copy_(kernels, non_blocking=True)
        self.graph.replay()
        return self.output
