import json

import numpy as np
import pytest
import torch

from siamtrack.errors import ExportError
from siamtrack.export.onnx_export import SearchGraph, export_onnx, inference_network
from siamtrack.files import sha256_of
from siamtrack.model import contract
from siamtrack.model.builtin import BUILTIN_MODELS, PROJECT_WEIGHTS_DIR
from siamtrack.model.metadata import ModelMetadata
from siamtrack.model.weights import load_weights
from siamtrack.network.correlation import cross_correlate, cross_correlate_per_crop

onnx = pytest.importorskip("onnx")


@pytest.mark.parametrize("crops, per_crop, kernel, search", [
    (1, 3, (6, 6), (22, 22)),  # SiamFC AlexNet, single pass: 6x6 kernels on 22x22 features
    (3, 1, (6, 6), (22, 22)),  # SiamFC AlexNet, image pyramid
    (2, 3, (8, 8), (32, 32)),  # light backbone: central 8x8 cells on 32x32
    (4, 5, (3, 5), (9, 11)),  # non-square kernel and features
    (1, 1, (1, 1), (4, 4)),
])
def test_matmul_correlation_equals_grouped_convolution(crops, per_crop, kernel, search):
    generator = torch.Generator().manual_seed(crops * 10 + per_crop)
    kernels = torch.randn(crops * per_crop, 16, *kernel, generator=generator)
    features = torch.randn(crops, 16, *search, generator=generator)
    expected = cross_correlate(kernels, features, 0.001, 0.2)
    actual = cross_correlate_per_crop(kernels.reshape(crops, per_crop, *kernels.shape[1:]), features, 0.001, 0.2)
    assert actual.shape == (crops, per_crop, *expected.shape[1:])
    assert torch.allclose(actual.reshape(expected.shape), expected, rtol=1e-5, atol=1e-6)


def _graphs(folder):
    return {graph: onnx.load(str(folder / name)) for graph, name in contract.GRAPH_FILES.items()}


def test_export_writes_checked_graphs_with_dynamic_batch(tiny_export):
    for graph, model in _graphs(tiny_export).items():
        onnx.checker.check_model(model, full_check=True)
        assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= contract.MIN_OPSET
        assert [i.name for i in model.graph.input] == list(contract.GRAPH_INPUTS[graph])
        assert [o.name for o in model.graph.output] == list(contract.GRAPH_OUTPUTS[graph])
        for tensor in model.graph.input:
            dims = tensor.type.tensor_type.shape.dim
            # Batch, and the search graph's kernels per crop, are dynamic; the rest is static.
            dynamic = 2 if tensor.name == contract.CROP_KERNELS else 1
            assert all(d.dim_param and not d.dim_value for d in dims[:dynamic]), "batch (and K) must be dynamic"
            assert all(d.dim_value > 0 for d in dims[dynamic:]), "spatial shapes must be static"


def test_export_metadata_round_trip(tiny_export, tiny_weights_file, tiny_weights):
    for graph, model in _graphs(tiny_export).items():
        props = {p.key: p.value for p in model.metadata_props}
        info = contract.GraphInfo.from_props(props, graph, graph)
        # Exported networks are BatchNorm-folded; everything else is the source's.
        assert info.metadata == ModelMetadata.from_dict({**tiny_weights.metadata.to_dict(), "batch_norm": False})
        assert info.weights_sha256 == sha256_of(tiny_weights_file)
        assert info.kernel_shape == (8, 6, 6) and info.response_size == 17
        assert json.loads(props[contract.KEY_MODEL])["architecture"] == "alexnet"
        assert info.to_props(graph) == props


def test_graph_info_refuses_other_graphs_and_formats(tiny_export):
    props = {p.key: p.value for p in onnx.load(str(tiny_export / "template.onnx")).metadata_props}
    with pytest.raises(Exception, match="holds the 'template' graph, expected 'search'"):
        contract.GraphInfo.from_props(props, "search", "x")
    with pytest.raises(Exception, match="format version"):
        contract.GraphInfo.from_props({**props, contract.KEY_FORMAT_VERSION: "99"}, "template", "x")
    with pytest.raises(Exception, match="not a siamtrack ONNX graph"):
        contract.GraphInfo.from_props({}, "template", "x")
    with pytest.raises(Exception, match="unreadable siamtrack metadata"):
        contract.GraphInfo.from_props({**props, contract.KEY_KERNEL_SHAPE: "8,six"}, "template", "x")


@pytest.mark.parametrize("opset", [12, 16])
def test_old_opsets_are_refused(tiny_weights_file, tmp_path, opset):
    with pytest.raises(ExportError, match="opset must be >= 17"):
        export_onnx(tiny_weights_file, tmp_path / "out", opset=opset)


@pytest.mark.parametrize("name", BUILTIN_MODELS)
def test_committed_exports_match_committed_weights(name):
    """weights/siamtrack-NAME-onnx must be the export of weights/siamtrack-NAME.pth."""
    folder = PROJECT_WEIGHTS_DIR / BUILTIN_MODELS[name]["onnx"]
    weights_file = PROJECT_WEIGHTS_DIR / BUILTIN_MODELS[name]["weights"]
    for graph, model in _graphs(folder).items():
        info = contract.GraphInfo.from_props({p.key: p.value for p in model.metadata_props}, graph, graph)
        assert info.weights_sha256 == sha256_of(weights_file), (
            f"re-export: siamtrack export weights/{weights_file.name} --format onnx --output weights/{folder.name}")
        assert info.metadata.architecture == load_weights(weights_file).metadata.architecture


def test_search_graph_module_matches_network_track(tiny_weights):
    network = inference_network(tiny_weights)
    generator = torch.Generator().manual_seed(1)
    exemplar = torch.randint(0, 256, (6, 127, 127, 3), dtype=torch.uint8, generator=generator)
    search = torch.randint(0, 256, (2, 255, 255, 3), dtype=torch.uint8, generator=generator)
    with torch.inference_mode():
        kernels = network.template(exemplar)  # 3 per search crop
        expected = network.track(search, kernels)
        actual = SearchGraph(network)(search, kernels.reshape(2, 3, *kernels.shape[1:]))
    np.testing.assert_allclose(actual.numpy().reshape(expected.shape), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_export_records_checksums_and_a_changed_graph_is_refused(tiny_export, tmp_path):
    import shutil

    from siamtrack.errors import WeightsError

    sums = json.loads((tiny_export / contract.CHECKSUMS_FILE).read_text())
    assert sums == {name: sha256_of(tiny_export / name) for name in contract.GRAPH_FILES.values()}
    assert contract.graph_paths(tiny_export)  # verified: no error
    damaged = shutil.copytree(tiny_export, tmp_path / "damaged")
    model = onnx.load(str(damaged / "search.onnx"))
    weight = model.graph.initializer[0]
    zeros = onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(weight) * 0, weight.name)
    weight.CopyFrom(zeros)  # a zeroed weight: still a valid graph that would load and track
    onnx.save(model, str(damaged / "search.onnx"))
    with pytest.raises(WeightsError, match="checksum differs"):
        contract.graph_paths(damaged)
    (damaged / contract.CHECKSUMS_FILE).unlink()
    with pytest.raises(WeightsError, match="no checksums.json"):
        contract.graph_paths(damaged)


@pytest.mark.parametrize("name", BUILTIN_MODELS)
def test_committed_exports_pass_their_checksums(name):
    folder = PROJECT_WEIGHTS_DIR / BUILTIN_MODELS[name]["onnx"]
    assert set(contract.graph_paths(folder)) == {contract.TEMPLATE, contract.SEARCH}
