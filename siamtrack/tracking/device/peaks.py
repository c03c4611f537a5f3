"""The response head on torch tensors, batched over targets (see `siamtrack.tracking.peaks`).

The same algorithm as the NumPy head: upsampled windows as products with rows of OpenCV's
bicubic interpolation matrix, scale penalty, normalisation by the raw minimum and the exact
upsampled sum, Hann window, coarse cell then fine argmax, for every target of the batch at once
and without synchronisation. Windows have a fixed size (moved inwards at the map's border), so
every shape is static and the head can be captured in a CUDA graph.
"""

from __future__ import annotations

import torch

from siamtrack.tracking.peaks import MAXIMUM_WINDOW, PEAK_WINDOW, PeakFinder


class DevicePeaks:
    """The tensors `locate` needs for one raw map side, on one device."""

    def __init__(self, head: PeakFinder, side: int, device: torch.device) -> None:
        geometry = head.geometry(side)
        self.side, self.factor, self.size = side, geometry.factor, geometry.size

        def as_tensor(values):
            return torch.as_tensor(values, dtype=torch.float32, device=device)

        self.matrix = as_tensor(geometry.matrix)
        self.column_sums = as_tensor(geometry.column_sums)
        self.hann = as_tensor(geometry.hann)
        self.coarse_window = as_tensor(geometry.coarse_hann[:, None] * geometry.coarse_hann[None, :])
        self.finder, self.device = head, device
        penalties, self.window_influence = head.priors(False, len(head.penalties))
        self.penalties = as_tensor(penalties)  # built once: a CUDA graph replays a normal frame
        self._tile_penalties: dict[int, torch.Tensor] = {}  # per tile count, built once

    def priors(self, redetecting: bool, count: int) -> tuple[torch.Tensor, float]:
        """`PeakFinder.priors` as a device tensor and a weight, each built once (no copy per frame)."""
        if not redetecting:
            return self.penalties, self.window_influence
        penalties, influence = self.finder.priors(True, count)
        if count not in self._tile_penalties:
            self._tile_penalties[count] = torch.as_tensor(penalties, dtype=torch.float32, device=self.device)
        return self._tile_penalties[count], influence

    def window_rows(self, cells: torch.Tensor, half: int) -> torch.Tensor:
        """(B, width) upsampled indices of raw cells ``cells - half .. cells + half`` (moved inside the map)."""
        width = min((2 * half + 1) * self.factor, self.size)
        start = ((cells - half) * self.factor).clamp(0, self.size - width)
        return start[:, None] + torch.arange(width, device=cells.device)

    def window(self, maps: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """(B, h, w) upsampled values of (B, r, r) maps at the given row and column indices."""
        return self.matrix[rows] @ maps @ self.matrix[cols].transpose(1, 2)


def locate(responses: torch.Tensor, device_head: DevicePeaks, penalties: torch.Tensor,
           window_influence: float) -> torch.Tensor:
    """Peaks of T targets' (T, M, r, r) responses (M maps each).

    Args:
        responses: raw response maps.
        device_head: the head's tensors for this map side.
        penalties: (M,) factor on each map's maximum (the scale penalty; ones for tiles).
        window_influence: weight of the Hann window (0: no motion prior, as in re-detection).

    Returns:
        (T, 5) float tensor: chosen map index, row and column of the peak in the upsampled map,
        upsampled response at the peak, that response minus the upsampled map's mean.
    """
    targets, count, side = responses.shape[:3]
    maps = responses.reshape(targets * count, side, side).float()
    strongest = maps.flatten(1).argmax(1)
    rows = device_head.window_rows(strongest // side, MAXIMUM_WINDOW)
    cols = device_head.window_rows(strongest % side, MAXIMUM_WINDOW)
    maxima = device_head.window(maps, rows, cols).flatten(1).amax(1).reshape(targets, count)
    best = (maxima * penalties).argmax(1)  # (T,)
    chosen = maps.reshape(targets, count, side, side)[torch.arange(targets, device=maps.device), best]
    floor = chosen.flatten(1).amin(1)
    sums = device_head.column_sums
    total = torch.einsum("i,tij,j->t", sums, chosen, sums)  # sum of each upsampled map
    mass = total - floor * device_head.size ** 2 + 1e-16
    keep = (1.0 - window_influence) / mass
    coarse = keep[:, None, None] * (chosen - floor[:, None, None]) + window_influence * device_head.coarse_window
    cell = coarse.flatten(1).argmax(1)
    rows = device_head.window_rows(cell // side, PEAK_WINDOW)
    cols = device_head.window_rows(cell % side, PEAK_WINDOW)
    values = device_head.window(chosen, rows, cols)
    prior = device_head.hann[rows][:, :, None] * device_head.hann[cols][:, None, :]
    blended = keep[:, None, None] * (values - floor[:, None, None]) + window_influence * prior
    index = blended.flatten(1).argmax(1)
    width = values.shape[-1]
    fine_row = rows.gather(1, (index // width)[:, None])[:, 0]
    fine_col = cols.gather(1, (index % width)[:, None])[:, 0]
    value = values.flatten(1).gather(1, index[:, None])[:, 0]
    return torch.stack((best.float(), fine_row.float(), fine_col.float(), value,
                        value - total / device_head.size ** 2), dim=1)
