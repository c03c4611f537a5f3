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
    "Tracker": "siamtrack.tracker",
    "MultiTracker": "siamtrack.tracker",
    "update_streams": "siamtrack.tracker",
    "StageTimes": "siamtrack.tracker",
    "default_model_path": "siamtrack.models",
    "TrackResult": "siamtrack.results",
    "Box": "siamtrack.results",
    "TrackerConfig": "siamtrack.config",
    "load_config": "siamtrack.config",
    "preset_names": "siamtrack.config",
    "ModelMetadata": "siamtrack.metadata",
    "ModelWeights": "siamtrack.weights",
    "load_weights": "siamtrack.weights",
    "save_weights": "siamtrack.weights",
    "SiamtrackError": "siamtrack.errors",
    "ConfigError": "siamtrack.errors",
    "InputError": "siamtrack.errors",
    "WeightsError": "siamtrack.errors",
    "BackendUnavailableError": "siamtrack.errors",
    "NotInitializedError": "siamtrack.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .config import TrackerConfig, load_config, preset_names
    from .errors import (
        BackendUnavailableError,
        ConfigError,
        InputError,
        NotInitializedError,
        SiamtrackError,
        WeightsError,
    )
    from .metadata import ModelMetadata
    from .models import default_model_path
    from .results import Box, TrackResult
    from .tracker import MultiTracker, StageTimes, Tracker, update_streams
    from .weights import ModelWeights, load_weights, save_weights


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'siamtrack' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
