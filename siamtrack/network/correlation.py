"""Cross-correlation of exemplar features with search features into response maps.

Every search crop is correlated with K kernels of its own (K >= 1, the same for all crops of a
call): K = 1 for SiamFC's image pyramid (one crop per scale), K = the scale count for the
single-pass step (one crop, one exemplar kernel per scale).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_correlate(kernels: torch.Tensor, search: torch.Tensor, response_scale: float,
                    response_bias: float = 0.0) -> torch.Tensor:
    """Slide each crop's exemplar kernels over its search features, in one grouped convolution.

    Args:
        kernels: (N * K, C, h, w) exemplar features: crop n's K kernels are rows n*K .. n*K+K-1.
        search: (N, C, H, W) search features.
        response_scale: multiplies the raw correlation (SiamFC: 0.001) so the response is on
            the scale of the logistic loss the network was trained with.
        response_bias: added after scaling (0 for the published networks).

    Returns:
        (N * K, H - h + 1, W - w + 1) response maps, in the kernels' order.
    """
    crops, channels = search.shape[:2]
    if kernels.shape[0] % crops:
        raise ValueError(f"{kernels.shape[0]} kernels cannot be split evenly among {crops} search crops")
    # Group n of the convolution sees crop n's channels and produces crop n's K responses.
    grouped = search.reshape(1, crops * channels, *search.shape[2:])
    responses = F.conv2d(grouped, kernels, groups=crops)[0]
    return responses * response_scale + response_bias


def cross_correlate_per_crop(kernels: torch.Tensor, search: torch.Tensor, response_scale: float,
                             response_bias: float = 0.0) -> torch.Tensor:
    """The same correlation as `cross_correlate`, written as one batched matrix product.

    This is the form the exported search graph uses. A convolution whose weights are a run-time
    input (the exemplar features) is poorly supported by TensorRT and by several ONNX runtimes;
    a batched MatMul plus static slices is supported everywhere. With kernels ``K`` (h x w
    cells) and search features ``F``::

        P = K^T F                               # (h*w, H*W): every kernel cell vs every position
        response[y, x] = sum_ij P[i*w + j, y + i, x + j]

    Args:
        kernels: (N, K, C, h, w) exemplar features, K per search crop.
        search: (N, C, H, W) search features.
        response_scale: as in `cross_correlate`.
        response_bias: as in `cross_correlate`.

    Returns:
        (N, K, H - h + 1, W - w + 1) response maps.
    """
    count, per_crop, channels, kernel_h, kernel_w = kernels.shape
    height, width = search.shape[-2:]
    out_h, out_w = height - kernel_h + 1, width - kernel_w + 1
    cells = kernel_h * kernel_w
    products = torch.matmul(kernels.reshape(count, per_crop, channels, cells).transpose(2, 3),
                            search.reshape(count, 1, channels, height * width))
    products = products.reshape(count, per_crop, cells, height, width)
    responses = products[:, :, 0, :out_h, :out_w]
    for i in range(kernel_h):
        for j in range(kernel_w):
            if i or j:
                responses = responses + products[:, :, i * kernel_w + j, i:i + out_h, j:j + out_w]
    return responses * response_scale + response_bias


def per_kernel(search: torch.Tensor, kernels: int) -> torch.Tensor:
    """(N, C, H, W) search features repeated for each of a crop's kernels: (N * K, C, H, W), crop n's
    K copies in a row. (A broadcast and a reshape, which ONNX exports with a dynamic K; a
    ``repeat_interleave`` exports as a fixed count.)"""
    crops = search.shape[0]
    if kernels % crops:
        raise ValueError(f"{kernels} kernels cannot be split evenly among {crops} search crops")
    if kernels == crops:
        return search
    return search[:, None].expand(crops, kernels // crops, *search.shape[1:]).reshape(kernels, *search.shape[1:])
