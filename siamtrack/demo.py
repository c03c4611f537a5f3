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

from .errors import WeightsError
from .evaluation.metrics import iou
from .outputs import VideoSink
from .annotate import annotate
from .synthetic import ClipSpec, make_clip
from .tracker import PROJECT_WEIGHTS_DIR, Tracker, default_model_path

DEMO_CLIP = ClipSpec(frames=120, width=640, height=360, object_size=(72, 56), scale_range=(0.75, 1.3),
                     max_rotation_deg=15.0, occlusion=True, noise_sigma=4.0, seed=7)
# Until the project's own trained model lands in weights/, the demo can run on the published
# SiamFC network when the shared benchmark folder sits beside the checkout.
SHARED_REFERENCE_MODEL = (PROJECT_WEIGHTS_DIR.parent.parent / "shared" / "weights" / "siamfc_reference"
                          / "siamfc_alexnet_original_bnfolded.pth")


@dataclass(frozen=True)
class DemoResult:
    ious: np.ndarray  # per tracked frame (frames 1..N-1)
    model: str
    video: Optional[Path]

    @property
    def mean_iou(self) -> float:
        return float(self.ious.mean())


def demo_model(log: Callable[[str], None]) -> Path:
    """The default model, or the shared reference SiamFC network while none has landed."""
    try:
        return default_model_path()
    except WeightsError as missing:
        if SHARED_REFERENCE_MODEL.is_file():
            log("note: the project's own default model is not in weights/ yet; this demo uses the "
                f"published SiamFC network found at {SHARED_REFERENCE_MODEL}")
            return SHARED_REFERENCE_MODEL
        raise WeightsError(f"{missing} (the demo also looked for {SHARED_REFERENCE_MODEL})") from None


def run_demo(output: Optional[Path], model: Optional[str] = None, spec: ClipSpec = DEMO_CLIP,
             device: str = "auto", threads: Optional[int] = None,
             log: Callable[[str], None] = print) -> DemoResult:
    """Render the clip, track it, write the annotated video, print per-frame IoU and the mean."""
    model_path = Path(model) if model else demo_model(log)
    tracker = Tracker(model=model_path, device=device, threads=threads)
    frames, truth = make_clip(spec)
    sink = VideoSink(output, 25.0, (spec.width, spec.height)) if output is not None else None
    ious = []
    try:
        result = tracker.init(frames[0], tuple(truth[0]))
        if sink is not None:
            sink.write(annotate(frames[0], result, label="demo"))
        for index in range(1, len(frames)):
            result = tracker.update(frames[index])
            overlap = float(iou(result.box, truth[index])[0])
            ious.append(overlap)
            log(f"frame {index:4d}  IoU {overlap:.3f}  score {result.score:.2f}{'  LOST' if result.lost else ''}")
            if sink is not None:
                sink.write(annotate(frames[index], result, label=f"IoU {overlap:.2f}"))
    finally:
        if sink is not None:
            sink.close()
    outcome = DemoResult(np.asarray(ious), str(model_path), output)
    log(f"mean IoU over {len(ious)} frames: {outcome.mean_iou:.3f} (model {model_path.name}, "
        f"backend {tracker.backend_name} on {tracker.device})")
    if output is not None:
        log(f"annotated video: {output}")
    return outcome
