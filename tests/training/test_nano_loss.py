"""A nanotrack-layout network's losses: ground truth, NanoTrack's maps and features; one training step."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from siamtrack.training.nano_loss import (
    NanoWeights,
    TeacherMaps,
    feature_loss,
    head_teacher_loss,
    teacher_losses,
    truth_losses,
)


def outputs_with(target_cell, distances=32.0, batch=1):
    """Maps whose target logit peaks at ``target_cell`` (row, col) with boxes of ``distances`` px each way."""
    outputs = torch.zeros(batch, 6, 16, 16)
    outputs[:, 0] = 3.0
    outputs[:, 1, target_cell[0], target_cell[1]] = 10.0
    outputs[:, 2:] = distances
    return outputs


def test_the_truth_peak_is_cell_8_at_the_crop_center():
    targets = torch.tensor([[0.0, 0.0, 64.0, 64.0]])
    right = truth_losses(outputs_with((8, 8)), targets, 16, 1.0)
    wrong = truth_losses(outputs_with((7, 7)), targets, 16, 1.0)
    assert right["class"] < wrong["class"]
    # 32 px each way is the 64 x 64 box exactly at the center cell (and close at its positive neighbours)
    assert float(right["box"]) < float(truth_losses(outputs_with((8, 8), 10.0), targets, 16, 1.0)["box"])


def test_a_hard_negative_has_no_positive_cell():
    far = torch.tensor([[400.0, 400.0, 64.0, 64.0]])  # the target is outside the crop
    losses = truth_losses(outputs_with((8, 8)), far, 16, 1.0)
    assert float(losses["box"]) == 0.0
    assert losses["class"] > truth_losses(torch.full((1, 6, 16, 16), 1.0) * torch.tensor(
        [5.0, -5.0, 1, 1, 1, 1])[None, :, None, None], far, 16, 1.0)["class"]


def test_feature_loss_is_zero_for_the_teachers_maps_and_scale_free():
    teacher = torch.randn(4, 48, 16, 16) * torch.linspace(0.1, 10, 48)[None, :, None, None]
    assert float(feature_loss(teacher, teacher)) == 0.0
    noise = torch.randn_like(teacher) * 0.1
    loss = feature_loss(teacher + noise * teacher.std(dim=(0, 2, 3), keepdim=True), teacher)
    assert float(loss) == pytest.approx(0.01, rel=0.2)  # 10 % of each channel's spread, whatever its scale


def test_teacher_terms_pull_towards_the_teachers_maps():
    probability = torch.zeros(1, 16, 16)
    probability[0, 5, 5] = 0.9
    maps = TeacherMaps(torch.zeros(1, 48, 8, 8), torch.zeros(1, 48, 16, 16), probability,
                       torch.full((1, 4, 16, 16), 20.0))
    agree = teacher_losses(outputs_with((5, 5), 20.0), maps, NanoWeights())
    disagree = teacher_losses(outputs_with((10, 10), 40.0), maps, NanoWeights())
    assert agree["class_teacher"] < disagree["class_teacher"]
    assert float(agree["box_teacher"]) == pytest.approx(0.0, abs=1e-4)
    assert float(disagree["box_teacher"]) > 0.1


def test_head_teacher_term_is_zero_on_the_teachers_maps_and_ranks_weak_cells():
    logits = (torch.randn(2, 16, 16, generator=torch.Generator().manual_seed(0)) * 4).clamp(-10, 10)
    logits[:, 8, 8] = 6.0
    distances = torch.full((2, 4, 16, 16), 24.0)
    same = torch.cat([torch.zeros(2, 1, 16, 16), logits[:, None], distances], dim=1)
    assert float(head_teacher_loss(same, logits, distances)) == pytest.approx(0.0, abs=1e-5)
    # the same peak, but the weak cells' order lost: still a loss (the window picks among them)
    flat = same.clone()
    flat[:, 1] = torch.where(logits == 6.0, 6.0, -4.0)
    assert float(head_teacher_loss(flat, logits, distances)) > 0.5


def test_a_training_step_with_nanotrack_as_teacher_lowers_the_loss():
    from tests.conftest import SHARED

    folder = SHARED / "weights" / "nanotrack_v2"
    if not (folder / "nanotrack_head_sim.onnx").is_file():
        pytest.skip(f"needs {folder}")
    pytest.importorskip("onnx")
    from siamtrack.training.config import TrainConfig
    from siamtrack.training.nanotrack import NanoTrackTeacher
    from siamtrack.training.objective import ClassTeacher, Signals, pair_losses, train_step
    from siamtrack.training.trainer import build_network

    torch.manual_seed(0)
    config = TrainConfig(architecture="dense-s16", widths=(8, 16, 16, 32, 48), head="nanotrack", head_width=16,
                         pretrained="none", template_crop=0)
    network = build_network(config)
    signals = Signals(class_teacher=ClassTeacher(NanoTrackTeacher(folder), 1.0, 1.0),
                      nano=NanoWeights(1.0, 1.0, 1.0, 1.0, head_teacher=1.0))
    rng = np.random.default_rng(0)
    batch = (torch.from_numpy(rng.integers(0, 256, (4, 127, 127, 3), dtype=np.uint8)),
             torch.from_numpy(rng.integers(0, 256, (4, 255, 255, 3), dtype=np.uint8)),
             torch.tensor([[0.0, 0.0, 60.0, 40.0], [20.0, -10.0, 50.0, 50.0], [-30.0, 5.0, 40.0, 70.0],
                           [400.0, 0.0, 50.0, 50.0]]))
    terms = set(pair_losses(network, *batch, signals))
    assert terms == {"class", "box", "feature_teacher", "class_teacher", "box_teacher", "head_teacher"}
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01, momentum=0.9)
    first = train_step(network, optimizer, batch, signals)["total"]
    for _ in range(15):
        last = train_step(network, optimizer, batch, signals)["total"]
    assert last < first


def test_the_optimizer_is_a_setting():
    from siamtrack.errors import ConfigError
    from siamtrack.training.config import TrainConfig
    from siamtrack.training.trainer import build_network, make_optimizer

    config = TrainConfig(architecture="dense-s16", widths=(8, 8, 8, 8, 8), head="nanotrack", head_width=8,
                         pretrained="none", template_crop=0, optimizer="adam")
    assert isinstance(make_optimizer(build_network(config), config), torch.optim.AdamW)
    with pytest.raises(ConfigError, match="optimizer"):
        TrainConfig(optimizer="lbfgs")


def test_a_deeper_head_starts_from_a_trained_backbone(tmp_path):
    from siamtrack.model.weights import ModelWeights, save_weights
    from siamtrack.training.config import TrainConfig
    from siamtrack.training.trainer import build_network

    shallow = TrainConfig(architecture="dense-s16", widths=(8, 8, 8, 8, 8), head="nanotrack", head_width=8,
                          pretrained="none", template_crop=0)
    trained = build_network(shallow)
    path = save_weights(ModelWeights(trained.metadata, trained.state_dict()), tmp_path / "shallow.pth")
    deeper = build_network(replace(shallow, head_depth=4, start_from=str(path)))
    assert deeper.metadata.head_depth == 4
    ours = deeper.state_dict()
    assert all(torch.equal(ours[name], tensor) for name, tensor in trained.state_dict().items()
               if name.startswith("backbone."))
    assert "head.class_tower.3.0.conv.weight" in ours
