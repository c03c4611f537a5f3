"""The parity gate: TensorRT enters ``auto`` only when it reproduces ONNX Runtime's responses.

TensorRT cannot run here, so a stand-in registered under its name plays it: the ONNX Runtime
backend itself (passes) or one whose responses are off (fails, and ``auto`` takes the next).
"""

import logging

import numpy as np
import pytest

import siamtrack.backends as backends
from siamtrack.backends import create_backend
from siamtrack.backends.onnx_backend import OnnxBackend
from siamtrack.backends.parity import PARITY_TOLERANCE, ParityError, check_parity, response_difference
from siamtrack.model.builtin import default_model_path


class FaithfulTensorRT(OnnxBackend):
    name = "tensorrt"


class WrongTensorRT(OnnxBackend):
    """Responses off by a tenth of their range, as a graph built with a wrong scale would be."""

    name = "tensorrt"

    def track(self, search_crops, kernels):
        responses = super().track(search_crops, kernels)
        return responses + 0.1 * (responses.max() - responses.min()) * np.sign(responses - responses.mean())


def test_torch_and_onnx_runtime_agree_within_the_tolerance():
    from siamtrack.backends.torch_backend import TorchBackend

    torch_backend = TorchBackend(default_model_path("weights"), device="cpu", cpu_graph="eager")
    onnx_backend = OnnxBackend(default_model_path("onnx"))
    difference = check_parity(torch_backend, onnx_backend)
    assert 0 <= difference < PARITY_TOLERANCE / 10


def test_a_backend_with_wrong_responses_fails_the_check():
    reference = OnnxBackend(default_model_path("onnx"))
    wrong = WrongTensorRT(default_model_path("onnx"))
    assert response_difference(wrong, reference) > 0.1
    with pytest.raises(ParityError, match="differs from onnx on cpu by"):
        check_parity(wrong, reference)


@pytest.fixture
def fake_tensorrt(monkeypatch):
    """Register a stand-in class as the tensorrt backend and make auto see TensorRT + CUDA."""
    def register(class_name):
        monkeypatch.setitem(backends._IMPLEMENTATIONS, "tensorrt",
                            backends._Implementation({"onnx": f"{__name__}:{class_name}"}))
        order = tuple((name, kind, (lambda: True) if name == "tensorrt" else
                       (lambda: False) if kind == "cuda" else probe) for name, kind, probe in backends.AUTO_ORDER)
        monkeypatch.setattr(backends, "AUTO_ORDER", order)
    return register


def test_auto_takes_tensorrt_when_it_matches(fake_tensorrt):
    fake_tensorrt("FaithfulTensorRT")
    assert isinstance(create_backend("auto"), FaithfulTensorRT)


def test_auto_falls_back_with_a_warning_when_tensorrt_differs(fake_tensorrt, caplog):
    fake_tensorrt("WrongTensorRT")
    with caplog.at_level(logging.WARNING, logger="siamtrack.backends"):
        backend = create_backend("auto")
    assert backend.name == "onnx" and not isinstance(backend, WrongTensorRT)
    assert "not using tensorrt" in caplog.text and "differs from onnx" in caplog.text


def test_a_named_tensorrt_backend_is_never_checked_or_replaced(fake_tensorrt):
    fake_tensorrt("WrongTensorRT")
    assert isinstance(create_backend("tensorrt"), WrongTensorRT)


def test_box_models_are_compared_channel_by_channel(tiny_box_weights, tmp_path):
    """A wrong class map must fail the gate even though the box distances' range is far larger."""
    pytest.importorskip("onnxscript")
    from siamtrack.backends.torch_backend import TorchBackend
    from siamtrack.export.onnx_export import export_onnx
    from siamtrack.model.weights import save_weights

    weights = save_weights(tiny_box_weights, tmp_path / "box.pth")
    folder = export_onnx(weights, tmp_path / "box-onnx")
    reference = OnnxBackend(folder)
    assert check_parity(TorchBackend(weights, device="cpu", cpu_graph="eager"), reference) < PARITY_TOLERANCE / 10

    class WrongClassMap(OnnxBackend):
        name = "tensorrt"

        def track(self, search_crops, kernels):
            outputs = super().track(search_crops, kernels).copy()
            outputs[:, 0] += 0.1 * (outputs[:, 0].max() - outputs[:, 0].min())  # class logits off
            return outputs

    with pytest.raises(ParityError):
        check_parity(WrongClassMap(folder), reference)
