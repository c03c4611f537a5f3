"""The box head network (siamtrack.network.box_head) and the reading of its maps (siamtrack.tracking.box_reader)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from siamtrack.model.metadata import BOX, CLASS, QUALITY, ModelMetadata
from siamtrack.network.box_head import depthwise_correlate, depthwise_correlate_per_crop
from siamtrack.network.siamese import SiameseNet
from siamtrack.tracking.box_reader import padded_size, read_box, strongest_box

BOX_META = ModelMetadata(architecture="alexnet", widths=(8, 16, 16, 16, 8), batch_norm=True, head="box", head_width=8)


def crops(count, size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, size, size, 3), dtype=torch.uint8, generator=generator)


def test_outputs_per_kernel_and_positive_distances(tiny_box_weights):
    network = SiameseNet(tiny_box_weights.metadata)
    network.load_state_dict(tiny_box_weights.state_dict)
    network.eval()
    with torch.no_grad():
        kernels = network.template(crops(6, 127))
        outputs = network.track(crops(2, 255, seed=1), kernels)  # 3 kernels per crop
    assert outputs.shape == (6, 6, 17, 17)
    assert (outputs[:, BOX] > 0).all() and torch.isfinite(outputs).all()


def test_a_fresh_head_starts_from_the_backbones_siamfc_response(tiny_weights):
    # The class map of a new head on a trained response network is that network's response.
    response = SiameseNet(tiny_weights.metadata)
    response.load_state_dict(tiny_weights.state_dict)
    box = SiameseNet(replace(tiny_weights.metadata, head="box", head_width=8))
    missing = box.load_state_dict(tiny_weights.state_dict, strict=False).missing_keys
    assert missing and all(name.startswith("head.") for name in missing)
    response.eval(), box.eval()
    exemplar, search = crops(2, 127), crops(2, 255, seed=1)
    with torch.no_grad():
        expected = response(exemplar, search)
        logits = box(exemplar, search)[:, CLASS]
    assert torch.allclose(logits, expected, atol=1e-5 * float(expected.abs().max()))


def test_folding_batch_norm_keeps_the_outputs(tiny_box_weights):
    network = SiameseNet(tiny_box_weights.metadata)
    network.load_state_dict(tiny_box_weights.state_dict)
    network.eval()
    folded = network.fold_batch_norm()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    exemplar, search = crops(2, 127), crops(2, 255, seed=1)
    with torch.no_grad():
        expected, got = network(exemplar, search), folded(exemplar, search)
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("count, per_crop", [(1, 1), (2, 1), (2, 3)])
def test_the_export_form_of_the_depthwise_correlation_matches(count, per_crop):
    generator = torch.Generator().manual_seed(count * 10 + per_crop)
    kernels = torch.randn(count * per_crop, 5, 3, 3, generator=generator)
    search = torch.randn(count, 5, 9, 9, generator=generator)
    grouped = depthwise_correlate(kernels, search)
    sliced = depthwise_correlate_per_crop(kernels.reshape(count, per_crop, 5, 3, 3), search)
    assert torch.allclose(grouped, sliced, atol=1e-5)
    # By hand for one kernel of the second crop: channel c at (y, x) is sum(K_c * F_c[window]).
    n, k, y, x = count - 1, per_crop - 1, 4, 2
    window = search[n, :, y:y + 3, x:x + 3]
    assert torch.allclose(grouped[n * per_crop + k, :, y, x], (kernels[n * per_crop + k] * window).sum((1, 2)),
                          atol=1e-5)


def test_kernels_must_split_evenly_among_the_crops():
    with pytest.raises(ValueError, match="split evenly"):
        depthwise_correlate(torch.zeros(3, 5, 3, 3), torch.zeros(2, 5, 9, 9))


def box_maps(side=17, stride=8, peak=(8, 8), size=(40.0, 60.0), score_logit=4.0, around=-4.0):
    """(6, side, side) maps: every cell's box has the given size around one center, the class peak at ``peak``."""
    maps = np.zeros((6, side, side), dtype=np.float32)
    maps[CLASS] = around
    maps[CLASS][peak] = score_logit
    maps[QUALITY] = 3.0
    positions = (np.arange(side) - (side - 1) / 2) * stride
    center_y, center_x = positions[peak[0]], positions[peak[1]]
    x, y = positions[None, :], positions[:, None]
    maps[2] = center_x - x + size[0] / 2  # left: from each cell to the box's left edge
    maps[3] = center_y - y + size[1] / 2
    maps[4] = x - center_x + size[0] / 2
    maps[5] = y - center_y + size[1] / 2
    return maps


