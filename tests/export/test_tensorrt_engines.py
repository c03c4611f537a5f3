"""TensorRT engine logic that runs without TensorRT, and the parts that need it (skipped here)."""

import importlib.util

import pytest

from siamtrack.backends import tensorrt_runtime as engines
from siamtrack.errors import BackendUnavailableError, WeightsError
from siamtrack.model import contract
from siamtrack.model.metadata import ModelMetadata

HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None
NEEDS_TENSORRT = pytest.mark.skipif(
    not HAS_TENSORRT, reason="TensorRT is not installed (it cannot be on this project's machines: "
                             "no wheel on PyPI, Debian or the GPU image); see README, TensorRT")


def _info(kernel=(128, 8, 8)):
    meta = ModelMetadata(architecture="efficientnet-lite0-s8", widths=(128,), batch_norm=False,
                         template_crop=8)
    return contract.GraphInfo(meta, "ab" * 32, kernel, 25, "0.1.0")


def _header(**changes):
    values = dict(graph="search", graph_props=_info().to_props("search"), onnx_sha256="cd" * 32,
                  tensorrt_version="10.3.0", gpu="NVIDIA H100", compute_capability="9.0", fp16=True,
                  max_batch=48)
    values.update(changes)
    return engines.EngineHeader(**values)


def test_profiles_cover_batch_one_to_max_with_fixed_spatial_shapes():
    search = engines.optimisation_profile("search", _info(), max_batch=48)
    # Tuned for one target of the default tracker (3 pyramid crops, a kernel each); 1..9 kernels per crop.
    assert search == {
        contract.SEARCH_CROPS: ((1, 255, 255, 3), (3, 255, 255, 3), (48, 255, 255, 3)),
        contract.CROP_KERNELS: ((1, 1, 128, 8, 8), (3, 1, 128, 8, 8), (48, 9, 128, 8, 8)),
    }
    template = engines.optimisation_profile("template", _info(), max_batch=16)
    assert template == {contract.EXEMPLAR_CROPS: ((1, 127, 127, 3), (1, 127, 127, 3), (16, 127, 127, 3))}


@pytest.mark.parametrize("max_batch, opt_batch", [(0, 1), (4, 5), (4, 0)])
def test_bad_profile_bounds(max_batch, opt_batch):
    with pytest.raises(ValueError):
        engines.optimisation_profile("search", _info(), max_batch, opt_batch)


def test_engine_file_round_trip(tmp_path):
    header = _header()
    path = engines.write_engine_file(tmp_path / "search.engine", header, b"\x00engine-bytes\xff")
    read_header, blob = engines.read_engine_file(path)
    assert read_header == header and blob == b"\x00engine-bytes\xff"
    assert read_header.info() == _info()
    assert [p.name for p in tmp_path.iterdir()] == ["search.engine"]  # no temporary left behind


@pytest.mark.parametrize("damage, message", [
    (lambda data: b"PLAN" + data[8:], "not a siamtrack TensorRT engine"),
    (lambda data: data[:10], "truncated"),
    (lambda data: data[:data.index(b"}") + 1], "no engine after it"),
    (lambda data: data[:12] + b"{not json" + data[21:], "unreadable engine header"),
])
def test_damaged_engine_files_are_clear_errors(tmp_path, damage, message):
    path = engines.write_engine_file(tmp_path / "search.engine", _header(), b"engine")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(WeightsError, match=message):
        engines.read_engine_file(path)


def test_missing_engine_file(tmp_path):
    with pytest.raises(WeightsError, match="cannot read engine"):
        engines.read_engine_file(tmp_path / "nope.engine")


@pytest.mark.parametrize("field, value", [
    ("onnx_sha256", "ef" * 32), ("gpu", "NVIDIA A100"), ("compute_capability", "8.0"),
    ("tensorrt_version", "10.4.0"), ("fp16", False), ("max_batch", 32)])
def test_cache_key_changes_with_everything_an_engine_depends_on(field, value):
    base = dict(onnx_sha256="cd" * 32, gpu="NVIDIA H100", compute_capability="9.0",
                tensorrt_version="10.3.0", fp16=True, max_batch=48)
    assert engines.cache_key(**base) == engines.cache_key(**base)
    assert engines.cache_key(**base) != engines.cache_key(**{**base, field: value})


@pytest.mark.parametrize("field, value, message", [
    ("tensorrt_version", "10.0.1", "built by TensorRT 10.0.1"),
    ("compute_capability", "8.6", "compute capability 8.6"),
])
def test_engines_from_another_machine_are_refused(field, value, message):
    with pytest.raises(WeightsError, match=message):
        engines.check_engine_fits(_header(**{field: value}), "10.3.0", "NVIDIA H100", "9.0", "x")
    engines.check_engine_fits(_header(), "10.3.0", "NVIDIA H100", "9.0", "x")  # same machine: fine


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(engines.CACHE_ENV_VAR, str(tmp_path / "engines"))
    assert engines.default_cache_dir() == tmp_path / "engines"
    monkeypatch.delenv(engines.CACHE_ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert engines.default_cache_dir() == tmp_path / "xdg" / "siamtrack" / "engines"


@pytest.mark.skipif(HAS_TENSORRT, reason="checks the message on machines without TensorRT")
def test_tensorrt_backend_without_tensorrt_is_a_clear_error():
    from siamtrack.backends import create_backend
    from siamtrack.model.builtin import PROJECT_WEIGHTS_DIR

    with pytest.raises(BackendUnavailableError, match="needs TensorRT 10.*pypi.nvidia.com"):
        create_backend("tensorrt", PROJECT_WEIGHTS_DIR / "siamtrack-default-onnx")


@NEEDS_TENSORRT
def test_tensorrt_engines_match_torch(tmp_path):
    import numpy as np
    import torch

    if not torch.cuda.is_available():
        pytest.skip("TensorRT is installed but there is no CUDA device")
    from siamtrack.backends import create_backend
    from siamtrack.model.builtin import PROJECT_WEIGHTS_DIR

    runtime = create_backend("tensorrt", PROJECT_WEIGHTS_DIR / "siamtrack-default-onnx",
                             cache_dir=tmp_path, fp16=False)
    reference = create_backend("torch", PROJECT_WEIGHTS_DIR / "siamtrack-default.pth", device="cuda")
    rng = np.random.default_rng(0)
    exemplars = rng.integers(0, 256, (6, 127, 127, 3), dtype=np.uint8)  # 3 kernels per search crop
    searches = rng.integers(0, 256, (2, 255, 255, 3), dtype=np.uint8)
    expected = reference.track(searches, reference.template(exemplars))
    actual = runtime.track(searches, runtime.template(exemplars))
    assert np.abs(actual - expected).max() / np.abs(expected).max() < 1e-3
    assert len(list(tmp_path.glob("*.engine"))) == 2  # built once, cached


@pytest.mark.parametrize("capability, fast", [
    ("9.0", True), ("8.6", True), ("7.5", True), ("7.0", True), ("6.2", True), ("6.0", True),
    ("6.1", False), ("5.3", True), ("5.2", False), ("3.5", False), ("10.0", True)])
def test_fast_fp16_by_compute_capability(capability, fast):
    assert engines.has_fast_fp16(capability) is fast
