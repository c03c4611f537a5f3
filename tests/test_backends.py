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
    kernels = backend.template(rng.integers(0, 256, (6, 127, 127, 3), dtype=np.uint8))  # 3 per crop
    assert not kernels.requires_grad
    responses = backend.track(rng.integers(0, 256, (2, 255, 255, 3), dtype=np.uint8), kernels)
    assert responses.shape == (6, 17, 17) and responses.dtype == np.float32
    # The network itself carries no gradient state.
    assert not any(p.requires_grad for p in backend.network.parameters())


def test_threads_must_be_positive(tiny_weights):
    with pytest.raises(ValueError, match="threads"):
        TorchBackend(tiny_weights, device="cpu", threads=0)


def test_create_backend_reads_paths(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        create_backend("torch", tmp_path / "missing.pth", device="cpu")


AVAILABLE = {"tensorrt/cuda": True, "torch/cuda": True, "onnx/cpu": True, "torch/cpu": True}


@pytest.mark.parametrize("missing, device, model, expected", [
    ((), "auto", None, "tensorrt"),
    (("tensorrt/cuda",), "auto", None, "torch"),
    (("tensorrt/cuda", "torch/cuda"), "auto", None, "onnx"),
    (("tensorrt/cuda", "torch/cuda", "onnx/cpu"), "auto", None, "torch"),
    ((), "cpu", None, "onnx"),
    (("onnx/cpu",), "cpu", None, "torch"),
    ((), "cuda", None, "tensorrt"),
    (("tensorrt/cuda",), "cuda:0", None, "torch"),
    ((), "auto", "model.pth", "torch"),  # weights files run on torch only
    ((), "cpu", "model.pth", "torch"),
])
def test_auto_preference_order(missing, device, model, expected):
    from siamtrack.backends import choose_backend

    usable = {key: (lambda ok=ok: ok) for key, ok in AVAILABLE.items()}
    usable.update({key: (lambda: False) for key in missing})
    assert choose_backend(device, model, usable) == expected


def test_auto_with_nothing_usable_is_an_error():
    from siamtrack.backends import choose_backend

    with pytest.raises(BackendUnavailableError, match="no installed backend"):
        choose_backend("cpu", None, {key: (lambda: False) for key in AVAILABLE})


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_auto_on_cuda_without_cuda_says_why():
    from siamtrack.backends import choose_backend

    with pytest.raises(BackendUnavailableError, match="device 'cuda': .*(CPU-only build|sees no CUDA GPU)"):
        choose_backend("cuda", None, {key: (lambda: False) for key in AVAILABLE})


def test_create_backend_rejects_bad_thread_counts():
    from siamtrack.backends import create_backend
    from siamtrack.errors import ConfigError

    for threads in (0, -2, 1.5):
        with pytest.raises(ConfigError, match="threads must be a whole number >= 1"):
            create_backend("auto", threads=threads)


def test_auto_choice_is_logged(caplog):
    import logging

    from siamtrack.backends import choose_backend

    with caplog.at_level(logging.INFO, logger="siamtrack.backends"):
        name = choose_backend("cpu")
    assert f"backend auto -> {name}" in caplog.text


def test_exported_model_on_torch_backend_is_refused():
    from siamtrack.model.builtin import PROJECT_WEIGHTS_DIR

    with pytest.raises(WeightsError, match="torch backend reads weights or nanotrack models"):
        create_backend("torch", PROJECT_WEIGHTS_DIR / "siamtrack-default-onnx", device="cpu")


@pytest.mark.parametrize("cpu_graph", ["eager", "frozen", "auto"])
def test_cpu_graph_choices_give_the_same_responses(tiny_weights, cpu_graph):
    reference = create_backend("torch", tiny_weights, device="cpu", cpu_graph="eager")
    backend = create_backend("torch", tiny_weights, device="cpu", cpu_graph=cpu_graph)
    assert backend.cpu_graph == ("eager" if cpu_graph == "auto" else cpu_graph)  # auto: recorded per architecture
    rng = np.random.default_rng(3)
    exemplars = rng.integers(0, 256, (6, 127, 127, 3), dtype=np.uint8)
    searches = rng.integers(0, 256, (2, 255, 255, 3), dtype=np.uint8)  # 3 kernels per crop
    expected = reference.track(searches, reference.template(exemplars))
    np.testing.assert_allclose(backend.track(searches, backend.template(exemplars)), expected, rtol=1e-4, atol=1e-5)


def test_unknown_cpu_graph_is_an_error(tiny_weights):
    with pytest.raises(ValueError, match="cpu_graph"):
        create_backend("torch", tiny_weights, device="cpu", cpu_graph="compiled")


def test_auto_cpu_graph_is_the_recorded_choice_per_architecture(tmp_path):
    from siamtrack.model.builtin import PROJECT_WEIGHTS_DIR
    from siamtrack.model.metadata import ModelMetadata
    from siamtrack.model.weights import ModelWeights, save_weights
    from siamtrack.network.siamese import SiameseNet

    shipped = create_backend("torch", PROJECT_WEIGHTS_DIR / "siamtrack-v4.pth", device="cpu")
    assert shipped.metadata.architecture == "alexnet" and shipped.cpu_graph == "eager"
    metadata = ModelMetadata(architecture="efficientnet-lite0-s8", widths=(32,), batch_norm=True, bn_eps=1e-3,
                             input_mean=(123.7, 116.3, 103.5), input_std=(58.4, 57.1, 57.4), template_crop=8)
    torch.manual_seed(0)
    light_file = save_weights(ModelWeights(metadata, SiameseNet(metadata).state_dict()), tmp_path / "light.pth")
    light = create_backend("torch", light_file, device="cpu")
    assert light.cpu_graph == "frozen"
    again = create_backend("torch", light_file, device="cpu")
    crops = np.random.default_rng(0).integers(0, 256, (1, 255, 255, 3), dtype=np.uint8)
    kernels = light.template(crops[:, :127, :127])
    np.testing.assert_array_equal(light.track(crops, kernels), again.track(crops, again.template(crops[:, :127, :127])))
