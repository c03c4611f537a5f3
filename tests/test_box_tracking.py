"""Tracking with box-head models: the BoxStep's geometry (with a stand-in that measures the target
in each crop), and a real tiny box network through every backend and pipeline on the CPU."""

import numpy as np
import pytest

from siamtrack import MultiTracker, Tracker, update_streams
from siamtrack.config import TrackerConfig
from siamtrack.model.metadata import ModelMetadata
from siamtrack.tracking.readout import BoxStep, ScaleSearchStep, tracking_step

BOX_META = ModelMetadata(architecture="alexnet", widths=(8, 16, 16, 16, 8), batch_norm=False, head="box", head_width=8)
SIDE, STRIDE = 17, 8


def scene(box, size=(240, 320)):
    """A dark frame with one bright rectangle (x, y, w, h) and some texture."""
    image = np.full((*size, 3), 40, np.uint8)
    image[::7, :] = 60
    x, y, w, h = (int(round(v)) for v in box)
    image[y:y + h, x:x + w] = 220
    return image


class MeasuringBackend:
    """A box-head stand-in: finds the bright rectangle in each search crop and answers with the maps
    a perfect box head would give (class peak at the cell nearest its center, exact box distances;
    a weaker peak where the crop cuts the rectangle off)."""

    name = "measuring"
    device = "cpu"
    metadata = BOX_META

    def __init__(self):
        self.calls = []

    def template(self, crops):
        return np.zeros((len(crops), 1, 1, 1), np.float32)

    def stack(self, kernels):
        return np.concatenate(kernels)

    def track(self, crops, kernels):
        self.calls.append(len(crops))
        maps = np.zeros((len(kernels), 6, SIDE, SIDE), np.float32)
        positions = (np.arange(SIDE) - (SIDE - 1) / 2) * STRIDE
        for index, crop in enumerate(crops):
            bright = np.argwhere(crop[..., 0] > 150)
            maps[index, 0] = -8.0
            if not len(bright):
                continue
            (top, left), (bottom, right) = bright.min(axis=0), bright.max(axis=0) + 1
            cx, cy = (left + right) / 2 - 127.5, (top + bottom) / 2 - 127.5
            row, col = np.abs(positions - cy).argmin(), np.abs(positions - cx).argmin()
            cut_off = top == 0 or left == 0 or bottom == crop.shape[0] or right == crop.shape[1]
            maps[index, 0, row, col] = 0.0 if cut_off else 8.0  # a partly seen target is a weaker match
            maps[index, 1] = 8.0
            x, y = positions[None, :], positions[:, None]
            maps[index, 2] = x - (cx - (right - left) / 2)
            maps[index, 3] = y - (cy - (bottom - top) / 2)
            maps[index, 4] = (cx + (right - left) / 2) - x
            maps[index, 5] = (cy + (bottom - top) / 2) - y
        return maps


def test_the_model_metadata_chooses_the_step():
    config = TrackerConfig()
    assert isinstance(tracking_step(config, BOX_META), BoxStep)
    assert isinstance(tracking_step(config, ModelMetadata(architecture="alexnet", widths=(8, 16, 16, 16, 8),
                                                          batch_norm=False)), ScaleSearchStep)
    # A box-head model can also take SiamFC's scale search, on its class map.
    scales = tracking_step(config.replace(box_size="scales"), BOX_META)
    assert isinstance(scales, ScaleSearchStep) and scales.channel == 0


def test_a_box_model_with_the_scale_search_follows_the_target_on_its_class_map():
    backend = MeasuringBackend()
    tracker = Tracker(backend=backend, config={"box_size": "scales"})
    tracker.init(scene((100, 80, 40, 40)), (100, 80, 40, 40))
    backend.calls.clear()
    for step in range(1, 5):
        result = tracker.update(scene((100 + 4 * step, 80, 40, 40)))
        assert abs(result.box[0] - (100 + 4 * step)) <= 3 and abs(result.box[1] - 80) <= 3
        assert result.box[2] / result.box[3] == pytest.approx(1.0)  # SiamFC keeps the aspect ratio
    assert backend.calls == [3] * 4  # the pyramid: three crops a frame


def test_the_box_follows_position_size_and_aspect_ratio():
    backend = MeasuringBackend()
    tracker = Tracker(backend=backend, config={"box_lr": 1.0, "box_penalty": 0.0, "box_window_influence": 0.0})
    boxes = [(100, 80, 40, 40), (104, 82, 44, 38), (108, 84, 50, 34), (112, 86, 56, 30), (116, 88, 60, 28)]
    tracker.init(scene(boxes[0]), boxes[0])
    backend.calls.clear()
    for box in boxes[1:]:
        result = tracker.update(scene(box))
        # One crop per frame; with box_lr 1 and a perfect head the box is the rectangle, whose
        # aspect ratio went from 1 to 2.1 (SiamFC's scale search cannot change it).
        assert np.abs(np.array(result.box) - np.array(box)).max() <= 1.5
        assert result.score > 0.99 and not result.lost
    assert backend.calls == [1] * 4


