"""Square crops by bilinear sampling on the device, matching `siamtrack.tracking.crops.crop_regions`.

Output pixel ``u`` of a crop of side ``s`` around ``c`` samples the frame at
``c + (u - (out - 1) / 2) * s / out`` (pixel-center coordinates), as the OpenCV path does.
``grid_sample`` with ``align_corners=True`` maps -1 and +1 to the centers of the first and last
pixels, so a frame coordinate ``x`` is ``2 x / (W - 1) - 1``. Samples outside the frame take the
pad color: the frame minus the pad color is sampled with zero padding and the pad color added
back, which blends at the border exactly like OpenCV's constant border.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sampling_grid(centers: torch.Tensor, sides: torch.Tensor, out_size: int,
                  frame_size: tuple[int, int]) -> torch.Tensor:
    """Normalised sampling coordinates of N crops: (N, out, out, 2) for ``grid_sample``.

    Args:
        centers: (N, 2) crop centers (cx, cy) in frame pixels.
        sides: (N,) crop sides in frame pixels.
        out_size: output side.
        frame_size: (width, height) of the frame.
    """
    width, height = frame_size
    offsets = torch.arange(out_size, device=centers.device, dtype=centers.dtype) - (out_size - 1) / 2.0
    steps = (sides / out_size)[:, None] * offsets  # (N, out)
    xs = centers[:, :1] + steps
    ys = centers[:, 1:] + steps
    xs = xs * (2.0 / max(width - 1, 1)) - 1.0
    ys = ys * (2.0 / max(height - 1, 1)) - 1.0
    count = len(sides)
    return torch.stack((xs[:, None, :].expand(count, out_size, out_size),
                        ys[:, :, None].expand(count, out_size, out_size)), dim=-1)


def crop_regions(frame: torch.Tensor, centers: torch.Tensor, sides: torch.Tensor, out_size: int,
                 pad_colors: torch.Tensor) -> torch.Tensor:
    """Cut N square crops from one frame in one sampling call.

    Args:
        frame: (H, W, 3) uint8 (or float) BGR frame on the device.
        centers: (N, 2) crop centers.
        sides: (N,) crop sides.
        out_size: output side.
        pad_colors: (N, 3) color of the samples outside the frame, per crop.

    Returns:
        (N, out, out, 3) uint8 crops, rounded like OpenCV's.
    """
    height, width = frame.shape[:2]
    count = len(sides)
    grid = sampling_grid(centers.float(), sides.float(), out_size, (width, height))
    # A fourth channel of ones, sampled with zero padding, is each output pixel's share of
    # inside-the-frame samples; the rest of its weight goes to the crop's pad color. That is
    # OpenCV's constant border, with per-crop colors and no per-crop copy of the frame.
    image = torch.cat((frame.permute(2, 0, 1).float(), frame.new_ones((1, height, width), dtype=torch.float32)))
    sampled = F.grid_sample(image[None], grid.reshape(1, count * out_size, out_size, 2), mode="bilinear",
                            padding_mode="zeros", align_corners=True)[0]
    sampled = sampled.reshape(4, count, out_size, out_size).permute(1, 2, 3, 0)  # (N, out, out, 4)
    crops = sampled[..., :3] + (1.0 - sampled[..., 3:]) * pad_colors.float().view(count, 1, 1, 3)
    return crops.round_().clamp_(0, 255).to(torch.uint8)
