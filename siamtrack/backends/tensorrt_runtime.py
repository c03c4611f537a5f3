"""TensorRT at run time: importing it, the GPU it runs on, and engines built from the exported
ONNX graphs (profiles, build, file format, cache). The backend and ``siamtrack export`` both use it.

Formulation: TensorRT handles a convolution whose weights are a run-time tensor poorly (it wants
build-time weights), so the search graph computes the correlation as a batched MatMul plus
static slices (`siamtrack.network.correlation.cross_correlate_per_crop`). The engine
therefore maps (search crops, K kernels per crop) -> responses in one call, and the same graph
serves ONNX Runtime.

Engine files: ``SIAMTRT`` magic + format byte, a little-endian uint32 header length, a JSON
header (graph, model metadata, checksums, TensorRT version, GPU, precision, batch range), then
the serialized engine. Engines only run on the GPU model and TensorRT version that built them,
so built engines are cached under a key made of exactly those plus the ONNX checksum.

Everything here except `build_engine` runs without TensorRT (and is tested that way).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from siamtrack.errors import BackendUnavailableError, ExportError, WeightsError
from siamtrack.files import sha256_of, write_bytes_atomically
from siamtrack.model import contract

LOG = logging.getLogger(__name__)

ENGINE_MAGIC = b"SIAMTRT\x01"
ENGINE_FILES = {contract.TEMPLATE: "template.engine", contract.SEARCH: "search.engine"}
CACHE_ENV_VAR = "SIAMTRACK_ENGINE_CACHE"
_LENGTH = struct.Struct("<I")


def import_tensorrt() -> Any:
    try:
        import tensorrt
    except ImportError:
        raise BackendUnavailableError(
            "the tensorrt backend needs TensorRT 10 for Python, which is not installed: "
            "pip install tensorrt --extra-index-url https://pypi.nvidia.com (see README, TensorRT)") from None
    if int(tensorrt.__version__.split(".")[0]) < 10:
        raise BackendUnavailableError(f"the tensorrt backend needs TensorRT >= 10, found {tensorrt.__version__}")
    return tensorrt


def gpu_identity(device: str = "cuda") -> tuple[str, str]:
    """(GPU name, compute capability such as ``9.0``) of a CUDA device, read through torch."""
    try:
        import torch
    except ImportError:
        raise BackendUnavailableError("TensorRT buffers are torch CUDA tensors here: install torch "
                                      "with CUDA") from None
    from siamtrack.backends.torch_backend import resolve_torch_device

    resolved = resolve_torch_device("cuda" if device == "auto" else device)
    if resolved.type != "cuda":
        raise BackendUnavailableError("TensorRT runs on CUDA devices only")
    return (torch.cuda.get_device_name(resolved),
            "{}.{}".format(*torch.cuda.get_device_capability(resolved)))


@dataclass(frozen=True)
class EngineHeader:
    """What an engine file says about the engine after it.

    Attributes:
        graph: ``template`` or ``search``.
        graph_props: the ONNX graph's siamtrack metadata (see `contract`).
        onnx_sha256: checksum of the ONNX file the engine was built from.
        tensorrt_version: TensorRT version that built it (engines do not move between versions).
        gpu: GPU name that built it.
        compute_capability: e.g. ``9.0``; engines do not move between GPU architectures.
        fp16: whether FP16 kernels were allowed.
        max_batch: largest batch (targets for template, targets x scales for search).
    """

    graph: str
    graph_props: Mapping[str, str]
    onnx_sha256: str
    tensorrt_version: str
    gpu: str
    compute_capability: str
    fp16: bool
    max_batch: int

    def info(self) -> contract.GraphInfo:
        return contract.GraphInfo.from_props(self.graph_props, self.graph, f"{self.graph} engine header")


def cache_key(onnx_sha256: str, gpu: str, compute_capability: str, tensorrt_version: str,
              fp16: bool, max_batch: int) -> str:
    """Key of one engine in the cache: everything that makes a built engine unusable elsewhere."""
    text = json.dumps([onnx_sha256, gpu, compute_capability, tensorrt_version, fp16, max_batch])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def default_cache_dir() -> Path:
    """``$SIAMTRACK_ENGINE_CACHE``, else ``$XDG_CACHE_HOME/siamtrack/engines`` (``~/.cache``)."""
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "siamtrack" / "engines"


def optimisation_profile(graph: str, info: contract.GraphInfo, max_batch: int,
                         opt_batch: int = 3) -> dict[str, tuple[tuple[int, ...], ...]]:
    """(min, opt, max) shapes of each input of one graph: batch 1..max_batch, fixed spatial sizes.

    Args:
        graph: ``template`` or ``search``.
        info: the graphs' metadata (sizes and kernel shape).
        max_batch: largest batch the engine accepts.
        opt_batch: the search batch TensorRT tunes its kernels for (3 = one target of the
            default tracker: three pyramid crops with one kernel each).

    The search graph takes 1 .. ``contract.MAX_KERNELS_PER_CROP`` kernels per crop (the
    single-pass step sends one per scale); the engine is tuned for the default, one.
    """
    if max_batch < 1 or not 1 <= opt_batch <= max_batch:
        raise ValueError(f"need 1 <= opt_batch <= max_batch, got {opt_batch} and {max_batch}")
    meta = info.metadata
    per_item = {contract.EXEMPLAR_CROPS: (meta.exemplar_size, meta.exemplar_size, 3),
                contract.SEARCH_CROPS: (meta.instance_size, meta.instance_size, 3),
                contract.CROP_KERNELS: info.kernel_shape}
    if graph == contract.TEMPLATE:
        exemplar = per_item[contract.EXEMPLAR_CROPS]  # one target added at a time is the common case
        return {contract.EXEMPLAR_CROPS: ((1, *exemplar), (1, *exemplar), (max_batch, *exemplar))}
    crops, kernels = per_item[contract.SEARCH_CROPS], per_item[contract.CROP_KERNELS]
    return {contract.SEARCH_CROPS: ((1, *crops), (opt_batch, *crops), (max_batch, *crops)),
            contract.CROP_KERNELS: ((1, 1, *kernels), (opt_batch, 1, *kernels),
                                    (max_batch, contract.MAX_KERNELS_PER_CROP, *kernels))}


def write_engine_file(path: str | Path, header: EngineHeader, engine: bytes) -> Path:
    """Write header + engine atomically (a crash leaves no half file)."""
    path = Path(path)
    encoded = json.dumps(asdict(header) | {"graph_props": dict(header.graph_props)}).encode()
    return write_bytes_atomically(path, ENGINE_MAGIC + _LENGTH.pack(len(encoded)) + encoded + engine)


def read_engine_file(path: str | Path) -> tuple[EngineHeader, bytes]:
    """Read an engine file written by `write_engine_file`.

    Raises:
        WeightsError: missing, not a siamtrack engine, truncated, or an unreadable header.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"cannot read engine {path}: {exc.strerror or exc}") from None
    if not data.startswith(ENGINE_MAGIC):
        raise WeightsError(f"{path} is not a siamtrack TensorRT engine (build one with: "
                           f"siamtrack export MODEL --format tensorrt)")
    start = len(ENGINE_MAGIC) + _LENGTH.size
    if len(data) < start:
        raise WeightsError(f"{path} is truncated")
    (length,) = _LENGTH.unpack_from(data, len(ENGINE_MAGIC))
    if len(data) <= start + length:
        raise WeightsError(f"{path} is truncated (header of {length} bytes, no engine after it)")
    try:
        header = EngineHeader(**json.loads(data[start:start + length]))
    except (ValueError, TypeError) as exc:
        raise WeightsError(f"{path}: unreadable engine header ({exc})") from None
    return header, data[start + length:]


