"""Reading, importing and writing network weights.

The project's format (``siamtrack-weights``, version 1) is a ``torch.save`` of a plain dict::

    {
        "format": "siamtrack-weights",
        "format_version": 1,
        "metadata": {...},          # ModelMetadata.to_dict(): architecture, widths, color
                                    # order, normalisation, response scale, provenance, ...
        "state_dict": {name: tensor},  # names of siamtrack.network.SiameseNet
    }

It holds only tensors, strings and numbers, so it loads with ``torch.load(weights_only=True)``;
siamtrack never unpickles code. Two layouts met in the wild are imported too:

* ``siamfc-pytorch``: ``backbone.convN.0.*`` convolution and ``backbone.convN.1.*`` BatchNorm
  (eps 1e-6), conv5 without BN (huanglianghua/siamfc-pytorch and networks trained with it).
* ``bn-folded``: ``backbone.convN.weight`` / ``.bias`` with BatchNorm folded into the convs.

Both of those hold no metadata; SiamFC's conventions (RGB input in 0..255, no mean or std,
response scale 0.001) are assumed and can be overridden when converting.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from siamtrack.errors import WeightsError
from siamtrack.files import describe_path, path_too_long, sha256_of, write_atomically
from siamtrack.model.metadata import ModelMetadata, describe_metadata
from siamtrack.network.backbones import infer_alexnet_widths

FORMAT_NAME = "siamtrack-weights"
FORMAT_VERSION = 1
LAYOUTS = ("siamtrack", "siamfc-pytorch", "bn-folded")

_SIAMFC_PYTORCH_KEY = re.compile(
    r"^backbone\.conv([1-5])\.([01])\.(weight|bias|running_mean|running_var|num_batches_tracked)$")
_BN_FOLDED_KEY = re.compile(r"^backbone\.conv([1-5])\.(weight|bias)$")


@dataclass(frozen=True)
class ModelWeights:
    """A network's tensors and what they mean.

    Attributes:
        metadata: architecture, input conventions and provenance.
        state_dict: tensors named as in `siamtrack.network.SiameseNet`.
        layout: the layout the file was read from (one of ``LAYOUTS``).
        source: path of the file read, or a description.
    """

    metadata: ModelMetadata
    state_dict: Mapping[str, torch.Tensor]
    layout: str = "siamtrack"
    source: str = ""


def _read_file(path: Path) -> Any:
    reason = path_too_long(path)
    if reason:
        raise WeightsError(f"cannot read {describe_path(str(path)[:60])}...: {reason}")
    if path.is_dir():
        raise WeightsError(f"{path} is a folder, not a weights file (an exported model is a folder holding "
                           f"template.onnx and search.onnx)")
    if path.exists() and not path.is_file():
        raise WeightsError(f"{path} is not a regular file (a FIFO or device?); weights are read from files")
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise WeightsError(
            f"{path} is not a PyTorch weights file of plain tensors (it is another format, or it "
            f"holds pickled code, which siamtrack never loads)") from exc
    # torch's legacy (pre-zip) reader fails on arbitrary bytes with whatever its parsing hits
    # (a text file: KeyError on its first byte, IndexError on a short line).
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, AttributeError, KeyError, IndexError,
            TypeError) as exc:
        raise WeightsError(f"{path} is not a readable PyTorch weights file (corrupt or truncated?): "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc


def weights_layout(content: Any) -> str:
    """Name the layout of an object read from a weights file (see ``LAYOUTS``)."""
    if isinstance(content, Mapping) and content.get("format") == FORMAT_NAME:
        return "siamtrack"
    if isinstance(content, Mapping) and content and all(isinstance(k, str) for k in content):
        keys = [k for k in content if not k.startswith("head.")]
        if keys and all(_SIAMFC_PYTORCH_KEY.match(k) for k in keys):
            return "siamfc-pytorch"
        if keys and all(_BN_FOLDED_KEY.match(k) for k in keys):
            return "bn-folded"
        sample = ", ".join(sorted(content)[:4])
        raise WeightsError(f"unrecognised weights layout (keys start {sample}); expected siamtrack, "
                           f"siamfc-pytorch (backbone.convN.0/1.*) or BN-folded (backbone.convN.*)")
    raise WeightsError(f"unrecognised weights content of type {type(content).__name__}")


# BatchNorm counts its updates in an integer tensor; every other tensor of a network is a float.
COUNTER_SUFFIX = "num_batches_tracked"


def _tensors_only(values: Mapping[str, Any], where: str) -> dict[str, torch.Tensor]:
    """The tensors of a state dict as float32, refusing what cannot be a working network's."""
    bad = [k for k, v in values.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{where}: entries that are not tensors: {', '.join(bad[:5])}")
    integral = [k for k, v in values.items() if not v.is_floating_point() and not k.endswith(COUNTER_SUFFIX)]
    if integral:
        raise WeightsError(f"{where}: tensor {integral[0]} holds {values[integral[0]].dtype} values; a network's "
                           f"weights are floating point (damaged or not a network?)")
    broken = [k for k, v in values.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        raise WeightsError(f"{where}: tensor {broken[0]} holds NaN or infinite values (damaged weights, or a "
                           f"training run that diverged)")
    return {k: v.detach().float() if v.is_floating_point() else v for k, v in values.items()}


def _require_all_convs(state_dict: Mapping[str, torch.Tensor], where: str) -> None:
    missing = [f"conv{i}" for i in range(1, 6) if f"backbone.conv{i}.weight" not in state_dict]
    if missing:
        raise WeightsError(f"{where}: missing layers {', '.join(missing)} of the SiamFC AlexNet")


def import_siamfc_pytorch(content: Mapping[str, Any], source: str, **metadata: Any) -> ModelWeights:
    """Map siamfc-pytorch names (``convN.0`` conv, ``convN.1`` BN) to siamtrack's."""
    state_dict = {}
    for key, tensor in _tensors_only(content, source).items():
        match = _SIAMFC_PYTORCH_KEY.match(key)
        if match is None:  # parameter-free head entries, if any
            continue
        index, part, name = match.groups()
        module = f"conv{index}" if part == "0" else f"bn{index}"
        state_dict[f"backbone.{module}.{name}"] = tensor
    _require_all_convs(state_dict, source)
    widths = infer_alexnet_widths({k[len("backbone."):]: v for k, v in state_dict.items()})
    defaults = dict(architecture="alexnet", widths=widths, batch_norm=True, bn_eps=1e-6,
                    provenance={"imported_from": "siamfc-pytorch layout"})
    return _build(state_dict, {**defaults, **metadata}, "siamfc-pytorch", source)


def import_bn_folded(content: Mapping[str, Any], source: str, **metadata: Any) -> ModelWeights:
    """Take a BN-folded flat AlexNet state dict as it is."""
    state_dict = {k: v for k, v in _tensors_only(content, source).items() if _BN_FOLDED_KEY.match(k)}
    _require_all_convs(state_dict, source)
    widths = infer_alexnet_widths({k[len("backbone."):]: v for k, v in state_dict.items()})
    defaults = dict(architecture="alexnet", widths=widths, batch_norm=False,
                    provenance={"imported_from": "BN-folded layout"})
    return _build(state_dict, {**defaults, **metadata}, "bn-folded", source)


def _build(state_dict: dict[str, torch.Tensor], metadata: dict[str, Any], layout: str,
           source: str) -> ModelWeights:
    provenance = dict(metadata.pop("provenance", {}))
    weights = ModelWeights(ModelMetadata.from_dict({**metadata, "provenance": provenance}),
                           state_dict, layout, source)
    check_compatible(weights)
    return weights


def check_compatible(weights: ModelWeights) -> None:
    """Raise [WeightsError][siamtrack.WeightsError] unless the tensors fit the network the metadata describes."""
    from siamtrack.network.siamese import SiameseNet  # the network module imports torch.nn

    network = SiameseNet(weights.metadata)
    expected = network.state_dict()
    missing = sorted(set(expected) - set(weights.state_dict))
    unexpected = sorted(set(weights.state_dict) - set(expected))
    wrong = [f"{k} {tuple(weights.state_dict[k].shape)} (needs {tuple(v.shape)})"
             for k, v in expected.items() if k in weights.state_dict
             and tuple(weights.state_dict[k].shape) != tuple(v.shape)]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing[:6])}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected[:6])}")
    if wrong:
        problems.append(f"wrong shape {', '.join(wrong[:4])}")
    if problems:
        raise WeightsError(f"{weights.source or 'weights'} do not fit the {weights.metadata.architecture} "
                           f"network with widths {list(weights.metadata.widths)}: {'; '.join(problems)}")


