"""What the tracker returns for each frame."""

from __future__ import annotations

from dataclasses import dataclass

# A box is (x, y, w, h) in pixels: x, y are the 0-based column and row of the top-left pixel,
# w, h the size; the box covers columns x .. x + w - 1. Its center in pixel-center coordinates
# (pixel i has its center at i) is (x + (w - 1) / 2, y + (h - 1) / 2). Floats are allowed.
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class TrackResult:
    """The tracker's answer for one frame.

    Attributes:
        box: Estimated target box (x, y, w, h), 0-based top-left, floats, in frame pixels.
        score: Confidence in [0, 1]; higher is surer. How far the response peak stands out
            from the rest of its map (peak minus mean), relative to the same measure for the
            exemplar matched in its own first frame; clipped to [0, 1]. Insensitive to a
            constant offset in the network's output. Roughly: > 0.5 a clear match, < 0.3 the
            tracker is probably on background.
        lost: True once the score has stayed below ``TrackerConfig.lost_threshold`` for
            ``lost_patience`` consecutive frames. With ``redetect`` on, the box is then held
            where the target was last seen until a match scoring at least
            ``redetect_threshold`` re-acquires it; with it off, the box is a guess.
        frame_index: 0 for the frame the target was added on (``init``/``add``), then 1, 2, ...
            for each ``update``.
        target_id: the target's id (1, 2, ... in the order targets were added to a
            [MultiTracker][siamtrack.MultiTracker]; 1 for the single target of a ``Tracker``).
    """

    box: Box
    score: float
    lost: bool
    frame_index: int
    target_id: int = 1

    def __post_init__(self) -> None:
        # Plain Python numbers, whatever the arithmetic produced (NumPy scalars print as
        # np.float64(...) under NumPy 2 and do not serialise as JSON).
        object.__setattr__(self, "box", tuple(float(v) for v in self.box))
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "lost", bool(self.lost))

    @property
    def center(self) -> tuple[float, float]:
        """Center (cx, cy) of ``box`` in pixel-center coordinates."""
        x, y, w, h = self.box
        return x + (w - 1) / 2, y + (h - 1) / 2
