"""An ONNX export of the tiny test network, made once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_weights_file(tiny_weights, tmp_path_factory):
    from siamtrack.model.weights import save_weights

    return save_weights(tiny_weights, tmp_path_factory.mktemp("weights") / "tiny.pth")


@pytest.fixture(scope="session")
def tiny_export(tiny_weights_file, tmp_path_factory):
    pytest.importorskip("onnxscript", reason="the ONNX exporter needs onnxscript (pip install 'siamtrack[export]')")
    from siamtrack.export.onnx_export import export_onnx

    return export_onnx(tiny_weights_file, tmp_path_factory.mktemp("export") / "tiny-onnx")
