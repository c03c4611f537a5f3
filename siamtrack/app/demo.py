"""``siamtrack demo``: track an object through a generated clip with known ground truth.

Needs no camera, file or download: the clip (a textured object moving, turning and changing
scale over clutter, passing behind an occluder) is rendered in memory; the tracker's boxes are
scored against the truth and drawn into an annotated video.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from siamtrack.app.annotate import annotate
from siamtrack.app.synthetic import ClipSpec, make_clip
from siamtrack.config import default_config_name
from siamtrack.geometry import iou
from siamtrack.io.outputs import VideoSink
from siamtrack.tracking.tracker import Tracker

DEMO_CLIP = ClipSpec(frames=120, width=640, height=360, object_size=(72, 56), scale_range=(0.75, 1.3),
                     max_rotation_deg=15.0, occlusion=True, noise_sigma=4.0, seed=7)


@dataclass(frozen=True)
class DemoResult:
    ious: np.ndarray  # per tracked frame (frames 1..N-1)
    model: str
    video: Optional[Path]

    @property
    def mean_iou(self) -> float:
        return float(self.ious.mean())


def run_demo(output: Optional[Path], model: Optional[str] = None, spec: ClipSpec = DEMO_CLIP,
             backend: str = "auto", device: str = "auto", threads: Optional[int] = None,
             log: Callable[[str], None] = print, config: Optional[str] = None) -> DemoResult:
    """Render the clip, track it, write the annotated video, print per-frame IoU and the mean.

    ``config`` is a tracker preset name or JSON file (None: the model's default preset).
    """
    tracker = Tracker(model=model, backend=backend, device=device, threads=threads, config=config)
    frames, truth = make_clip(spec)
    sink = VideoSink(output, 25.0, (spec.width, spec.height)) if output is not None else None
    ious = []
    try:
        result = tracker.init(frames[0], tuple(truth[0]))
        if sink is not None:
            sink.write(annotate(frames[0], result, label="demo"))
        for index in range(1, len(frames)):
            result = tracker.update(frames[index])
            overlap = float(iou(np.asarray(result.box), truth[index])[0])
            ious.append(overlap)
            log(f"frame {index:4d}  IoU {overlap:.3f}  score {result.score:.2f}{'  LOST' if result.lost else ''}")
            if sink is not None:
                sink.write(annotate(frames[index], result, label=f"IoU {overlap:.2f}"))
    finally:
        if sink is not None:
            sink.close()
    model_name = Path(model).name if model else "default model"
    outcome = DemoResult(np.asarray(ious), model_name, output)
    config_name = config or default_config_name(tracker.multi_tracker.metadata)
    log(f"mean IoU over {len(ious)} frames: {outcome.mean_iou:.3f} ({model_name}, config {config_name}, "
        f"backend {tracker.backend_name} on {tracker.device})")
    log(f"(IoU: overlap of the tracked and the true box, 1 = perfect; benchmarks count a frame above 0.5 as a "
        f"success. {sum(v > 0.5 for v in ious)} of {len(ious)} frames are above 0.5.)")
    if output is not None:
        log(f"annotated video: {output}")
    return outcome
