"""From response maps to a target displacement and scale change (the SiamFC tracking head).

SiamFC upsamples every r x r response map 16x (bicubic, 17 -> 272 for its AlexNet) and searches
the whole upsampled map. This head gets the same peak while computing only small windows of it:

1. Bicubic upsampling is linear: the upsampled map is ``A @ R @ A.T``, with ``A`` the
   (r * upsample, r) matrix of OpenCV's INTER_CUBIC weights (`interpolation_matrix`). A
   window of it is a product with a few rows of ``A``, and its sum is ``c @ R @ c`` with ``c``
   the column sums of ``A``: the normalisation and the mean need no upsampled map either.
2. Scale: each map's maximum (in the upsampled window around its raw maximum) times its scale
   penalty (1 for the middle scale); the best map is kept.
3. Position: the chosen map normalised to sum 1 and blended with a Hann window
   (``window_influence``) favouring small displacements; the blend's best raw cell, then its
   argmax in the upsampled window of +-2 cells around that cell.
4. The peak's offset from the map center in search-crop pixels: upsampled cells x stride /
   upsample (the caller converts to frame pixels with its crop's side).

The one approximation: the normalisation subtracts the raw map's minimum where full upsampling
would subtract the upsampled map's (bicubic overshoot dips slightly lower); the tests bound the
effect on real responses. Nothing here depends on the network or backend; the tracker keeps
the per-target state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from siamtrack.config import TrackerConfig

# Half-width, in raw cells, of the upsampled windows: around a raw maximum when comparing maps
# (the bicubic maximum lies within a cell of the raw one) and around the chosen raw cell when
# placing the peak (the cosine window can shift the blended argmax by a cell or two).
MAXIMUM_WINDOW = 1
PEAK_WINDOW = 2


def scale_factors(config: TrackerConfig) -> np.ndarray:
    """Search scales around 1, e.g. ``1.0375 ** [-1, 0, 1]`` for SiamFC-3s."""
    half = config.scale_count // 2
    return config.scale_step ** np.linspace(-half, half, config.scale_count)


def hann_window(size: int) -> np.ndarray:
    """Outer product of Hann windows, normalised to sum 1 (as the response is)."""
    window = np.outer(np.hanning(size), np.hanning(size))
    return (window / window.sum()).astype(np.float32)


def upsample(responses: np.ndarray, size: int) -> np.ndarray:
    """Full bicubic upsampling of (S, r, r) maps to (S, size, size), as SiamFC does it.

    The head itself never calls this (it computes windows); it is the reference the head's
    windows are checked against, and what the literal reference loop uses.
    """
    channels_last = np.ascontiguousarray(responses.transpose(1, 2, 0), dtype=np.float32)
    upsampled = cv2.resize(channels_last, (size, size), interpolation=cv2.INTER_CUBIC)
    if upsampled.ndim == 2:  # OpenCV drops a single channel axis
        upsampled = upsampled[:, :, None]
    return np.ascontiguousarray(upsampled.transpose(2, 0, 1))


@lru_cache(maxsize=8)
def interpolation_matrix(side: int, factor: int) -> np.ndarray:
    """(side * factor, side) matrix ``A`` with ``upsample(R) == A @ R @ A.T`` (OpenCV INTER_CUBIC).

    Resizing an identity matrix along one axis gives the weights each output row takes from
    each input row, border handling included.
    """
    identity = np.eye(side, dtype=np.float32)
    matrix = cv2.resize(identity, (side, side * factor), interpolation=cv2.INTER_CUBIC)
    matrix.setflags(write=False)
    return matrix


@dataclass(frozen=True)
class Peak:
    """Where the head found the target in one frame's responses.

    Attributes:
        map_index: which of the given maps holds the peak. For a normal step that is the scale
            index in `scale_factors`; the tracker maps it to (crop, scale) for tiles.
        offset: (dx, dy) of the peak from the search-crop center, in search-crop pixels
            (i.e. at the network's instance-size resolution).
        response: the raw (unpenalised, unwindowed) upsampled response at the peak: the
            network's logit.
        contrast: ``response`` minus the mean of the chosen (upsampled) map: how far the peak
            stands out, independent of any constant offset in the network's output.
    """

    map_index: int
    offset: tuple[float, float]
    response: float
    contrast: float


class _MapGeometry:
    """What the head precomputes for one raw map side r."""

    def __init__(self, side: int, factor: int) -> None:
        self.side, self.factor = side, factor
        self.size = side * factor  # upsampled side
        self.matrix = interpolation_matrix(side, factor).astype(np.float64)
        self.column_sums = self.matrix.sum(axis=0)
        hann = np.hanning(self.size)
        self.hann = hann / hann.sum()  # outer(hann, hann) is hann_window(size)
        # The same Hann window at the upsampled coordinates of the raw cell centers.
        centers = (np.arange(side) + 0.5) * factor - 0.5
        self.coarse_hann = (0.5 - 0.5 * np.cos(2 * np.pi * centers / (self.size - 1))) / hann.sum()

    def rows(self, cell: int, half: int) -> slice:
        """Upsampled rows (or columns) of raw cells ``cell - half .. cell + half``.

        The window keeps its width at the map's border (moved inwards), so that every window has
        one shape (the device head relies on it).
        """
        width = min((2 * half + 1) * self.factor, self.size)
        start = min(max((cell - half) * self.factor, 0), self.size - width)
        return slice(start, start + width)

    def window(self, response: np.ndarray, row: int, col: int, half: int) -> tuple[slice, slice, np.ndarray]:
        """The upsampled map over raw cells (row, col) +- half: (row slice, column slice, values)."""
        rows, cols = self.rows(row, half), self.rows(col, half)
        return rows, cols, self.matrix[rows] @ response @ self.matrix[cols].T


class PeakFinder:
    """Finds peaks in response maps for one [TrackerConfig][siamtrack.TrackerConfig] and backbone stride.

    Args:
        config: the tracker's configuration (scales, penalty, window, upsampling).
        total_stride: search-crop pixels per raw response cell (the model's metadata).
    """

    def __init__(self, config: TrackerConfig, total_stride: int) -> None:
        self.config = config
        self.scales = scale_factors(config)
        penalties = np.full(config.scale_count, config.scale_penalty, dtype=np.float64)
        penalties[config.scale_count // 2] = 1.0
        self.penalties = penalties
        # Search-crop pixels per upsampled response cell.
        self.pixels_per_cell = total_stride / config.response_upsample
        self._geometries: dict[int, _MapGeometry] = {}

    def geometry(self, side: int) -> _MapGeometry:
        if side not in self._geometries:
            self._geometries[side] = _MapGeometry(side, self.config.response_upsample)
        return self._geometries[side]

    def contrast(self, response: np.ndarray) -> float:
        """Peak minus mean of one (r, r) raw map, upsampled as in `locate`."""
        return self._peak(response[None], np.ones(1), 0.0).contrast

    def priors(self, redetecting: bool, count: int) -> tuple[np.ndarray, float]:
        """(factor on each of ``count`` maps' maxima, weight of the Hann window) for a search.

        A normal frame's maps are scales: the side scales pay the scale penalty and the window
        favours small displacements. A lost target's maps are tiles of a wide search: no scale
        penalty, no motion prior. The device head takes the same values.
        """
        if redetecting:
            return np.ones(count), 0.0
        return self.penalties, self.config.window_influence

    def offset(self, row: float, col: float, upsampled_side: int) -> tuple[float, float]:
        """(dx, dy) in search-crop pixels of upsampled cell (row, col) from the map's center."""
        center = (upsampled_side - 1) / 2.0
        return ((col - center) * self.pixels_per_cell, (row - center) * self.pixels_per_cell)

    def locate(self, responses: np.ndarray) -> Peak:
        """Find the peak in one target's (S, r, r) raw responses, one map per scale."""
        if responses.shape[0] != self.config.scale_count:
            raise ValueError(f"expected {self.config.scale_count} response maps, got {responses.shape[0]}")
        return self._peak(responses, *self.priors(False, len(responses)))

    def strongest(self, responses: np.ndarray) -> Peak:
        """The highest peak over (N, r, r) maps of separate regions, with no motion prior (the
        tiles of a lost target's wide search; see `priors`)."""
        return self._peak(responses, *self.priors(True, len(responses)))

    def _peak(self, responses: np.ndarray, penalties: np.ndarray, window_influence: float) -> Peak:
        maps = np.asarray(responses, dtype=np.float64)
        geometry = self.geometry(maps.shape[-1])
        side = geometry.side
        maxima = np.empty(len(maps))
        for index, response in enumerate(maps):
            row, col = divmod(int(np.argmax(response)), side)
            maxima[index] = geometry.window(response, row, col, MAXIMUM_WINDOW)[2].max()
        best = int(np.argmax(maxima * penalties))
        chosen = maps[best]
        floor = float(chosen.min())
        total = float(geometry.column_sums @ chosen @ geometry.column_sums)  # sum of the upsampled map
        mass = total - floor * geometry.size ** 2 + 1e-16  # sum of (upsampled - floor)
        keep, prior = (1.0 - window_influence) / mass, window_influence
        coarse = keep * (chosen - floor) + prior * np.outer(geometry.coarse_hann, geometry.coarse_hann)
        row, col = divmod(int(np.argmax(coarse)), side)
        rows, cols, values = geometry.window(chosen, row, col, PEAK_WINDOW)
        blended = keep * (values - floor) + prior * np.outer(geometry.hann[rows], geometry.hann[cols])
        fine_row, fine_col = divmod(int(np.argmax(blended)), blended.shape[1])
        value = float(values[fine_row, fine_col])
        offset = self.offset(rows.start + fine_row, cols.start + fine_col, geometry.size)
        return Peak(best, offset, value, value - total / geometry.size ** 2)
