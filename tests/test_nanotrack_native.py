"""NanoTrack v2's own files as a siamtrack model: both backends, the decoder, batching, the CLI."""

import cv2
import numpy as np
import pytest

from siamtrack import MultiTracker, Tracker
from siamtrack.backends import create_backend, model_format
from siamtrack.backends.nanotrack import is_nanotrack_folder
from siamtrack.config import load_config
from siamtrack.tracking.box_reader import read_box
from tests.conftest import DEV_DATA, SHARED

NANO = SHARED / "weights" / "nanotrack_v2"


@pytest.fixture(scope="module")
def nano():
    if not is_nanotrack_folder(NANO):
        pytest.skip(f"needs NanoTrack v2's graphs in {NANO}")
    pytest.importorskip("onnx")
    return NANO


def opencv_nano():
    params = cv2.TrackerNano_Params()
    params.backbone = str(NANO / "nanotrack_backbone_sim.onnx")
    params.neckhead = str(NANO / "nanotrack_head_sim.onnx")
    return cv2.TrackerNano.create(params)


def random_crops(count, side, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, side, side, 3), dtype=np.uint8)


def test_a_nanotrack_folder_is_its_own_model_format(nano, tmp_path):
    assert model_format(nano) == ("nanotrack",)
    (tmp_path / "nanotrack_head_sim.onnx").write_bytes(b"")
    assert not is_nanotrack_folder(tmp_path)  # one graph is not a NanoTrack folder


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_backends_return_nanotracks_maps_in_one_batched_call(nano, backend):
    from siamtrack.training.nanotrack import NanoTrackTeacher

    loaded = create_backend(backend, nano, device="cpu", threads=1)
    assert loaded.metadata.head == "nanotrack" and loaded.metadata.total_stride == 16
    exemplars, searches = random_crops(3, 127), random_crops(3, 255, seed=1)
    maps = np.asarray(loaded.track(searches, loaded.stack([loaded.template(e[None]) for e in exemplars])))
    assert maps.shape == (3, 6, 16, 16)
    probability, distances = NanoTrackTeacher(nano)(exemplars, searches)  # ONNX Runtime, one pair at a time
    softmax = 1 / (1 + np.exp(maps[:, 0] - maps[:, 1]))
    assert np.allclose(softmax, probability, atol=1e-4)
    assert np.allclose(maps[:, 2:], distances, rtol=1e-4, atol=1e-2)


def test_one_kernel_per_crop_is_required(nano):
    loaded = create_backend("onnx", nano)
    kernels = loaded.template(random_crops(2, 127))
    with pytest.raises(ValueError, match="one kernel per search crop"):
        loaded.track(random_crops(1, 255), kernels)


def test_without_a_config_a_nanotrack_model_tracks_with_trackernanos_settings(nano):
    tracker = Tracker(model=nano, backend="onnx")
    assert tracker.config == load_config("nanotrack")
    assert (tracker.config.box_window_influence, tracker.config.box_penalty, tracker.config.box_lr) == (0.455, 0.055,
                                                                                                        0.37)


def test_the_decoder_reads_nanotracks_layout_as_trackernano_does():
    """A hand-made map: the grid's center cell is 8 (not 7.5), the window is OpenCV's square-rooted Hann."""
    maps = np.zeros((6, 16, 16))
    maps[0] = 2.0  # background everywhere...
    maps[1, 8, 10] = 6.0  # ...but the target at row 8, column 10: two cells right of the center
    maps[2:] = 20.0  # a 40 x 40 px box around every cell
    reading = read_box(maps, 16, (40.0, 40.0), 0.0, 0.055, 0.37, layout="nanotrack")
    assert reading.offset == (32.0, 0.0)
    assert reading.score == pytest.approx(1 / (1 + np.exp(-4.0)))
    window = cv2.createHanningWindow((16, 16), cv2.CV_32F)
    flat = np.zeros((6, 16, 16))
    flat[2:] = 20.0
    windowed = read_box(flat, 16, (40.0, 40.0), 1.0, 0.0, 0.37, layout="nanotrack")
    row, col = np.unravel_index(int(np.argmax(window)), window.shape)
    assert windowed.cell == row * 16 + col


@pytest.mark.slow
@pytest.mark.parametrize("name", ["car1", "person11", "wakeboard4"])
def test_native_boxes_follow_opencvs_trackernano(nano, name):
    """The same maps decoded the same way: the two trackers' boxes overlap closely frame after frame
    (they differ by OpenCV's whole-pixel crops and boxes and its size penalty, which compares against
    the target's position where NanoTrack's own tracker uses its size)."""
    from siamtrack.datasets import load_dataset
    from siamtrack.evaluation.metrics import iou

    folder = DEV_DATA / name
    if not folder.is_dir():
        pytest.skip(f"needs {folder}")
    (sequence,) = load_dataset(folder)
    theirs, ours = opencv_nano(), Tracker(model=nano, backend="onnx", threads=1)
    overlaps = []
    for index, path in enumerate(sequence.frames[:60]):
        frame = cv2.imread(str(path))
        if index == 0:
            box = tuple(int(round(v)) for v in sequence.boxes[0])
            theirs.init(frame, box)
            ours.init(frame, box)
            continue
        _, expected = theirs.update(frame)
        overlaps.append(float(iou(np.array(expected, float)[None], np.array(ours.update(frame).box)[None])[0]))
    assert np.mean(overlaps) > 0.85 and min(overlaps) > 0.5


def test_many_targets_in_one_call_equal_lone_trackers(nano, clip):
    frames, boxes = clip
    together = MultiTracker(model=nano, backend="onnx", threads=1)
    starts = [tuple(boxes[0]), (10.0, 10.0, 30.0, 24.0), (90.0, 60.0, 28.0, 30.0)]
    ids = [together.add(frames[0], box).target_id for box in starts]
    alone = []
    for box in starts:
        tracker = Tracker(model=nano, backend="onnx", threads=1)
        tracker.init(frames[0], box)
        alone.append(tracker)
    for frame in frames[1:6]:
        results = together.update(frame)
        for target_id, tracker in zip(ids, alone):
            assert np.allclose(results[target_id].box, tracker.update(frame).box, atol=1e-3)


def test_the_cli_tracks_with_a_nanotrack_folder(nano, video, tmp_path):
    from siamtrack.cli import main

    results = tmp_path / "out.jsonl"
    assert main(["track", str(video), "--box", "60,40,30,30", "--model", str(nano), "--results", str(results),
                 "--quiet"]) == 0
    assert len(results.read_text().splitlines()) >= 10
    assert main(["weights", "info", str(nano)]) == 0