def test_read_box_takes_the_peak_cells_box_and_smooths_the_size():
    maps = box_maps(peak=(6, 11), size=(40.0, 60.0))
    reading = read_box(maps, stride=8, size=(50.0, 50.0), window_influence=0.0, penalty_k=0.0, box_lr=0.5)
    assert reading.cell == 6 * 17 + 11
    assert reading.offset == pytest.approx((3 * 8, -2 * 8))
    score = 1 / (1 + np.exp(-4.0)) * 1 / (1 + np.exp(-3.0))
    assert reading.score == pytest.approx(score)
    lr = score * 0.5
    assert reading.size == pytest.approx((50 + lr * (40 - 50), 50 + lr * (60 - 50)))


def test_the_window_prefers_the_center_between_equal_scores():
    maps = box_maps(peak=(2, 2))
    maps[CLASS][8, 8] = maps[CLASS][2, 2]  # a second, equally strong peak at the center
    chosen = read_box(maps, 8, (40.0, 60.0), window_influence=0.3, penalty_k=0.0, box_lr=0.4)
    assert chosen.cell == 8 * 17 + 8


def test_the_penalty_prefers_the_box_that_keeps_size_and_shape():
    maps = box_maps(peak=(8, 8), size=(40.0, 60.0))
    maps[CLASS][8, 10] = maps[CLASS][8, 8]
    maps[BOX][:, 8, 10] *= np.array([3.0, 0.3, 3.0, 0.3])  # that cell's box is wide and flat
    chosen = read_box(maps, 8, (40.0, 60.0), window_influence=0.0, penalty_k=0.1, box_lr=0.4)
    assert chosen.cell == 8 * 17 + 8
    unpenalised = read_box(maps, 8, (40.0, 60.0), window_influence=0.0, penalty_k=0.0, box_lr=0.4)
    assert unpenalised.score == pytest.approx(chosen.score)


def test_strongest_box_searches_every_tile():
    tiles = np.stack([box_maps(peak=(8, 8), score_logit=1.0), box_maps(peak=(3, 12), score_logit=5.0)])
    crop, reading = strongest_box(tiles, stride=8)
    assert crop == 1 and reading.cell == 3 * 17 + 12
    assert reading.size == pytest.approx((40.0, 60.0)) and reading.offset == pytest.approx((32.0, -40.0))


def test_padded_size_is_siamfcs_context_side():
    assert padded_size(40.0, 40.0) == pytest.approx(80.0)
    assert padded_size(10.0, 30.0) == pytest.approx(np.sqrt(30.0 * 50.0))


def test_size_gain_matches_the_known_box_and_is_clipped():
    from siamtrack.tracking.box_reader import size_gain

    maps = box_maps(peak=(8, 8), size=(40.0, 60.0))
    assert size_gain(maps, 8, (50.0, 45.0)) == pytest.approx((1.25, 0.75))
    assert size_gain(maps, 8, (400.0, 6.0)) == pytest.approx((2.0, 0.5))  # limited to [1/2, 2]
    reading = read_box(maps, 8, (50.0, 45.0), 0.0, 0.0, 1.0, size_gain=(1.25, 0.75))
    score = reading.score
    assert reading.size == pytest.approx((50 + score * (50 - 50), 45 + score * (45 - 45)))