def check_engine_fits(header: EngineHeader, tensorrt_version: str, gpu: str,
                      compute_capability: str, where: str) -> None:
    """Engines are tied to the TensorRT version and GPU architecture that built them."""
    if header.tensorrt_version != tensorrt_version:
        raise WeightsError(f"{where} was built by TensorRT {header.tensorrt_version}, this is "
                           f"{tensorrt_version}: build it again (siamtrack export ... --format tensorrt)")
    if header.compute_capability != compute_capability:
        raise WeightsError(f"{where} was built for compute capability {header.compute_capability} "
                           f"({header.gpu}), this GPU is {compute_capability} ({gpu}): build it again")


def _parse_onnx(trt: Any, network: Any, logger: Any, onnx_path: Path) -> None:
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes(), str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        for error in errors:  # every parser error, not just the first
            LOG.error("TensorRT ONNX parser: %s", error)
        raise ExportError(f"TensorRT could not parse {onnx_path} ({len(errors)} error(s)): "
                          + "; ".join(errors[:3]))


def has_fast_fp16(compute_capability: str) -> bool:
    """Whether a GPU of this compute capability runs FP16 at least as fast as FP32.

    TensorRT 10.5 deprecated ``platform_has_fast_fp16`` in favour of asking CUDA; the capability
    says it: Volta (7.0) and later have tensor cores, and of the older parts only 5.3 (Jetson TX1),
    6.0 (P100) and 6.2 (Jetson TX2) have full-rate FP16; consumer Pascal (6.1) runs it at 1/64.
    """
    major, minor = (int(v) for v in compute_capability.split(".")[:2])
    return major >= 7 or (major, minor) in ((5, 3), (6, 0), (6, 2))


