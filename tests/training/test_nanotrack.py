"""NanoTrack v2 as a teacher: fed siamtrack's crops, it must agree with cv2.TrackerNano itself."""

import math

import cv2
import numpy as np
import pytest

from siamtrack.tracking.crops import crop_regions
from tests.conftest import SHARED

NANO = SHARED / "weights" / "nanotrack_v2"
TRAIN = SHARED / "data" / "train"


@pytest.fixture(scope="module")
def teacher():
    if not (NANO / "nanotrack_head_sim.onnx").is_file():
        pytest.skip(f"needs NanoTrack v2's graphs in {NANO}")
    pytest.importorskip("onnx")
    from siamtrack.training.nanotrack import NanoTrackTeacher

    return NanoTrackTeacher(NANO)


def opencv_nano():
    params = cv2.TrackerNano_Params()
    params.backbone = str(NANO / "nanotrack_backbone_sim.onnx")
    params.neckhead = str(NANO / "nanotrack_head_sim.onnx")
    return cv2.TrackerNano.create(params)


def nano_update_from_maps(probability, distances, box, side):
    """OpenCV's TrackerNano.update, written from its source, on the teacher's maps (one crop)."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    grid = (np.arange(16) - 8) * 16 + 127
    x1, x2 = grid[None, :] - distances[0], grid[None, :] + distances[2]
    y1, y2 = grid[:, None] - distances[1], grid[:, None] + distances[3]

    def padded(a, b):
        pad = (a + b) * 0.5
        return np.sqrt((a + pad) * (b + pad))

    size_change = padded(x2 - x1, y2 - y1) / padded(cx, cy)  # OpenCV passes the position here (sic)
    size_change = np.maximum(size_change, 1 / size_change)
    ratio = (w / h) / ((x2 - x1) / (y2 - y1))
    ratio = np.maximum(ratio, 1 / ratio)
    penalty = np.exp(-(ratio * size_change - 1) * 0.055)
    chosen = penalty * probability * (1 - 0.455) + np.outer(np.hanning(16), np.hanning(16)) * 0.455
    i, j = np.unravel_index(int(np.argmax(chosen)), chosen.shape)
    scale = 127 / side
    lr = penalty[i, j] * probability[i, j] * 0.37
    new_cx = cx + ((x1[i, j] + x2[i, j]) / 2 - 127) / scale
    new_cy = cy + ((y1[i, j] + y2[i, j]) / 2 - 127) / scale
    new_w = (x2[i, j] - x1[i, j]) / scale * lr + (1 - lr) * w
    new_h = (y2[i, j] - y1[i, j]) / scale * lr + (1 - lr) * h
    return np.array([new_cx - new_w / 2, new_cy - new_h / 2, new_w, new_h])


@pytest.mark.parametrize("name", ["Basketball", "Car4", "Bolt2", "David"])
def test_teacher_on_siamtrack_crops_reproduces_opencvs_tracker(teacher, name):
    folder = TRAIN / name
    if not folder.is_dir():
        pytest.skip(f"needs {folder}")
    from siamtrack.datasets import load_dataset

    (sequence,) = load_dataset(folder)
    first, second = (cv2.imread(str(sequence.frames[i])) for i in (0, 1))
    box = [int(round(v)) for v in sequence.boxes[0]]
    tracker = opencv_nano()
    tracker.init(first, tuple(box))
    _, expected = tracker.update(second)
    x, y, w, h = box
    center = (x + w / 2 - 0.5, y + h / 2 - 0.5)  # OpenCV's center in siamtrack's pixel-center convention
    context = 0.5 * (w + h)
    side = math.sqrt((w + context) * (h + context))
    exemplar = crop_regions(first, [center], [side], 127, cv2.mean(first)[:3])
    search = crop_regions(second, [center], [side * 2], 255, cv2.mean(second)[:3])
    probability, distances = teacher(exemplar, search)
    assert probability.shape == (1, 16, 16) and distances.shape == (1, 4, 16, 16)
    got = nano_update_from_maps(probability[0], distances[0], box, side)
    # OpenCV rounds its crop to whole pixels and its box to integers: within 2 px.
    assert np.abs(got - np.array(expected, dtype=float)).max() <= 2.0


def test_a_batch_gives_what_one_pair_at_a_time_gives(teacher):
    rng = np.random.default_rng(0)
    exemplars = rng.integers(0, 256, (3, 127, 127, 3), dtype=np.uint8)
    searches = rng.integers(0, 256, (3, 255, 255, 3), dtype=np.uint8)
    batch = teacher(exemplars, searches)
    for index in range(3):
        single = teacher(exemplars[index:index + 1], searches[index:index + 1])
        for together, alone in zip(batch, single):
            assert np.allclose(together[index], alone[0], atol=1e-5)


def test_its_head_on_given_features_is_its_own_head_on_its_own_features(teacher):
    import torch

    rng = np.random.default_rng(1)
    exemplars = rng.integers(0, 256, (2, 127, 127, 3), dtype=np.uint8)
    searches = rng.integers(0, 256, (2, 255, 255, 3), dtype=np.uint8)
    maps = teacher.maps(exemplars, searches)
    logits, distances = teacher.head_on(maps.exemplar_features, maps.search_features)
    assert np.allclose(torch.sigmoid(logits).numpy(), maps.probability.numpy(), atol=1e-5)
    assert np.allclose(distances.numpy(), maps.distances.numpy(), rtol=1e-5, atol=1e-4)


def test_missing_graphs_are_a_config_error(tmp_path):
    from siamtrack.errors import ConfigError
    from siamtrack.training.nanotrack import NanoTrackTeacher

    with pytest.raises(ConfigError, match="missing nanotrack_backbone_sim.onnx"):
        NanoTrackTeacher(tmp_path)
