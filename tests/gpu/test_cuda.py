"""The CUDA paths against the CPU ones on the same inputs: the torch backend (fp32 and fp16), the
tensor pipeline with and without CUDA graphs (SiamFC and box-head models, several targets), and
training. Every test here needs a CUDA GPU and skips without one (CI has none); the note of the
run that last passed them names the GPU."""

import csv
import logging

import cv2
import numpy as np
import pytest
import torch

from siamtrack import MultiTracker
from siamtrack.backends.torch_backend import TorchBackend
from siamtrack.model.builtin import PROJECT_WEIGHTS_DIR
from siamtrack.tracking.crops import crop_regions

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on this machine)")

DEFAULT_WEIGHTS = PROJECT_WEIGHTS_DIR / "siamtrack-default.pth"


def dev_frames(dev_data, name, count):
    from siamtrack.datasets import load_dataset

    sequence = next(s for s in load_dataset(dev_data) if s.name == name)
    return [cv2.imread(str(p)) for p in sequence.frames[:count]], tuple(float(v) for v in sequence.boxes[0])


def context_crops(frame, box, exemplar=127, instance=255):
    """An exemplar and a search crop around ``box`` with SiamFC's context (half the box's perimeter)."""
    x, y, w, h = box
    center = (x + w / 2, y + h / 2)
    pad = (w + h) / 2
    side = float(np.sqrt((w + pad) * (h + pad)))
    color = frame.reshape(-1, 3).mean(axis=0)
    return (crop_regions(frame, [center], [side], exemplar, color),
            crop_regions(frame, [center], [side * instance / exemplar], instance, color))


@pytest.mark.parametrize("half, tolerance", [(False, 1e-2), (True, 2e-2)])
def test_cuda_responses_match_the_cpu_on_real_crops(dev_data, half, tolerance):
    # The CPU runs fp32; CUDA runs fp32 with cuDNN's TF32 convolutions (PyTorch's default, ~1e-3
    # relative) or fp16 through autocast (the default on CUDA). Tolerances are relative to the
    # response's range; the peak must stay in the same cell.
    frames, box = dev_frames(dev_data, "Crossing", 1)
    exemplar, search = context_crops(frames[0], box)
    cpu = TorchBackend(DEFAULT_WEIGHTS, device="cpu", cpu_graph="eager")
    cuda = TorchBackend(DEFAULT_WEIGHTS, device="cuda", half=half)
    expected = cpu.track(search, cpu.template(exemplar))
    actual = cuda.track(search, cuda.template(exemplar))
    assert actual.shape == expected.shape and actual.dtype == np.float32
    spread = float(expected.max() - expected.min())
    error = float(np.abs(actual - expected).max()) / spread
    assert error <= tolerance, f"largest difference {error:.2e} of the response's range"
    assert np.unravel_index(actual.argmax(), actual.shape) == np.unravel_index(expected.argmax(), expected.shape)


def track(tracker, frames, boxes):
    ids = [tracker.add(frames[0], box).target_id for box in boxes]
    history = [tracker.update(frame) for frame in frames[1:]]
    return np.array([[history[i][t].box for t in ids] for i in range(len(history))])


@pytest.mark.parametrize("config", ["siamfc-3s", "single-pass"])
def test_cuda_tensor_pipeline_follows_the_cpu_on_dev(dev_data, config):
    # fp32 on the device (TF32 convolutions) against the CPU's OpenCV pipeline, three targets in one
    # batch: the same agreement the CPU tensor pipeline has (tests/gpu/test_tensor_pipeline.py).
    frames, box = dev_frames(dev_data, "Crossing", 40)
    boxes = [box, (box[0] + 3, box[1] + 3, box[2], box[3]), (box[0] - 2, box[1] - 2, box[2] * 1.2, box[3] * 1.2)]
    reference = track(MultiTracker(model=DEFAULT_WEIGHTS, backend="torch", device="cpu", config=config,
                                   pipeline="opencv"), frames, boxes)
    backend = TorchBackend(DEFAULT_WEIGHTS, device="cuda", half=False)
    tracked = track(MultiTracker(backend=backend, config=config, pipeline="tensor"), frames, boxes)
    difference = np.abs(tracked - reference).max(axis=(1, 2))
    assert difference.max() <= 4 and difference[-1] <= 2, f"largest differences per frame {difference.round(2)}"


def test_fp16_on_cuda_keeps_the_targets_of_fp32(dev_data):
    frames, box = dev_frames(dev_data, "Crossing", 60)
    boxes = {}
    for half in (False, True):
        backend = TorchBackend(DEFAULT_WEIGHTS, device="cuda", half=half)
        boxes[half] = track(MultiTracker(backend=backend, pipeline="tensor"), frames, [box])[:, 0]
    centers = {half: b[:, :2] + b[:, 2:] / 2 for half, b in boxes.items()}
    drift = np.linalg.norm(centers[True] - centers[False], axis=1)
    assert drift.max() <= 4, f"largest center difference {drift.max():.2f} px"


