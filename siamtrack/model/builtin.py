"""The models this project trained and ships, by name, in each form a backend reads.

``default`` (what ``Tracker()`` loads) is ``weights/siamtrack-default.pth`` (torch backend) and
``weights/siamtrack-default-onnx/`` (its exported graphs, for ONNX Runtime and TensorRT), so a
deployment without torch still has a model: the v5 student (NanoTrack's output layout,
one search crop per frame). ``v4`` is the SiamFC-style model it replaced (a response map, the
scale pyramid), kept for pipelines tuned to it. ``BUILTIN_MODELS`` is the one place a shipped
model is named. A model name is taken as a name only where no file or folder of that name
exists. Importing this module needs no torch.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional

from siamtrack.errors import WeightsError

MODEL_ENV_VAR = "SIAMTRACK_MODEL"
# Each built-in model's file or folder for each model format a backend can read.
BUILTIN_MODELS = {
    "default": {"weights": "siamtrack-default.pth", "onnx": "siamtrack-default-onnx"},
    "v4": {"weights": "siamtrack-v4.pth", "onnx": "siamtrack-v4-onnx"},
}
MODEL_FORMATS = ("weights", "onnx")
# In a source checkout or editable install, the project's trained models sit in weights/ beside
# the package.
PROJECT_WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
# A regular (non-editable) install puts them under <prefix>/share/siamtrack/weights.
INSTALLED_WEIGHTS_DIR = Path(sys.prefix) / "share" / "siamtrack" / "weights"


def builtin_model_name(model: Any) -> Optional[str]:
    """The built-in model ``model`` stands for: ``default`` for None, the name for a built-in
    model's name that is not also an existing path, else None (a path or loaded weights)."""
    if model is None:
        return "default"
    if isinstance(model, str) and model in BUILTIN_MODELS and not Path(model).exists():
        return model
    return None


def builtin_model_path(name: str = "default", model_format: str = "weights") -> Path:
    """Built-in model ``name`` in ``model_format``; for ``default``, ``$SIAMTRACK_MODEL`` if set.

    Args:
        name: a key of ``BUILTIN_MODELS``.
        model_format: ``weights`` (a ``.pth`` file) or ``onnx`` (an export folder).

    Raises:
        WeightsError: the model is not installed in that format.
    """
    if name not in BUILTIN_MODELS:
        raise ValueError(f"no built-in model {name!r}; built-in models: {', '.join(BUILTIN_MODELS)}")
    if model_format not in MODEL_FORMATS:
        raise ValueError(f"model_format must be one of {', '.join(MODEL_FORMATS)}")
    override = os.environ.get(MODEL_ENV_VAR)
    if name == "default" and override:
        return Path(override)
    file_name = BUILTIN_MODELS[name][model_format]
    for folder in (PROJECT_WEIGHTS_DIR, INSTALLED_WEIGHTS_DIR):
        if (folder / file_name).exists():
            return folder / file_name
    candidate = PROJECT_WEIGHTS_DIR / file_name
    raise WeightsError(
        f"no {name} model: {candidate} does not exist. Pass model=PATH to a SiamFC weights file "
        f"(siamtrack, siamfc-pytorch or BN-folded layout) or an exported ONNX folder"
        + (f", or set {MODEL_ENV_VAR}." if name == "default" else "."))


def default_model_path(model_format: str = "weights") -> Path:
    """The default model in ``model_format``: ``$SIAMTRACK_MODEL``, else the project's ``weights/``.

    Raises:
        WeightsError: no default model can be found.
    """
    return builtin_model_path("default", model_format)


def model_path(model: str | Path | None, model_format: str = "weights") -> Path:
    """``model`` as a path: a built-in model's name (or None) becomes its file in ``model_format``."""
    name = builtin_model_name(model)
    return builtin_model_path(name, model_format) if name else Path(model)  # type: ignore[arg-type]


def available_formats(name: str = "default") -> tuple[str, ...]:
    """Model formats in which built-in model ``name`` is present (for ``default``, those of
    ``$SIAMTRACK_MODEL`` if set)."""
    override = os.environ.get(MODEL_ENV_VAR)
    if name == "default" and override:
        from siamtrack.model.contract import is_exported_model

        return ("onnx",) if is_exported_model(override) else ("weights",)
    found = []
    for model_format in MODEL_FORMATS:
        try:
            builtin_model_path(name, model_format)
        except WeightsError:
            continue
        found.append(model_format)
    return tuple(found)
