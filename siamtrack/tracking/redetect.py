"""Where to look for a lost target: a growing region around its last position, cut into tiles.

A SiamFC search crop only finds the target if the target sits inside it at roughly the scale the
network saw at init. So instead of one huge crop (where the target would shrink to a few
pixels), a wide region is covered by crops of the normal search size, overlapping by the
exemplar's extent so that a target anywhere in the region lies whole in at least one of them.
When that would take more than ``max_tiles`` crops, the crops grow (coarser) until it fits.
"""

from __future__ import annotations

import math


def _axis_centers(center: float, region: float, tile: float, step: float, limit: float) -> list[float]:
    """Tile centers along one axis covering ``region`` around ``center``, kept inside [0, limit)."""
    span = min(region, max(limit, tile))  # never wider than the frame (or one tile)
    low = min(max(center - span / 2, 0.0), max(limit - span, 0.0))
    count = 1 if span <= tile else math.ceil((span - tile) / step) + 1
    if count == 1:
        return [low + span / 2]
    first, last = low + tile / 2, low + span - tile / 2
    return [first + (last - first) * i / (count - 1) for i in range(count)]


def search_tiles(center: tuple[float, float], tile_side: float, exemplar_side: float,
                 region_side: float, frame_size: tuple[int, int],
                 max_tiles: int) -> tuple[list[tuple[float, float]], float]:
    """Centers and common side of the crops that cover a square search region.

    Args:
        center: (cx, cy) the region is centered on (moved inwards to stay in the frame).
        tile_side: side of one crop at the normal resolution (the normal search side).
        exemplar_side: the target's extent with context; neighbouring crops overlap by it.
        region_side: side of the region to cover, in frame pixels.
        frame_size: (width, height) of the frame.
        max_tiles: most crops to return.

    Returns:
        ``(centers, side)``: crop centers (row-major) and the side every crop has.
    """
    width, height = frame_size
    side = tile_side
    while True:
        step = max(side - exemplar_side * side / tile_side, 1.0)
        xs = _axis_centers(center[0], region_side, side, step, width)
        ys = _axis_centers(center[1], region_side, side, step, height)
        if len(xs) * len(ys) <= max_tiles:
            return [(x, y) for y in ys for x in xs], side
        side *= 1.25
