import numpy as np
import pytest
import torch

from siamtrack.backends import BACKEND_NAMES, Backend, create_backend, resolve_backend_name
from siamtrack.backends.torch_backend import TorchBackend, resolve_torch_device
from siamtrack.errors import BackendUnavailableError, WeightsError


def test_auto_resolves_to_an_available_backend():
    assert resolve_backend_name("auto") in BACKEND_NAMES
    assert resolve_backend_name("torch") == "torch"


def test_unknown_backend_is_an_error_not_a_fallback():
    with pytest.raises(BackendUnavailableError, match="unknown backend 'tflite'"):
        resolve_backend_name("tflite")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(BackendUnavailableError, match="CUDA is not available"):
        resolve_torch_device("cuda")
    assert resolve_torch_device("auto").type == "cpu"


@pytest.mark.parametrize("device", ["tpu", "banana", "mps"])
def test_bad_devices(device):
    with pytest.raises(BackendUnavailableError):
        resolve_torch_device(device)


def test_torch_backend_contract(tiny_weights):
    backend = create_backend("torch", tiny_weights, device="cpu", threads=1)
    assert isinstance(backend, Backend) and isinstance(backend, TorchBackend)
    assert backend.name == "torch" and backend.device == "cpu"
    assert torch.get_num_threads() == 1
    rng = np.random.default_rng(0)
    kernels = backend.template(rng.integers(0, 256, (2, 127, 127, 3), dtype=np.uint8))
    assert not kernels.requires_grad
    responses = backend.track(rng.integers(0, 256, (6, 255, 255, 3), dtype=np.uint8), kernels)
    assert responses.shape == (6, 17, 17) and responses.dtype == np.float32
    # The network itself carries no gradient state.
    assert not any(p.requires_grad for p in backend.network.parameters())


def test_threads_must_be_positive(tiny_weights):
    with pytest.raises(ValueError, match="threads"):
        TorchBackend(tiny_weights, device="cpu", threads=0)


def test_create_backend_reads_paths(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        create_backend("torch", tmp_path / "missing.pth", device="cpu")