def test_cuda_graphs_replay_the_eager_step_as_targets_come_and_go(dev_data, caplog):
    frames, box = dev_frames(dev_data, "Crossing", 30)
    results, captures = {}, {}
    for graphs in (False, True):
        tracker = MultiTracker(model=DEFAULT_WEIGHTS, backend="torch", device="cuda", cuda_graphs=graphs)
        assert tracker.pipeline == "tensor"
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="siamtrack.tracking.device.pipeline"):
            first = tracker.add(frames[0], box).target_id
            rows = [tracker.update(frame)[first].box for frame in frames[1:10]]
            second = tracker.add(frames[9], (box[0] + 3, box[1] + 3, box[2], box[3])).target_id  # another layout
            rows += [tracker.update(frame)[second].box for frame in frames[10:20]]
            tracker.remove(first)  # one target again: the first layout's graph, replayed with new kernels
            rows += [tracker.update(frame)[second].box for frame in frames[20:]]
        results[graphs] = np.array(rows)
        captures[graphs] = sum("captured the per-frame step" in r.getMessage() for r in caplog.records)
    assert captures == {False: 0, True: 2}
    assert np.abs(results[True] - results[False]).max() <= 0.5


def test_a_box_head_model_on_the_cuda_tensor_pipeline_draws_the_cpu_boxes(tiny_box_weights):
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), (320, 240))
    frames = [np.roll(base, shift, axis=1) for shift in range(0, 24, 2)]
    box = (120.0, 90.0, 50.0, 40.0)
    reference = track(MultiTracker(model=tiny_box_weights, backend="torch", device="cpu", pipeline="opencv"),
                      frames, [box])
    for graphs in (False, True):
        backend = TorchBackend(tiny_box_weights, device="cuda", half=False)
        tracked = track(MultiTracker(backend=backend, pipeline="tensor", cuda_graphs=graphs), frames, [box])
        assert np.abs(tracked - reference).max() <= 0.5, f"cuda_graphs={graphs}"


def test_training_on_cuda_logs_and_writes_a_model_the_cpu_tracker_loads(tmp_path):
    from siamtrack import Tracker
    from siamtrack.training.trainer import LOG_NAME, train
    from tests.training.test_trainer import make_sequences, tiny_config

    data = make_sequences(tmp_path / "data")
    model = train(tiny_config(data, epochs=1, head="box", head_width=8), tmp_path / "run", device="cuda",
                  show_progress=False, log=lambda message: None)
    rows = list(csv.DictReader((tmp_path / "run" / LOG_NAME).open()))
    assert len(rows) == 1 and np.isfinite(float(rows[0]["validation_loss"]))
    tracker = Tracker(model=model, device="cpu")
    frame = cv2.imread(str(data / "A" / "img" / "0001.jpg"))
    tracker.init(frame, (50, 40, 40, 30))
    assert np.isfinite(tracker.update(frame).box).all()


def test_loss_terms_with_nanotrack_as_teacher_are_the_same_on_cuda():
    from siamtrack.training.nanotrack import NanoTrackTeacher
    from siamtrack.training.objective import ClassTeacher, Signals, pair_losses
    from tests.training.test_step import box_student, fixed_batch, nanotrack_folder

    teacher = NanoTrackTeacher(nanotrack_folder())
    student = box_student()
    batch = fixed_batch()
    signals = Signals(class_teacher=ClassTeacher(teacher, weight=1.0, box_weight=3.0))
    with torch.no_grad():
        expected = pair_losses(student, *batch, signals)
        actual = pair_losses(student.cuda(), *(t.cuda() for t in batch), signals)
    assert set(actual) == set(expected) >= {"class_teacher", "box_teacher"}
    for name, value in expected.items():
        assert float(actual[name]) == pytest.approx(float(value), rel=1e-3, abs=1e-4), name


def test_nanotracks_own_graphs_on_cuda_follow_the_cpu(dev_data):
    """NanoTrack's published graphs through torch on CUDA (tensor pipeline, with and without CUDA graphs)
    against ONNX Runtime on the CPU, three targets in one batch."""
    from tests.conftest import SHARED

    folder = SHARED / "weights" / "nanotrack_v2"
    if not (folder / "nanotrack_head_sim.onnx").is_file():
        pytest.skip(f"needs {folder}")
    frames, box = dev_frames(dev_data, "Crossing", 40)
    boxes = [box, (box[0] + 3, box[1] + 3, box[2], box[3]), (box[0] - 2, box[1] - 2, box[2] * 1.2, box[3] * 1.2)]
    reference = track(MultiTracker(model=folder, backend="onnx"), frames, boxes)
    for graphs in (False, True):
        backend = TorchBackend(folder, device="cuda", half=False)
        tracked = track(MultiTracker(backend=backend, pipeline="tensor", cuda_graphs=graphs), frames, boxes)
        difference = np.abs(tracked - reference).max(axis=(1, 2))
        assert difference.max() <= 4, f"cuda_graphs={graphs}: largest differences per frame {difference.round(2)}"
