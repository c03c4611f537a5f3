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


def cross_correlate_per_crop(kernels: torch.Tensor, search: torch.Tensor, response_scale: float,
                             response_bias: float = 0.0) -> torch.Tensor:
    """The same correlation as :func:`cross_correlate`, written as one batched matrix product.

    This is the form the exported search graph uses. A convolution whose weights are a run-time
    input (the exemplar features) is poorly supported by TensorRT and by several ONNX runtimes;
    a batched MatMul plus static slices is supported everywhere. With kernels ``K`` (h x w
    cells) and search features ``F``::

        P = K^T F                               # (N, h*w, H*W): every kernel cell vs every position
        response[y, x] = sum_ij P[i*w + j, y + i, x + j]

    Args:
        kernels: (N, C, h, w) exemplar features, one per search crop (repeat a target's kernel
            for each of its scales).
        search: (N, C, H, W) search features.
        response_scale: as in :func:`cross_correlate`.
        response_bias: as in :func:`cross_correlate`.

    Returns:
        (N, H - h + 1, W - w + 1) response maps.
    """
    count, channels, kernel_h, kernel_w = kernels.shape
    height, width = search.shape[-2:]
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    products = torch.matmul(kernels.reshape(count, channels, kernel_h * kernel_w).transpose(1, 2),
                            search.reshape(count, channels, height * width))
    products = products.reshape(count, kernel_h * kernel_w, height, width)
    responses = products[:, 0, :out_h, :out_w]
    for i in range(kernel_h):
        for j in range(kernel_w):
            if i or j:
                responses = responses + products[:, i * kernel_w + j, i:i + out_h, j:j + out_w]
    return responses * response_scale + response_bias