def build_engine(onnx_path: Path, graph: str, info: contract.GraphInfo, max_batch: int,
                 fp16: str | bool = "auto", workspace_bytes: int = 1 << 30,
                 compute_capability: str = "0.0") -> tuple[bytes, bool]:
    """Build a serialized engine from one ONNX graph (needs TensorRT 10).

    Args:
        onnx_path: the graph.
        graph: ``template`` or ``search``.
        info: the graph's metadata.
        max_batch: largest batch of the optimisation profile.
        fp16: True, False, or ``auto``: FP16 only where the platform has fast FP16.
        workspace_bytes: scratch memory TensorRT may use while choosing kernels.
        compute_capability: of the target GPU, e.g. ``9.0`` (see `has_fast_fp16`).

    Returns:
        The serialized engine and whether FP16 was enabled.
    """
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # TensorRT 10: explicit batch is the only mode
    _parse_onnx(trt, network, logger, onnx_path)
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    fast_fp16 = has_fast_fp16(compute_capability)
    use_fp16 = fast_fp16 if fp16 == "auto" else bool(fp16)
    if use_fp16 and not fast_fp16:
        LOG.warning("FP16 requested but this GPU has no fast FP16; building in FP32")
        use_fp16 = False
    if use_fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for name, (low, best, high) in optimisation_profile(graph, info, max_batch).items():
        profile.set_shape(name, low, best, high)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ExportError(f"TensorRT failed to build an engine from {onnx_path} (see the log above)")
    return bytes(serialized), use_fp16


def _graph_props(onnx_path: Path, graph: str) -> tuple[dict[str, str], contract.GraphInfo]:
    import onnx

    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as exc:  # onnx raises protobuf's DecodeError and others for bad files
        raise WeightsError(f"{onnx_path} is not a readable ONNX file: {exc}") from exc
    props = {p.key: p.value for p in model.metadata_props}
    return props, contract.GraphInfo.from_props(props, graph, str(onnx_path))


def _build_into(target: Path, onnx_path: Path, graph: str, machine: tuple[str, str, str],
                fp16: str | bool, max_batch: int) -> Path:
    gpu, compute_capability, tensorrt_version = machine
    props, info = _graph_props(onnx_path, graph)
    LOG.info("building the %s engine for %s as %s", graph, gpu, target)
    engine, used_fp16 = build_engine(onnx_path, graph, info, max_batch, fp16, compute_capability=compute_capability)
    header = EngineHeader(graph, props, sha256_of(onnx_path), tensorrt_version, gpu,
                          compute_capability, used_fp16, max_batch)
    return write_engine_file(target, header, engine)


def engines_for(onnx_folder: str | Path, gpu: str, compute_capability: str, tensorrt_version: str,
                cache_dir: Path | None = None, fp16: str | bool = "auto",
                max_batch: int = 48) -> dict[str, Path]:
    """Engine files for both graphs of an exported model: from the cache, or built and cached.

    Args:
        onnx_folder: the ONNX export folder.
        gpu, compute_capability, tensorrt_version: the machine the engines are for.
        cache_dir: where engines are kept (default: `default_cache_dir`).
        fp16: see `build_engine`.
        max_batch: largest search batch (targets x scales); the template profile uses the
            same bound for targets.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    machine = (gpu, compute_capability, tensorrt_version)
    found = {}
    for graph, onnx_path in contract.graph_paths(onnx_folder).items():
        key = cache_key(sha256_of(onnx_path), *machine, fp16 in (True, "auto"), max_batch)
        target = cache / f"{graph}-{key}.engine"
        found[graph] = target if target.is_file() else _build_into(target, onnx_path, graph, machine,
                                                                   fp16, max_batch)
    return found


def export_engines(onnx_folder: str | Path, output_dir: str | Path, fp16: str | bool = "auto",
                   max_batch: int = 48, device: str = "cuda") -> dict[str, Path]:
    """Build both engines of an ONNX export into ``output_dir`` (``template.engine``, ``search.engine``).

    Raises:
        BackendUnavailableError: TensorRT, torch or CUDA is missing.
    """
    trt = import_tensorrt()
    gpu, capability = gpu_identity(device)
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return {graph: _build_into(folder / ENGINE_FILES[graph], onnx_path, graph,
                               (gpu, capability, trt.__version__), fp16, max_batch)
            for graph, onnx_path in contract.graph_paths(onnx_folder).items()}