def load_weights(path: str | Path, **metadata: Any) -> ModelWeights:
    """Read weights in any supported layout.

    Args:
        path: a ``.pth`` file in the siamtrack, siamfc-pytorch or BN-folded layout.
        **metadata: for the two foreign layouts, ``ModelMetadata`` fields that override
            SiamFC's defaults (e.g. ``input_color="BGR"``); ignored keys are an error.

    Raises:
        WeightsError: the file is missing, corrupt, in an unknown layout, or does not fit.
    """
    path = Path(path)
    content = _read_file(path)
    layout = weights_layout(content)
    source = str(path)
    if layout == "siamfc-pytorch":
        return import_siamfc_pytorch(content, source, **metadata)
    if layout == "bn-folded":
        return import_bn_folded(content, source, **metadata)
    if metadata:
        raise WeightsError(f"{path} is a siamtrack file; its metadata cannot be overridden on load")
    version = content.get("format_version")
    if version != FORMAT_VERSION:
        raise WeightsError(f"{path} has siamtrack format version {version!r}; this siamtrack reads "
                           f"version {FORMAT_VERSION}")
    if not isinstance(content.get("metadata"), Mapping) or not isinstance(content.get("state_dict"), Mapping):
        raise WeightsError(f"{path} lacks its metadata or state_dict")
    weights = ModelWeights(ModelMetadata.from_dict(content["metadata"]),
                           _tensors_only(content["state_dict"], source), layout, source)
    check_compatible(weights)
    return weights