def test_size_moves_by_score_times_box_lr():
    tracker = Tracker(backend=MeasuringBackend(), config={"box_lr": 0.5, "box_penalty": 0.0,
                                                          "box_window_influence": 0.0})
    tracker.init(scene((100, 80, 40, 40)), (100, 80, 40, 40))
    result = tracker.update(scene((100, 80, 60, 40)))
    score = result.score
    assert result.box[2] == pytest.approx(40 + 0.5 * score * 20, abs=0.6)
    assert result.box[3] == pytest.approx(40, abs=0.6)


def test_sizes_are_clamped_to_the_configured_factors():
    tracker = Tracker(backend=MeasuringBackend(), config={"box_lr": 1.0, "box_penalty": 0.0,
                                                          "box_window_influence": 0.0, "max_size_factor": 1.2})
    tracker.init(scene((100, 80, 40, 40)), (100, 80, 40, 40))
    result = tracker.update(scene((95, 80, 60, 40)))
    assert result.box[2] == pytest.approx(48.0)  # 1.2 x 40


def test_a_lost_box_target_is_re_acquired_by_the_tiles():
    backend = MeasuringBackend()
    tracker = Tracker(backend=backend, config={"redetect": True, "lost_patience": 1, "lost_threshold": 0.5,
                                               "redetect_threshold": 0.5})
    tracker.init(scene((20, 20, 30, 30)), (20, 20, 30, 30))
    empty = np.full((240, 320, 3), 40, np.uint8)
    assert tracker.update(empty).lost
    found = None
    for _ in range(6):  # the search region grows until it covers the far corner
        result = tracker.update(scene((260, 180, 30, 30)))
        if not result.lost:
            found = result
            break
    assert found is not None and abs(found.box[0] - 260) <= 4 and abs(found.box[1] - 180) <= 4
    assert max(backend.calls) > 1  # tiles: several crops in one call


def test_many_box_targets_share_one_call():
    backend = MeasuringBackend()
    tracker = MultiTracker(backend=backend)
    image = scene((100, 80, 40, 40))
    image[150:190, 200:260] = 220
    tracker.add(image, (100, 80, 40, 40))
    tracker.add(image, (200, 150, 60, 40))
    backend.calls.clear()
    results = tracker.update(image)
    assert backend.calls == [2] and sorted(results) == [1, 2]
    other = MultiTracker(backend=backend)
    other.add(image, (100, 80, 40, 40))
    backend.calls.clear()
    update_streams([(tracker, image), (other, image)])
    assert backend.calls == [3]


@pytest.fixture(scope="module")
def tiny_box_file(tiny_box_weights, tmp_path_factory):
    from siamtrack.model.weights import save_weights

    return save_weights(tiny_box_weights, tmp_path_factory.mktemp("box") / "tiny-box.pth")


def textured(seed=0, size=(240, 320)):
    rng = np.random.default_rng(seed)
    import cv2

    return cv2.resize(rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3), dtype=np.uint8), size[::-1])


def track_boxes(frames, box, **tracker_args):
    tracker = Tracker(device="cpu", **tracker_args)
    tracker.init(frames[0], box)
    return np.array([tracker.update(frame).box for frame in frames[1:]])


def test_tiny_box_network_onnx_runtime_and_tensor_pipeline_give_the_opencv_boxes(tiny_box_file, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from siamtrack.export.onnx_export import export_onnx

    frames = [np.roll(textured(), shift, axis=1) for shift in range(0, 12, 2)]
    box = (120, 90, 50, 40)
    reference = track_boxes(frames, box, model=tiny_box_file, backend="torch", pipeline="opencv")
    tensor = track_boxes(frames, box, model=tiny_box_file, backend="torch", pipeline="tensor")
    folder = export_onnx(tiny_box_file, tmp_path / "tiny-box-onnx")
    runtime = track_boxes(frames, box, model=folder, backend="onnx")
    assert np.isfinite(reference).all()
    assert np.abs(tensor - reference).max() <= 0.5
    assert np.abs(runtime - reference).max() <= 0.5


def test_weights_info_reports_the_box_heads_cost(tiny_box_file, capsys):
    from siamtrack.cli import main

    assert main(["weights", "info", str(tiny_box_file)]) == 0
    out = capsys.readouterr().out
    assert "box head" in out and "head:           box" in out


def test_a_biased_box_head_is_calibrated_on_the_first_frame():
    class Biased(MeasuringBackend):  # measures every box 30 % too wide and 20 % too short
        def track(self, crops, kernels):
            maps = super().track(crops, kernels)
            maps[:, [2, 4]] *= 1.3
            maps[:, [3, 5]] *= 0.8
            return maps

    tracker = Tracker(backend=Biased(), config={"box_lr": 1.0, "box_penalty": 0.0, "box_window_influence": 0.0})
    tracker.init(scene((100, 80, 40, 40)), (100, 80, 40, 40))
    for _ in range(5):  # uncalibrated, the box would settle 1.3x too wide (and keep the crop's bias)
        result = tracker.update(scene((100, 80, 40, 40)))
    assert result.box[2] == pytest.approx(40, abs=1.5) and result.box[3] == pytest.approx(40, abs=1.5)
