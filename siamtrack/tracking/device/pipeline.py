"""One frame's tracking work for all targets on the backend's device, one synchronisation.

`TensorPipeline` turns a frame and the tracker's crop plans into
`Estimate` objects: upload the frame once (pinned memory, asynchronous),
cut every crop of every target on the device (`crops`), run the network (the backend's
``track_tensors``) and copy back what the host needs in one transfer. For SiamFC response models
that is each target's peak, found on the device (`peaks`: 5 numbers per target instead of its
upsampled maps); a box-head model's maps are already small (6 x r x r per target), so they come
back as they are and are read by the same step as on the CPU (`siamtrack.tracking.readout.read_plans`). On
CUDA, frames whose targets all track normally replay the step as a CUDA graph captured for that
number of targets and frame size.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch

from siamtrack.tracking.device import crops as device_crops
from siamtrack.tracking.device import peaks as device_peaks
from siamtrack.tracking.peaks import Peak
from siamtrack.tracking.readout import Estimate, ScaleSearchStep, TrackingStep, read_plans

LOG = logging.getLogger(__name__)


class StepInputs(NamedTuple):
    """Per-crop inputs of one frame's step, on the device (the tensors a CUDA graph replays with)."""

    centers: torch.Tensor  # (crops, 2) crop centers in frame pixels
    sides: torch.Tensor  # (crops,) crop sides in frame pixels
    pads: torch.Tensor  # (crops, 3) padding color of each crop's target
    gains: torch.Tensor  # (maps,) each map's kernel gain (see siamtrack.tracking.tracker)


class TensorPipeline:
    """Per-frame work on torch tensors for a [DeviceBackend][siamtrack.backends.DeviceBackend].

    Args:
        backend: a backend with ``track_tensors(crops, kernels) -> responses`` on its device
            (torch or TensorRT).
        step: the tracker's step for its model's head (for SiamFC its peak finder supplies scales,
            penalties, interpolation matrix and windows to the device's).
        instance_size: side of a search crop (the model's metadata).
        cuda_graphs: on CUDA, capture and replay the step as a CUDA graph per target count and
            frame size (saves the launch overhead of ~100 small kernels per frame).
    """

    def __init__(self, backend: Any, step: TrackingStep, instance_size: int,
                 cuda_graphs: bool = True) -> None:
        self.backend = backend
        self.instance_size = instance_size
        self.device = torch.device(backend.device)
        self._step = step
        # SiamFC: peaks on the device; the box head: its maps to the host (see the module docstring).
        self._scale_search = step if isinstance(step, ScaleSearchStep) else None
        self._device_peaks: dict[int, device_peaks.DevicePeaks] = {}
        self._host_frame: torch.Tensor | None = None
        self.use_graphs = cuda_graphs and self.device.type == "cuda"
        self._graphs: dict[tuple, _GraphedPipeline] = {}

    def peak_tensors(self, side: int) -> device_peaks.DevicePeaks:
        """The head's tensors for raw maps of this side (built once per side, before any capture)."""
        if side not in self._device_peaks:
            if self._scale_search is None:
                raise RuntimeError("only response models have a device head")
            self._device_peaks[side] = device_peaks.DevicePeaks(self._scale_search.peaks, side, self.device)
        return self._device_peaks[side]

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
        batch = device_crops.crop_regions(frame, inputs.centers, inputs.sides, self.instance_size, inputs.pads)
        if self._scale_search is None:
            return self.backend.track_tensors(batch, kernels)
        responses = self._scale_search.gained(self._scale_search.responses(self.backend.track_tensors(batch, kernels)),
                                              inputs.gains)
        head = self.peak_tensors(responses.shape[-1])
        if not any(redetecting for _, _, redetecting in groups):
            maps = responses.reshape(len(groups), groups[0][1], *responses.shape[-2:])
            return device_peaks.locate(maps, head, *head.priors(False, groups[0][1]))
        return torch.stack([device_peaks.locate(responses[start:start + count][None], head,
                                                *head.priors(redetecting, count))[0]
                            for start, count, redetecting in groups])

    def estimates(self, image: np.ndarray, plans: Sequence[Any], kernels: Any,
                  pad_colors: Sequence[Sequence[float]]) -> list[Estimate]:
        """One `Estimate` per plan (the tracker's crop plans), after one
        device synchronisation."""
        groups, start = [], 0
        for plan in plans:
            groups.append((start, plan.map_count, plan.redetecting))
            start += plan.map_count
        centers = torch.tensor([c for plan in plans for c in plan.centers], dtype=torch.float32)
        sides = torch.tensor([s for plan in plans for s in plan.sides], dtype=torch.float32)
        pads = torch.tensor([pad for plan, pad in zip(plans, pad_colors) for _ in plan.sides], dtype=torch.float32)
        gains = torch.from_numpy(np.concatenate([plan.map_gains() for plan in plans]).astype(np.float32))
        inputs = StepInputs(*(tensor.to(self.device, non_blocking=True) for tensor in (centers, sides, pads, gains)))
        frame = self.upload(image)
        if self.use_graphs and not any(g[2] for g in groups):
            key = (image.shape, tuple(groups))
            if key not in self._graphs:
                self._graphs[key] = _GraphedPipeline(self, frame, inputs, kernels, groups)
            found = self._graphs[key].replay(frame, inputs, kernels)
        else:
            found = self.compute(frame, inputs, kernels, groups)
        values = found.cpu().numpy()  # the one synchronisation of the frame
        if self._scale_search is None:
            return read_plans(self._step, plans, values)
        return [self._scale_search.from_peak(plan, self._peak(row)) for plan, row in zip(plans, values)]

    def _peak(self, row: np.ndarray) -> Peak:
        map_index, r, c, value, contrast = row
        (size,) = {head.size for head in self._device_peaks.values()}  # one network, one map side
        assert self._scale_search is not None  # peaks come from response models only
        return Peak(int(map_index), self._scale_search.peaks.offset(r, c, size), float(value), float(contrast))


class _GraphedPipeline:
    """`TensorPipeline.compute` captured as a CUDA graph for one batch layout and frame size.

    Inputs are copied into static buffers before each replay; the output buffer is the graph's.
    Checked against eager launches on an H200 (``tests/gpu/test_cuda.py``), targets added and removed.
    """

    def __init__(self, pipeline: TensorPipeline, frame: torch.Tensor, inputs: StepInputs, kernels: Any,
                 groups: Sequence[tuple[int, int, bool]]) -> None:
        self.frame = frame.clone()
        self.inputs = StepInputs(*(t.clone() for t in inputs))
        self.kernels = kernels.clone()
        side_stream = torch.cuda.Stream(pipeline.device)
        side_stream.wait_stream(torch.cuda.current_stream(pipeline.device))
        with torch.cuda.stream(side_stream):  # warm-up outside the graph (allocations, autotuning)
            for _ in range(2):
                pipeline.compute(self.frame, self.inputs, self.kernels, groups)
        torch.cuda.current_stream(pipeline.device).wait_stream(side_stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.output = pipeline.compute(self.frame, self.inputs, self.kernels, groups)
        LOG.info("captured the per-frame step as a CUDA graph for %d crops", int(self.inputs.sides.numel()))

    def replay(self, frame: torch.Tensor, inputs: StepInputs, kernels: Any) -> torch.Tensor:
        self.frame.copy_(frame, non_blocking=True)
        for static, value in zip(self.inputs, inputs):
            static.copy_(value, non_blocking=True)
        if kernels.data_ptr() != self.kernels.data_ptr():
            self.kernels.copy_(kernels, non_blocking=True)
        self.graph.replay()
        return self.output