def save_weights(weights: ModelWeights, path: str | Path, **provenance: str) -> Path:
    """Write ``weights`` in the siamtrack format, atomically (a failed write leaves no file).

    Args:
        weights: what to write.
        path: destination ``.pth`` file.
        **provenance: extra provenance entries to record (e.g. ``licence="MIT"``).
    """
    path = Path(path)
    metadata = weights.metadata
    if provenance:
        metadata = replace(metadata, provenance={**metadata.provenance, **provenance})
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "metadata": metadata.to_dict(),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in weights.state_dict.items()},
    }
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise WeightsError(f"cannot write {path}: folder {directory} does not exist")
    atomic_save(payload, path)
    return path


def atomic_save(payload: dict, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename: never a half-written file."""
    write_atomically(path, lambda temporary: torch.save(payload, temporary))


def convert(source: str | Path, destination: str | Path, provenance: Mapping[str, str] | None = None,
            lost_threshold: float | None = None, **metadata: Any) -> ModelWeights:
    """Import ``source`` (any layout) and write it in the siamtrack format to ``destination``.

    Args:
        source: weights file in any supported layout.
        destination: output file.
        provenance: extra provenance entries (licence, origin, ...) to record.
        lost_threshold: a lost threshold calibrated for this model, to record in its metadata
            (its default config takes it); None keeps what ``source`` says.
        **metadata: for foreign layouts, ``ModelMetadata`` fields overriding SiamFC's defaults.

    Returns:
        The weights as written (``source`` and ``layout`` describe the written file).
    """
    weights = load_weights(source, **metadata)
    recorded = dict(weights.metadata.provenance)
    if weights.layout != "siamtrack":
        recorded.update(source_file=Path(source).name, source_sha256=sha256_of(source))
    recorded.update(provenance or {})
    calibrated = weights.metadata.lost_threshold if lost_threshold is None else lost_threshold
    weights = replace(weights, metadata=replace(weights.metadata, provenance=recorded, lost_threshold=calibrated))
    save_weights(weights, destination)
    return replace(weights, source=str(destination), layout="siamtrack")


def average_weights(paths: Sequence[str | Path]) -> ModelWeights:
    """The mean of several weights files of one network (e.g. a run's last epochs).

    Averaging the last epochs of a run smooths out how far single epochs move on held-out videos
    (the noise selection would otherwise pick up); BatchNorm statistics are averaged too, which
    holds while the epochs' weights are close (a run's end at a low learning rate), not for
    unrelated runs.

    Raises:
        WeightsError: fewer than two files, or files of different networks.
    """
    if len(paths) < 2:
        raise WeightsError("averaging needs at least two weights files")
    loaded = [load_weights(path) for path in paths]
    first = loaded[0]
    network = replace(first.metadata, provenance={})
    for weights in loaded[1:]:
        if replace(weights.metadata, provenance={}) != network or set(weights.state_dict) != set(first.state_dict):
            raise WeightsError(f"{weights.source} is another network than {first.source}: only files of one "
                               f"network (same architecture, widths, head) can be averaged")
    averaged = {}
    for name, tensor in first.state_dict.items():
        if tensor.is_floating_point():
            averaged[name] = torch.stack([w.state_dict[name] for w in loaded]).mean(dim=0)
        else:  # counters such as BatchNorm's num_batches_tracked: the last file's
            averaged[name] = loaded[-1].state_dict[name]
    provenance = {**first.metadata.provenance, "averaged_from": ", ".join(Path(p).name for p in paths)}
    return ModelWeights(replace(first.metadata, provenance=provenance), averaged, source="average")


def describe(weights: ModelWeights) -> str:
    """Human-readable summary of a weights file: layout, network, conventions, provenance."""
    meta = weights.metadata
    parameters = sum(int(t.numel()) for k, t in weights.state_dict.items()
                     if not k.endswith(("running_mean", "running_var")))
    from siamtrack.network.cost import search_cost
    from siamtrack.network.siamese import SiameseNet

    network = SiameseNet(meta)
    network.load_state_dict(weights.state_dict)
    cost = search_cost(network)
    lines = [f"file:           {weights.source}", f"layout:         {weights.layout}",
             f"parameters:     {parameters:,}",
             f"cost:           {cost.backbone_macs / 1e6:.1f} M multiply-accumulates per {meta.instance_size} px "
             f"search crop, + {cost.correlation_macs / 1e6:.2f} M per kernel correlated with it"
             + (f" (box head {cost.head_macs / 1e6:.2f} M of it)" if cost.head_macs else ""),
             *describe_metadata(meta)]
    return "\n".join(lines)
