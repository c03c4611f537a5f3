"""The SiamFC response head on torch tensors, batched over targets (see :mod:`siamtrack.head`).

Same steps as the NumPy head: bicubic upsampling (``F.interpolate`` with ``align_corners=False``
and a = -0.75, OpenCV's INTER_CUBIC convention), scale penalty, normalisation, Hann window,
argmax, with every target of the batch at once and no synchronisation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def upsample(responses: torch.Tensor, size: int) -> torch.Tensor:
    """(N, r, r) -> (N, size, size), bicubic."""
    return F.interpolate(responses[:, None], size=(size, size), mode="bicubic", align_corners=False)[:, 0]


def locate(responses: torch.Tensor, penalties: torch.Tensor, window: torch.Tensor,
           window_influence: float, upsample_factor: int) -> torch.Tensor:
    """Peaks of T targets' (T, S, r, r) responses.

    Args:
        responses: raw response maps, S per target.
        penalties: (S,) factor on each scale's maximum (1 for the middle scale).
        window: (U, U) Hann window normalised to sum 1, U = r * upsample_factor.
        window_influence: weight of the window (0: no motion prior, as in re-detection).
        upsample_factor: response upsampling factor.

    Returns:
        (T, 5) float tensor: chosen scale index, row and column of the peak in the upsampled
        map, raw response at the peak, peak minus the chosen map's mean.
    """
    targets, scales, side = responses.shape[:3]
    size = side * upsample_factor
    maps = upsample(responses.reshape(targets * scales, side, side).float(), size).reshape(targets, scales, size, size)
    best = (maps.flatten(2).amax(-1) * penalties).argmax(1)  # (T,)
    chosen = maps[torch.arange(targets, device=maps.device), best]  # (T, U, U)
    flat = chosen.flatten(1)
    normalised = flat - flat.amin(1, keepdim=True)
    normalised = normalised / (normalised.sum(1, keepdim=True) + 1e-16)
    blended = (1.0 - window_influence) * normalised + window_influence * window.flatten()
    index = blended.argmax(1)
    value = flat.gather(1, index[:, None])[:, 0]
    return torch.stack((best.float(), (index // size).float(), (index % size).float(), value,
                        value - flat.mean(1)), dim=1)
