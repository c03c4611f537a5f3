"""A literal SiamFC tracking loop, kept as the reference that [siamtrack.Tracker][siamtrack.Tracker] is checked against.

It follows the published implementations step by step, without siamtrack's optimisations:
each scale is cropped separately with integer-rounded corners, padded with ``copyMakeBorder``
and resized with ``cv2.resize``; each response map is upsampled on its own. It shares only the
network (through a [Backend][siamtrack.backends.Backend]) and the hyper-parameters, so a
difference in results between the two points at the crop and head code, which is what the
comparison is for. Not meant for production use: it is slower and handles no edge cases.
"""

from __future__ import annotations

import cv2
import numpy as np

from siamtrack.backends import Backend
from siamtrack.config import TrackerConfig


def _rounded_crop(image: np.ndarray, center_yx: np.ndarray, side: float, out_size: int,
                  pad_color: np.ndarray) -> np.ndarray:
    side = round(side)
    top_left = np.round(center_yx - (side - 1) / 2).astype(int)
    bottom_right = top_left + side
    pad = max(0, int(max(-top_left.min(), bottom_right[0] - image.shape[0],
                         bottom_right[1] - image.shape[1])))
    if pad > 0:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT,
                                   value=pad_color.tolist())
    top_left, bottom_right = top_left + pad, bottom_right + pad
    patch = image[top_left[0]:bottom_right[0], top_left[1]:bottom_right[1]]
    return cv2.resize(patch, (out_size, out_size), interpolation=cv2.INTER_LINEAR)


class ReferenceSiamFC:
    """SiamFC as published: ``init(frame, box)`` then ``update(frame) -> box`` (0-based x, y, w, h)."""

    def __init__(self, backend: Backend, config: TrackerConfig | None = None) -> None:
        self.backend = backend
        self.meta = backend.metadata  # crop sizes and stride are the network's
        self.cfg = config or TrackerConfig()
        cfg = self.cfg
        self.factors = cfg.scale_step ** np.linspace(-(cfg.scale_count // 2), cfg.scale_count // 2,
                                                     cfg.scale_count)

    def init(self, frame: np.ndarray, box) -> None:
        x, y, w, h = (float(v) for v in box)
        cfg = self.cfg
        self.center = np.array([y + (h - 1) / 2, x + (w - 1) / 2])  # (row, col)
        self.target = np.array([h, w])
        self.base_target = self.target.copy()
        context = cfg.context_amount * self.target.sum()
        self.z_side = np.sqrt(np.prod(self.target + context))
        self.x_side = self.z_side * self.meta.instance_size / self.meta.exemplar_size
        self.base_x_side = self.x_side
        self.pad_color = frame.reshape(-1, 3).mean(axis=0)
        exemplar = _rounded_crop(frame, self.center, self.z_side, self.meta.exemplar_size, self.pad_color)
        self.kernels = self.backend.template(exemplar[None])

    def update(self, frame: np.ndarray) -> tuple[float, float, float, float]:
        cfg, meta = self.cfg, self.meta
        crops = np.stack([_rounded_crop(frame, self.center, self.x_side * f, meta.instance_size,
                                        self.pad_color) for f in self.factors])
        responses = self.backend.track(crops, self.backend.stack([self.kernels] * len(crops)))
        upscale = responses.shape[-1] * cfg.response_upsample  # the response size is the network's
        hann = np.hanning(upscale)
        window = np.outer(hann, hann) / np.outer(hann, hann).sum()
        maps = np.stack([cv2.resize(r, (upscale, upscale), interpolation=cv2.INTER_CUBIC)
                         for r in responses])
        half = cfg.scale_count // 2
        maps[:half] *= cfg.scale_penalty
        maps[half + 1:] *= cfg.scale_penalty
        best = int(np.argmax(maps.max(axis=(1, 2))))
        response = maps[best] - maps[best].min()  # the penalty factor cancels in the normalisation
        response /= response.sum() + 1e-16
        response = (1 - cfg.window_influence) * response + cfg.window_influence * window
        peak = np.array(np.unravel_index(response.argmax(), response.shape), dtype=np.float64)
        shift = (peak - (upscale - 1) / 2) * meta.total_stride / cfg.response_upsample
        self.center += shift * self.x_side * self.factors[best] / meta.instance_size
        scale = (1 - cfg.scale_lr) + cfg.scale_lr * self.factors[best]
        scale = np.clip(self.x_side * scale / self.base_x_side, cfg.min_size_factor,
                        cfg.max_size_factor)
        self.x_side = self.base_x_side * scale
        self.z_side = self.x_side * meta.exemplar_size / meta.instance_size
        self.target = self.base_target * scale
        h, w = self.target
        return (self.center[1] - (w - 1) / 2, self.center[0] - (h - 1) / 2, w, h)
