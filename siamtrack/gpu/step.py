"""One frame's tracking work for all targets on the backend's device, one synchronisation.

:class:`TensorStep` turns a frame and the tracker's crop plans into :class:`~siamtrack.head.Peak`
objects: upload the frame once (pinned memory, asynchronous), cut every crop of every target on
the device (:mod:`.crops`), run the network (the backend's ``track_tensors``), find every peak
(:mod:`.head`), and copy the peaks back in one transfer. On CUDA, frames whose targets all track
normally replay the step as a CUDA graph captured for that number of targets and frame size.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import torch

from ..config import TrackerConfig
from ..head import Peak, ResponseHead
from . import crops as device_crops
from . import head as device_head

LOG = logging.getLogger(__name__)


class TensorStep:
    """Per-frame work on torch tensors for a backend that has ``track_tensors``.

    Args:
        backend: a backend with ``track_tensors(crops, kernels) -> responses`` on its device
            (torch or TensorRT).
        config: the tracker's configuration.
        head: the tracker's NumPy head (for its scales, penalties and windows).
        cuda_graphs: on CUDA, capture and replay the step as a CUDA graph per target count and
            frame size (saves the launch overhead of ~100 small kernels per frame).
    """

    def __init__(self, backend: Any, config: TrackerConfig, head: ResponseHead, cuda_graphs: bool = True) -> None:
        self.backend = backend
        self.config = config
        self.device = torch.device(backend.device)
        self.penalties = torch.as_tensor(head.penalties, device=self.device)
        self._head = head
        self._windows: dict[int, torch.Tensor] = {}
        self._host_frame: torch.Tensor | None = None
        self._upsampled_side = 0
        self.use_graphs = cuda_graphs and self.device.type == "cuda"
        self._graphs: dict[tuple, _GraphedStep] = {}

    def window(self, size: int) -> torch.Tensor:
        if size not in self._windows:
            self._windows[size] = torch.as_tensor(self._head.window(size), device=self.device)
        return self._windows[size]

    def upload(self, image: np.ndarray) -> torch.Tensor:
        """The frame on the device, copied once through a reused pinned buffer on CUDA."""
        if self.device.type != "cuda":
            return torch.from_numpy(image)
        if self._host_frame is None or self._host_frame.shape != image.shape:
            self._host_frame = torch.empty(image.shape, dtype=torch.uint8, pin_memory=True)
        self._host_frame.numpy()[...] = image
        return self._host_frame.to(self.device, non_blocking=True)

    def compute(self, frame: torch.Tensor, centres: torch.Tensor, sides: torch.Tensor, pads: torch.Tensor,
                kernels: Any, groups: Sequence[tuple[int, int, bool]]) -> torch.Tensor:
        """Crops -> responses -> peaks, all on the device; (len(groups) rows, 5) as in :func:`.head.locate`.

        ``groups`` lists (first crop, crop count, re-detecting) per target, in crop order.
        """
        config = self.config
        batch = device_crops.crop_regions(frame, centres, sides, config.instance_size, pads)
        responses = self.backend.track_tensors(batch, kernels)
        size = responses.shape[-1] * config.response_upsample
        self._upsampled_side = size  # fixed per network; read by _peak
        window = self.window(size)
        normal = [g for g in groups if not g[2]]
        rows: list[torch.Tensor | None] = [None] * len(groups)
        if normal:
            index = torch.cat([torch.arange(start, start + count) for start, count, _ in normal]).to(self.device)
            found = device_head.locate(responses[index].reshape(len(normal), normal[0][1], *responses.shape[-2:]),
                                       self.penalties, window, config.window_influence, config.response_upsample)
            for row, position in enumerate(k for k, g in enumerate(groups) if not g[2]):
                rows[position] = found[row]
        ones = torch.ones((), device=self.device)
        for position, (start, count, redetecting) in enumerate(groups):
            if redetecting:  # wide search: strongest tile, no motion prior, no scale penalty
                rows[position] = device_head.locate(responses[start:start + count][None],
                                                    ones.expand(count), window, 0.0, config.response_upsample)[0]
        return torch.stack(rows)

    def peaks(self, image: np.ndarray, plans: Sequence[Any], kernels: Any, pad_colours: Sequence[Sequence[float]]) -> list[Peak]:
        """One :class:`Peak` per plan (the tracker's crop plans), after one device synchronisation."""
        groups, start = [], 0
        for plan in plans:
            groups.append((start, len(plan.sides), plan.redetecting))
            start += len(plan.sides)
        centres = torch.tensor([c for plan in plans for c in plan.centres], dtype=torch.float32)
        sides = torch.tensor([s for plan in plans for s in plan.sides], dtype=torch.float32)
        pads = torch.tensor([pad for plan, pad in zip(plans, pad_colours) for _ in plan.sides], dtype=torch.float32)
        inputs = (centres.to(self.device, non_blocking=True), sides.to(self.device, non_blocking=True),
                  pads.to(self.device, non_blocking=True))
        frame = self.upload(image)
        if self.use_graphs and not any(g[2] for g in groups):
            key = (image.shape, tuple(groups))
            if key not in self._graphs:
                self._graphs[key] = _GraphedStep(self, frame, inputs, kernels, groups)
            found = self._graphs[key].replay(frame, inputs, kernels)
        else:
            found = self.compute(frame, *inputs, kernels, groups)
        values = found.cpu().numpy()  # the one synchronisation of the frame
        return [self._peak(row) for row in values]

    def _peak(self, row: np.ndarray) -> Peak:
        scale_index, r, c, value, contrast = row
        centre = (self._upsampled_side - 1) / 2.0
        ppc = self._head.pixels_per_cell
        return Peak(int(scale_index), ((c - centre) * ppc, (r - centre) * ppc), float(value), float(contrast))


class _GraphedStep:
    """:meth:`TensorStep.compute` captured as a CUDA graph for one batch layout and frame size.

    Inputs are copied into static buffers before each replay; the output buffer is the graph's.
    Written against torch's CUDA graph API; not run on this project's (GPU-less) machines yet.
    """

    def __init__(self, step: TensorStep, frame: torch.Tensor, inputs: tuple, kernels: Any,
                 groups: Sequence[tuple[int, int, bool]]) -> None:
        self.frame = frame.clone()
        self.inputs = tuple(t.clone() for t in inputs)
        self.kernels = kernels.clone()
        side_stream = torch.cuda.Stream(step.device)
        side_stream.wait_stream(torch.cuda.current_stream(step.device))
        with torch.cuda.stream(side_stream):  # warm-up outside the graph (allocations, autotuning)
            for _ in range(2):
                step.compute(self.frame, *self.inputs, self.kernels, groups)
        torch.cuda.current_stream(step.device).wait_stream(side_stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.output = step.compute(self.frame, *self.inputs, self.kernels, groups)
        LOG.info("captured the per-frame step as a CUDA graph for %d crops", int(self.inputs[1].numel()))

    def replay(self, frame: torch.Tensor, inputs: tuple, kernels: Any) -> torch.Tensor:
        self.frame.copy_(frame, non_blocking=True)
        for static, value in zip(self.inputs, inputs):
            static.copy_(value, non_blocking=True)
        if kernels.data_ptr() != self.kernels.data_ptr():
            self.kernels.copy_(kernels, non_blocking=True)
        self.graph.replay()
        return self.output
