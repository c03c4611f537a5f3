"""From response maps to a target displacement and scale change (the SiamFC tracking head).

Steps, per frame, for the responses of one target at S scales:

1. upsample each r x r map bicubically by ``response_upsample`` (17 -> 272 for SiamFC's AlexNet;
   the size comes from the maps, so any backbone works), so the peak is found with sub-cell
   accuracy;
2. multiply the maxima of the non-identity scales by ``scale_penalty`` and keep the best scale;
3. normalise that map to sum 1, blend it with a Hann window (``window_influence``) that favours
   small displacements, and take the argmax;
4. convert the argmax's offset from the map centre into frame pixels:
   cells -> search-crop pixels (x stride / upsample) -> frame pixels (x crop side / instance size).

Nothing here depends on the network or backend; the tracker keeps the per-target state.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .config import TrackerConfig


def scale_factors(config: TrackerConfig) -> np.ndarray:
    """Search scales around 1, e.g. ``1.0375 ** [-1, 0, 1]`` for SiamFC-3s."""
    half = config.scale_count // 2
    return config.scale_step ** np.linspace(-half, half, config.scale_count)


def hann_window(size: int) -> np.ndarray:
    """Outer product of Hann windows, normalised to sum 1 (as the response is)."""
    window = np.outer(np.hanning(size), np.hanning(size))
    return (window / window.sum()).astype(np.float32)


def upsample(responses: np.ndarray, size: int) -> np.ndarray:
    """Bicubic upsampling of (S, r, r) response maps to (S, size, size) in one OpenCV call."""
    channels_last = np.ascontiguousarray(responses.transpose(1, 2, 0), dtype=np.float32)
    upsampled = cv2.resize(channels_last, (size, size), interpolation=cv2.INTER_CUBIC)
    if upsampled.ndim == 2:  # OpenCV drops a single channel axis
        upsampled = upsampled[:, :, None]
    # Contiguous per scale: reductions over a strided (transposed) view cost ~10x more.
    return np.ascontiguousarray(upsampled.transpose(2, 0, 1))


@dataclass(frozen=True)
class Peak:
    """Where the head found the target in one frame's responses.

    Attributes:
        scale_index: index of the chosen scale in :func:`scale_factors`.
        offset: (dx, dy) of the peak from the search-crop centre, in search-crop pixels
            (i.e. at ``instance_size`` resolution).
        response: the raw (unpenalised, unwindowed) response at the peak: the network's logit.
        contrast: ``response`` minus the mean of the chosen map: how far the peak stands out,
            independent of any constant offset in the network's output.
    """

    scale_index: int
    offset: tuple[float, float]
    response: float
    contrast: float


class ResponseHead:
    """Precomputed window and penalties for one :class:`TrackerConfig`."""

    def __init__(self, config: TrackerConfig) -> None:
        self.config = config
        self.scales = scale_factors(config)
        self._windows: dict[int, np.ndarray] = {}
        penalties = np.full(config.scale_count, config.scale_penalty, dtype=np.float32)
        penalties[config.scale_count // 2] = 1.0
        self.penalties = penalties
        # Search-crop pixels per upsampled response cell.
        self.pixels_per_cell = config.total_stride / config.response_upsample

    def window(self, upsampled_size: int) -> np.ndarray:
        """The Hann window for maps of this size (built once per size)."""
        if upsampled_size not in self._windows:
            self._windows[upsampled_size] = hann_window(upsampled_size)
        return self._windows[upsampled_size]

    def contrast(self, response: np.ndarray) -> float:
        """Peak minus mean of one (r, r) raw map, upsampled as in :meth:`locate`."""
        upsampled = upsample(response[None], response.shape[-1] * self.config.response_upsample)[0]
        return float(upsampled.max() - upsampled.mean())

    def locate(self, responses: np.ndarray) -> Peak:
        """Find the peak in (S, r, r) raw responses of one target."""
        config = self.config
        if responses.shape[0] != config.scale_count:
            raise ValueError(f"expected {config.scale_count} response maps, got {responses.shape[0]}")
        size = responses.shape[-1] * config.response_upsample
        upsampled = upsample(responses, size)
        best = int(np.argmax(upsampled.reshape(len(upsampled), -1).max(axis=1) * self.penalties))
        chosen = upsampled[best]
        normalised = chosen - chosen.min()
        normalised /= normalised.sum() + 1e-16
        blended = (1.0 - config.window_influence) * normalised + config.window_influence * self.window(size)
        row, col = np.unravel_index(int(np.argmax(blended)), blended.shape)
        centre = (size - 1) / 2.0
        offset = ((col - centre) * self.pixels_per_cell, (row - centre) * self.pixels_per_cell)
        peak_value = float(chosen[row, col])
        return Peak(best, offset, peak_value, peak_value - float(chosen.mean()))

    def strongest(self, responses: np.ndarray) -> Peak:
        """The highest peak over (N, r, r) maps of separate regions, with no motion prior.

        Used while re-detecting a lost target: the maps are tiles of a wide search (no cosine
        window, no scale penalty); ``scale_index`` is the index of the winning tile.
        """
        size = responses.shape[-1] * self.config.response_upsample
        upsampled = upsample(responses, size)
        flat = upsampled.reshape(len(upsampled), -1)
        best = int(np.argmax(flat.max(axis=1)))
        chosen = upsampled[best]
        row, col = np.unravel_index(int(np.argmax(chosen)), chosen.shape)
        centre = (size - 1) / 2.0
        offset = ((col - centre) * self.pixels_per_cell, (row - centre) * self.pixels_per_cell)
        peak_value = float(chosen[row, col])
        return Peak(best, offset, peak_value, peak_value - float(chosen.mean()))
