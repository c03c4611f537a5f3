"""Cross-correlation of exemplar features with search features into response maps."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_correlate(kernels: torch.Tensor, search: torch.Tensor, response_scale: float,
                    response_bias: float = 0.0) -> torch.Tensor:
    """Slide each target's exemplar features over its search features.

    Search crops are grouped by target: with T targets and S scales, ``search`` holds the S
    crops of target 0, then the S crops of target 1, and so on. All targets and scales go
    through one grouped convolution.

    Args:
        kernels: (T, C, h, w) exemplar features, one per target.
        search: (T * S, C, H, W) search features.
        response_scale: multiplies the raw correlation (SiamFC: 0.001) so the response is on
            the scale of the logistic loss the network was trained with.
        response_bias: added after scaling (0 for the published networks).

    Returns:
        (T * S, H - h + 1, W - w + 1) response maps.
    """
    targets, channels = kernels.shape[:2]
    batch = search.shape[0]
    if batch % targets:
        raise ValueError(f"{batch} search crops cannot be split evenly among {targets} targets")
    if targets == 1:
        # One target: the exemplar features are the convolution weights for the whole batch.
        responses = F.conv2d(search, kernels)
    else:
        per_target = batch // targets
        weights = kernels.repeat_interleave(per_target, dim=0)  # (T * S, C, h, w)
        grouped = search.reshape(1, batch * channels, *search.shape[2:])
        responses = F.conv2d(grouped, weights, groups=batch).transpose(0, 1)
    return responses[:, 0] * response_scale + response_bias
