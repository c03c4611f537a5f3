"""The dense stride-16 backbone and the nanotrack-layout head: shapes, folding, export, loading."""

import numpy as np
import pytest
import torch

from siamtrack.errors import WeightsError
from siamtrack.model.metadata import ModelMetadata
from siamtrack.model.weights import ModelWeights, load_weights, save_weights
from siamtrack.network.correlation import per_kernel
from siamtrack.network.nano_head import pixelwise_correlate
from tests.conftest import random_network


def student(head_depth=2):
    return random_network(ModelMetadata(architecture="dense-s16", widths=(4, 8, 8, 16, 12), batch_norm=True,
                                        total_stride=16, head="nanotrack", head_width=8, head_depth=head_depth))


def crops(count, side, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (count, side, side, 3), dtype=np.uint8))


def test_grid_and_outputs_have_nanotracks_layout():
    network = student()
    kernels = network.template(crops(2, 127))
    assert kernels.shape == (2, 12, 8, 8)
    outputs = network.track(crops(2, 255), kernels)
    assert outputs.shape == (2, 6, 16, 16)
    assert bool((outputs[:, 2:] > 0).all())  # box distances are positive


def test_pixelwise_correlation_is_every_cell_against_every_cell():
    kernels, search = torch.randn(4, 3, 2, 2), torch.randn(2, 3, 5, 5)
    result = pixelwise_correlate(kernels, search)
    assert result.shape == (4, 4, 5, 5)
    # kernel 3 belongs to crop 1; its cell (1, 0) is flat index 2
    expected = (kernels[3, :, 1, 0, None, None] * search[1]).sum(0) / 3
    assert torch.allclose(result[3, 2], expected, atol=1e-6)
    assert torch.equal(per_kernel(search, 4)[1], search[0]) and torch.equal(per_kernel(search, 4)[2], search[1])


def test_several_kernels_per_crop_equal_one_call_each():
    network = student()
    kernels = network.template(crops(3, 127))
    search = crops(1, 255, seed=2)
    together = network.track(search, kernels)
    for index in range(3):
        assert torch.allclose(together[index], network.track(search, kernels[index:index + 1])[0], atol=1e-5)


@pytest.mark.parametrize("head_depth", [2, 4])
def test_folding_batch_norm_keeps_the_outputs(head_depth):
    network = student(head_depth)
    folded = network.fold_batch_norm()
    exemplar, search = crops(2, 127), crops(2, 255, seed=1)
    expected = network.track(search, network.template(exemplar))
    assert torch.allclose(folded.track(search, folded.template(exemplar)), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("head_depth", [2, 4])
def test_weights_round_trip_and_onnx_export_agree(tmp_path, head_depth):
    pytest.importorskip("onnxscript")
    from siamtrack.backends import create_backend
    from siamtrack.cli import main

    network = student(head_depth)
    path = save_weights(ModelWeights(network.metadata, network.state_dict()), tmp_path / "student.pth")
    assert load_weights(path).metadata == network.metadata
    assert main(["export", str(path), "--format", "onnx", "--output", str(tmp_path / "onnx")]) == 0
    onnx_backend, torch_backend = create_backend("onnx", tmp_path / "onnx"), create_backend("torch", path, device="cpu")
    exemplar, search = crops(2, 127).numpy(), crops(2, 255, seed=1).numpy()
    expected = torch_backend.track(search, torch_backend.template(exemplar))
    assert np.allclose(onnx_backend.track(search, onnx_backend.template(exemplar)), expected, rtol=1e-3, atol=1e-3)


def test_deeper_towers_see_farther():
    """A change 5 cells from a cell reaches its class logit through 5 tower layers, not through 2."""
    kernels, search = torch.randn(1, 12, 8, 8), torch.zeros(1, 12, 16, 16)
    moved = search.clone()
    moved[0, :, 8, 13] = 5.0
    for depth, reaches in ((2, False), (5, True)):
        head = student(depth).head.eval()
        with torch.no_grad():
            changed = (head(kernels, moved) - head(kernels, search))[0, :2, 8, 8].abs().max().item()
        assert (changed > 0) == reaches


def test_head_depth_is_checked():
    with pytest.raises(WeightsError, match="head_depth"):
        ModelMetadata(architecture="dense-s16", widths=(4, 8, 8, 16, 12), batch_norm=True, total_stride=16,
                      head="nanotrack", head_width=8, head_depth=1)
    with pytest.raises(WeightsError, match="nanotrack head only"):
        ModelMetadata(architecture="alexnet", widths=(8, 16, 16, 16, 8), batch_norm=True, head="box", head_width=8,
                      head_depth=4)


def test_search_cost_counts_the_pixelwise_correlation_and_the_head():
    from siamtrack.network.cost import search_cost

    network = student()
    cost = search_cost(network)
    # 12 channels x 8x8 kernel cells against each of the 16x16 search cells, then the towers.
    assert cost.correlation_macs - cost.head_macs == 12 * 8 * 8 * 16 * 16
    assert cost.head_macs > 0
    assert cost.parameters == sum(p.numel() for p in network.parameters())


def test_a_calibrated_lost_threshold_is_the_default_configs_and_a_mapping_keeps_it(tmp_path):
    from dataclasses import replace

    from siamtrack import MultiTracker
    from siamtrack.config import load_config

    network = student()
    calibrated = replace(network.metadata, lost_threshold=0.85)
    path = save_weights(ModelWeights(calibrated, network.state_dict()), tmp_path / "calibrated.pth")
    assert load_weights(path).metadata.lost_threshold == 0.85
    nanotrack = load_config("nanotrack")
    own = MultiTracker(model=path, backend="torch", device="cpu").config
    assert own == nanotrack.replace(lost_threshold=0.85)
    changed = MultiTracker(model=path, backend="torch", device="cpu", config={"lost_patience": 3}).config
    assert changed == own.replace(lost_patience=3)  # TrackerNano's settings and the threshold stay
    assert MultiTracker(model=path, backend="torch", device="cpu", config="nanotrack").config == nanotrack
    plain = save_weights(ModelWeights(network.metadata, network.state_dict()), tmp_path / "plain.pth")
    assert MultiTracker(model=plain, backend="torch", device="cpu").config == nanotrack


def test_lost_threshold_in_metadata_is_checked_and_left_out_when_unset():
    from dataclasses import replace

    metadata = student().metadata
    assert "lost_threshold" not in metadata.to_dict()  # readable by versions without the key
    assert replace(metadata, lost_threshold=0.9).to_dict()["lost_threshold"] == 0.9
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(WeightsError, match="lost_threshold"):
            replace(metadata, lost_threshold=bad)


def test_fine_tuning_starts_from_a_calibrated_model_and_drops_its_threshold(tmp_path):
    from dataclasses import replace

    from siamtrack.training.config import load_train_config
    from siamtrack.training.trainer import build_network

    keys = ["widths=[4,8,8,16,12]", "head_width=8", 'class_teacher=""', "class_teacher_weight=0",
            "box_teacher_weight=0", "feature_teacher_weight=0", 'start_from=""']
    trained = build_network(load_train_config("nanostudent", keys))
    path = save_weights(ModelWeights(replace(trained.metadata, lost_threshold=0.9), trained.state_dict()),
                        tmp_path / "calibrated.pth")
    tuned = build_network(load_train_config("nanostudent", [*keys, f"start_from={path}"]))
    assert tuned.metadata == trained.metadata and tuned.metadata.lost_threshold is None
    for name, tensor in trained.state_dict().items():
        assert torch.equal(tuned.state_dict()[name], tensor)
