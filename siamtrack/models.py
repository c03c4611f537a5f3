"""Where the project's default model lives, in each form a backend reads.

``weights/siamtrack-default.pth`` is the trained network (torch backend);
``weights/siamtrack-default-onnx/`` holds its exported graphs (ONNX Runtime and TensorRT
backends), so a deployment without torch still has a model. Importing this module needs no torch.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import WeightsError

MODEL_ENV_VAR = "SIAMTRACK_MODEL"
# Default model file or folder for each model format a backend can read.
DEFAULT_MODEL_NAMES = {"weights": "siamtrack-default.pth", "onnx": "siamtrack-default-onnx"}
# In a source checkout or editable install, the project's trained models sit in weights/ beside
# the package.
PROJECT_WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
# A regular (non-editable) install puts them under <prefix>/share/siamtrack/weights.
INSTALLED_WEIGHTS_DIR = Path(sys.prefix) / "share" / "siamtrack" / "weights"


def default_model_path(model_format: str = "weights") -> Path:
    """The default model in ``model_format``: ``$SIAMTRACK_MODEL``, else the project's ``weights/``.

    Args:
        model_format: ``weights`` (a ``.pth`` file) or ``onnx`` (an export folder).

    Raises:
        WeightsError: no default model can be found.
    """
    if model_format not in DEFAULT_MODEL_NAMES:
        raise ValueError(f"model_format must be one of {', '.join(DEFAULT_MODEL_NAMES)}")
    override = os.environ.get(MODEL_ENV_VAR)
    if override:
        return Path(override)
    name = DEFAULT_MODEL_NAMES[model_format]
    for folder in (PROJECT_WEIGHTS_DIR, INSTALLED_WEIGHTS_DIR):
        if (folder / name).exists():
            return folder / name
    candidate = PROJECT_WEIGHTS_DIR / name
    raise WeightsError(
        f"no default model: {candidate} does not exist. Pass model=PATH to a SiamFC weights file "
        f"(siamtrack, siamfc-pytorch or BN-folded layout) or an exported ONNX folder, or set "
        f"{MODEL_ENV_VAR}.")


def available_default_formats() -> tuple[str, ...]:
    """Model formats in which a default model is present (that of ``$SIAMTRACK_MODEL`` if set)."""
    override = os.environ.get(MODEL_ENV_VAR)
    if override:
        from .export.contract import is_exported_model

        return ("onnx",) if is_exported_model(override) else ("weights",)
    found = []
    for model_format in DEFAULT_MODEL_NAMES:
        try:
            default_model_path(model_format)
        except WeightsError:
            continue
        found.append(model_format)
    return tuple(found)
