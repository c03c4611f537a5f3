import numpy as np
import pytest
import torch

from siamtrack.model.metadata import ModelMetadata
from siamtrack.network.siamese import SiameseNet
from siamtrack.training.augment import training_pair
from siamtrack.training.objective import Signals, Teacher, pair_loss, pair_losses, train_step


def fixed_batch(count=4):
    rng = np.random.default_rng(0)
    exemplars, searches, targets = [], [], []
    for _ in range(count):
        image = rng.integers(0, 80, (240, 320, 3), dtype=np.uint8)
        image[100:140, 140:190] = rng.integers(100, 255, 3)
        box = np.array([140.0, 100.0, 50.0, 40.0])
        z, x, target = training_pair(image, box, image, box, rng)
        exemplars.append(torch.from_numpy(z))
        searches.append(torch.from_numpy(x))
        targets.append(torch.from_numpy(target))
    return torch.stack(exemplars), torch.stack(searches), torch.stack(targets)


def box_student():
    """A small box-head network with seeded random weights, in eval mode."""
    torch.manual_seed(0)
    return SiameseNet(ModelMetadata(architecture="alexnet", widths=(16, 32, 32, 32, 16), batch_norm=True,
                                    head="box", head_width=16)).eval()


def nanotrack_folder():
    """NanoTrack v2's graphs beside the checkout; the test skips without them."""
    from tests.training.test_nanotrack import NANO

    if not (NANO / "nanotrack_head_sim.onnx").is_file():
        pytest.skip(f"needs NanoTrack v2's graphs in {NANO}")
    return NANO


@pytest.mark.parametrize("metadata", [
    ModelMetadata(architecture="alexnet", widths=(16, 32, 32, 32, 16), batch_norm=True),
    ModelMetadata(architecture="efficientnet-lite0-s8", widths=(16,), batch_norm=True, bn_eps=1e-3,
                  input_mean=(123.7, 116.3, 103.5), input_std=(58.4, 57.1, 57.4), template_crop=8),
    ModelMetadata(architecture="alexnet", widths=(16, 32, 32, 32, 16), batch_norm=True, head="box", head_width=16),
], ids=["alexnet", "efficientnet-lite0-s8", "alexnet-box"])
def test_one_step_lowers_the_loss_on_a_fixed_batch(metadata):
    torch.manual_seed(0)
    network = SiameseNet(metadata)
    batch = fixed_batch()
    optimizer = torch.optim.SGD(network.parameters(), lr=0.01, momentum=0.9)
    terms = train_step(network, optimizer, batch)
    expected_terms = {"total", "class", "box", "quality"} if metadata.head == "box" else {"total", "class"}
    assert set(terms) == expected_terms
    assert terms["total"] == pytest.approx(sum(v for k, v in terms.items() if k != "total"), rel=1e-5)
    network.train()
    with torch.no_grad():
        after = float(pair_loss(network, *batch))
    assert np.isfinite(terms["total"]) and after < terms["total"]


def test_distillation_adds_the_teachers_disagreement_only():
    torch.manual_seed(0)
    student_meta = ModelMetadata(architecture="efficientnet-lite0-s8", widths=(16,), batch_norm=True, bn_eps=1e-3,
                                 input_mean=(123.7, 116.3, 103.5), input_std=(58.4, 57.1, 57.4), template_crop=8)
    student = SiameseNet(student_meta).eval()
    twin = SiameseNet(student_meta).eval()
    twin.load_state_dict(student.state_dict())
    other = SiameseNet(ModelMetadata(architecture="alexnet", widths=(16, 32, 32, 32, 16), batch_norm=True)).eval()
    batch = fixed_batch()
    with torch.no_grad():
        alone = float(pair_loss(student, *batch))
        with_twin = float(pair_loss(student, *batch, Signals(teacher=Teacher(twin, weight=1.0))))
        with_other = float(pair_loss(student, *batch, Signals(teacher=Teacher(other, weight=1.0))))
        unweighted = float(pair_loss(student, *batch, Signals(teacher=Teacher(other, weight=0.0))))
    assert with_twin == pytest.approx(alone, abs=1e-5)  # a teacher that agrees adds nothing
    assert with_other > alone + 1e-3 and unweighted == alone


def test_teacher_settings_are_checked():
    from siamtrack.errors import ConfigError
    from siamtrack.training.config import TrainConfig

    with pytest.raises(ConfigError, match="teacher"):
        TrainConfig(distill_weight=1.0)
    with pytest.raises(ConfigError, match="negative_fraction"):
        TrainConfig(negative_fraction=1.5)


def test_a_box_network_learns_the_response_teacher_with_its_class_map():
    student = box_student()
    other = SiameseNet(ModelMetadata(architecture="alexnet", widths=(16, 32, 32, 32, 16), batch_norm=True)).eval()
    batch = fixed_batch()
    with torch.no_grad():
        terms = pair_losses(student, *batch, Signals(teacher=Teacher(other, weight=2.0)))
        alone = pair_losses(student, *batch)
    assert set(terms) == {"class", "box", "quality", "distill"} and float(terms["distill"]) > 0
    assert all(float(terms[name]) == pytest.approx(float(alone[name])) for name in alone)


def test_the_class_teacher_term_leaves_out_pairs_whose_target_is_not_in_the_crop():
    from siamtrack.training.nanotrack import NanoTrackTeacher
    from siamtrack.training.objective import ClassTeacher

    nano = nanotrack_folder()
    student = box_student()
    exemplars, searches, targets = fixed_batch()
    seen = []

    class Recording(NanoTrackTeacher):
        def __call__(self, exemplars, searches):
            seen.append(len(exemplars))
            return super().__call__(exemplars, searches)

    signals = Signals(class_teacher=ClassTeacher(Recording(nano), weight=1.0))
    with torch.no_grad():
        terms = pair_losses(student, exemplars, searches, targets, signals)
        assert float(terms["class_teacher"]) > 0 and seen == [4]
        away = targets.clone()
        away[1, :2] = torch.tensor([300.0, 0.0])  # a hard negative: its target is outside the crop
        pair_losses(student, exemplars, searches, away, signals)
    assert seen == [4, 3]
    with torch.no_grad():  # one teacher call gives both terms; the box term alone is possible too
        both = pair_losses(student, exemplars, searches, targets,
                           Signals(class_teacher=ClassTeacher(Recording(nano), weight=1.0, box_weight=2.0)))
        boxes_only = pair_losses(student, exemplars, searches, targets,
                                 Signals(class_teacher=ClassTeacher(Recording(nano), weight=0.0, box_weight=2.0)))
    assert seen == [4, 3, 4, 4]
    assert float(both["box_teacher"]) > 0
    assert float(both["class_teacher"]) == pytest.approx(float(terms["class_teacher"]))
    assert "class_teacher" not in boxes_only and float(boxes_only["box_teacher"]) == pytest.approx(
        float(both["box_teacher"]))
