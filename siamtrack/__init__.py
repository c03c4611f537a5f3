"""siamtrack: real-time single-object tracking with Siamese networks (SiamFC).

Quick use::

    from siamtrack import Tracker
    tracker = Tracker(model="weights.pth")
    tracker.init(frame, (x, y, w, h))      # BGR uint8 frame, 0-based box in pixels
    result = tracker.update(next_frame)    # TrackResult(box, score, lost, frame_index, target_id)

The public names are imported lazily, so ``import siamtrack`` stays cheap (no torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

_EXPORTS = {
    "Tracker": "siamtrack.tracking.tracker",
    "MultiTracker": "siamtrack.tracking.tracker",
    "update_streams": "siamtrack.tracking.tracker",
    "StageTimes": "siamtrack.tracking.tracker",
    "default_model_path": "siamtrack.model.builtin",
    "TrackResult": "siamtrack.results",
    "Box": "siamtrack.results",
    "Detections": "siamtrack.results",
    "TrackerConfig": "siamtrack.config",
    "load_config": "siamtrack.config",
    "preset_names": "siamtrack.config",
    "ModelMetadata": "siamtrack.model.metadata",
    "ModelWeights": "siamtrack.model.weights",
    "load_weights": "siamtrack.model.weights",
    "save_weights": "siamtrack.model.weights",
    "SiamtrackError": "siamtrack.errors",
    "ConfigError": "siamtrack.errors",
    "InputError": "siamtrack.errors",
    "WeightsError": "siamtrack.errors",
    "BackendUnavailableError": "siamtrack.errors",
    "NotInitializedError": "siamtrack.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from siamtrack.config import TrackerConfig, load_config, preset_names
    from siamtrack.errors import (
        BackendUnavailableError,
        ConfigError,
        InputError,
        NotInitializedError,
        SiamtrackError,
        WeightsError,
    )
    from siamtrack.model.builtin import default_model_path
    from siamtrack.model.metadata import ModelMetadata
    from siamtrack.model.weights import ModelWeights, load_weights, save_weights
    from siamtrack.results import Box, Detections, TrackResult
    from siamtrack.tracking.tracker import MultiTracker, StageTimes, Tracker, update_streams


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'siamtrack' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
