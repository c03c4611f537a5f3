"""What the exporter writes and the ONNX / TensorRT backends read: names, files, metadata.

An exported model is a folder of two graphs, split where the tracker's work splits:

* ``template.onnx``: exemplar crops ``(T, E, E, 3)`` uint8 BGR -> kernels ``(T, C, h, w)``
  float32, run once per target;
* ``search.onnx``: search crops ``(N, I, I, 3)`` uint8 BGR and K kernels per crop
  ``(N, K, C, h, w)`` -> responses ``(N, K, r, r)`` float32, run every frame; for a box-head
  model (metadata ``head`` = ``box``) the output is its maps, ``(N, K, 6, r, r)``: class logit,
  quality logit, left, top, right, bottom (see `siamtrack.network.box_head`). The
  single-pass step sends one crop per target with one kernel per scale (K = scales); SiamFC's
  pyramid and the box head send one kernel per crop (K = 1); N and K are both dynamic.

Version 2 of the format added the K axis (version 1 took one kernel per crop, ``(N, C, h, w)``);
version 3 added the head to the metadata and the box head's output.

Both take crops exactly as `siamtrack.tracking.crops` cuts them; color order and normalisation are
inside the graphs. Each graph carries the same metadata (ONNX ``metadata_props``), so a backend
can check that the two belong together and prepare inputs without guessing.

Importing this module needs neither torch nor onnx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from siamtrack.errors import WeightsError
from siamtrack.files import sha256_of, write_text_atomically
from siamtrack.model.metadata import ModelMetadata

FORMAT_NAME = "siamtrack-onnx"
FORMAT_VERSION = 3
MIN_OPSET = 17
OPSET = 18  # what torch's exporter writes natively; 17 works too (converted after export)

TEMPLATE = "template"
SEARCH = "search"
GRAPH_FILES = {TEMPLATE: "template.onnx", SEARCH: "search.onnx"}
# {graph file name: SHA-256}, written by the exporter and checked on every load, so a graph that
# was damaged or edited after export is refused instead of tracking with wrong weights.
CHECKSUMS_FILE = "checksums.json"

# Tensor names: the exporter names the graphs' inputs and outputs with these, the backends bind
# them by name.
EXEMPLAR_CROPS = "exemplar_crops"
KERNELS = "kernels"
SEARCH_CROPS = "search_crops"
CROP_KERNELS = "crop_kernels"
RESPONSES = "responses"
# The search graph's K axis: 1 .. MAX_KERNELS_PER_CROP kernels per crop (the pyramid sends one,
# the single-pass step one per scale).
MAX_KERNELS_PER_CROP = 9
GRAPH_INPUTS = {TEMPLATE: (EXEMPLAR_CROPS,), SEARCH: (SEARCH_CROPS, CROP_KERNELS)}
GRAPH_OUTPUTS = {TEMPLATE: (KERNELS,), SEARCH: (RESPONSES,)}

# metadata_props keys.
KEY_FORMAT = "siamtrack.format"
KEY_FORMAT_VERSION = "siamtrack.format_version"
KEY_GRAPH = "siamtrack.graph"
KEY_MODEL = "siamtrack.model"  # ModelMetadata as JSON: architecture, sizes, stride, color, ...
KEY_VERSION = "siamtrack.version"  # siamtrack version that exported it
KEY_WEIGHTS_SHA256 = "siamtrack.weights_sha256"  # checksum of the source weights file
KEY_KERNEL_SHAPE = "siamtrack.kernel_shape"  # "C,h,w"
KEY_RESPONSE_SIZE = "siamtrack.response_size"  # r


@dataclass(frozen=True)
class GraphInfo:
    """What both graphs of an exported model say about it.

    Attributes:
        metadata: the network's conventions (sizes, stride, color order, normalisation, ...).
        weights_sha256: checksum of the weights file the graphs were exported from.
        kernel_shape: (C, h, w) of one target's kernel.
        response_size: side r of each response map.
        exporter_version: siamtrack version that wrote the graphs.
    """

    metadata: ModelMetadata
    weights_sha256: str
    kernel_shape: tuple[int, int, int]
    response_size: int
    exporter_version: str

    def to_props(self, graph: str) -> dict[str, str]:
        """The ``metadata_props`` entries for one graph."""
        return {
            KEY_FORMAT: FORMAT_NAME,
            KEY_FORMAT_VERSION: str(FORMAT_VERSION),
            KEY_GRAPH: graph,
            KEY_MODEL: json.dumps(self.metadata.to_dict(), sort_keys=True),
            KEY_VERSION: self.exporter_version,
            KEY_WEIGHTS_SHA256: self.weights_sha256,
            KEY_KERNEL_SHAPE: ",".join(str(v) for v in self.kernel_shape),
            KEY_RESPONSE_SIZE: str(self.response_size),
        }

    @classmethod
    def from_props(cls, props: Mapping[str, str], graph: str, where: str) -> "GraphInfo":
        """Read and check one graph's ``metadata_props``.

        Raises:
            WeightsError: not a siamtrack graph, the other graph of the pair, a newer format,
                or unreadable values.
        """
        if props.get(KEY_FORMAT) != FORMAT_NAME:
            raise WeightsError(f"{where} is not a siamtrack ONNX graph (no {KEY_FORMAT} metadata); "
                               f"export one with: siamtrack export MODEL --format onnx")
        if props.get(KEY_FORMAT_VERSION) != str(FORMAT_VERSION):
            raise WeightsError(f"{where} has export format version {props.get(KEY_FORMAT_VERSION)!r}; "
                               f"this siamtrack reads version {FORMAT_VERSION}: export it again "
                               f"with siamtrack export WEIGHTS --format onnx")
        if props.get(KEY_GRAPH) != graph:
            raise WeightsError(f"{where} holds the {props.get(KEY_GRAPH)!r} graph, expected {graph!r}")
        try:
            channels, height, width = (int(v) for v in props[KEY_KERNEL_SHAPE].split(","))
            return cls(metadata=ModelMetadata.from_dict(json.loads(props[KEY_MODEL])),
                       weights_sha256=props[KEY_WEIGHTS_SHA256],
                       kernel_shape=(channels, height, width),
                       response_size=int(props[KEY_RESPONSE_SIZE]),
                       exporter_version=props.get(KEY_VERSION, "unknown"))
        except (KeyError, ValueError, TypeError) as exc:
            raise WeightsError(f"{where}: unreadable siamtrack metadata ({exc})") from None


def graph_paths(model: str | Path) -> dict[str, Path]:
    """The template and search graph files of an exported model.

    Args:
        model: the export folder, or either graph file inside it.

    Raises:
        WeightsError: the folder or one of its graphs is missing.
    """
    path = Path(model)
    folder = path.parent if path.suffix == ".onnx" else path
    if not folder.is_dir():
        raise WeightsError(f"exported model not found: {path} (expected a folder holding "
                           f"{GRAPH_FILES[TEMPLATE]} and {GRAPH_FILES[SEARCH]})")
    paths = {graph: folder / name for graph, name in GRAPH_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise WeightsError(f"exported model incomplete: missing {', '.join(missing)}; "
                           f"export it with: siamtrack export MODEL --format onnx")
    verify_checksums(folder, paths.values())
    return paths


def write_checksums(folder: Path) -> Path:
    """Record the SHA-256 of each graph file in ``folder/checksums.json``."""
    sums = {name: sha256_of(folder / name) for name in GRAPH_FILES.values()}
    return write_text_atomically(folder / CHECKSUMS_FILE, json.dumps(sums, indent=1, sort_keys=True) + "\n")


def verify_checksums(folder: Path, paths: Iterable[Path]) -> None:
    """Raise [WeightsError][siamtrack.WeightsError] unless every graph file matches ``checksums.json``."""
    record = folder / CHECKSUMS_FILE
    try:
        sums = json.loads(record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightsError(f"{folder}: no {CHECKSUMS_FILE}, so its graphs cannot be checked; export it again "
                           f"with this version: siamtrack export MODEL --format onnx") from None
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{record}: unreadable ({exc})") from None
    for path in paths:
        expected = sums.get(path.name) if isinstance(sums, dict) else None
        if expected != sha256_of(path):
            raise WeightsError(f"{path}: its checksum differs from the one recorded at export in {record} "
                               f"(damaged or edited); export the model again")


def check_pair(template: GraphInfo, search: GraphInfo, where: str) -> GraphInfo:
    """Both graphs must come from the same weights; returns their shared description."""
    if template.weights_sha256 != search.weights_sha256 or template.metadata != search.metadata:
        raise WeightsError(f"{where}: template.onnx and search.onnx come from different weights "
                           f"({template.weights_sha256[:12]} vs {search.weights_sha256[:12]}); "
                           f"export both again from one weights file")
    if template.kernel_shape != search.kernel_shape:
        raise WeightsError(f"{where}: template and search graphs disagree on the kernel shape")
    return template


def is_exported_model(model: object) -> bool:
    """Whether ``model`` names an exported ONNX model (folder or graph file) rather than weights."""
    if not isinstance(model, (str, Path)):
        return False
    path = Path(model)
    return path.suffix == ".onnx" or (path.is_dir() and (path / GRAPH_FILES[TEMPLATE]).exists())
