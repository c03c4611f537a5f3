"""Detectors in the loop: targets started from detections, lost targets re-acquired by matching
detections with their own exemplar, and the events a pipeline sees, on a generated clip where the
target leaves through the right edge and comes back from the left."""

import json

import cv2
import numpy as np
import pytest

from siamtrack import MultiTracker
from siamtrack.app.events import EventLog
from siamtrack.app.loop import DetectorUse, run_tracking
from siamtrack.detection.detectors import Detections
from siamtrack.evaluation.metrics import iou
from siamtrack.io.sources import ImageFolderSource, SourceOptions
from tests.cli_helpers import siamtrack

WIDTH, HEIGHT, SIZE = 320, 240, 40
GONE = range(24, 40)  # frames in which the target is out of view


def clip(frames=64, seed=1):
    """Frames and true boxes (NaN while gone): right at 8 px/frame, out at the right edge, back from the left."""
    rng = np.random.default_rng(seed)
    background = cv2.GaussianBlur(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8), (0, 0), 3)
    target = cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    decoy = cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    images, boxes = [], []
    for index in range(frames):
        image = background.copy()
        image[180:180 + SIZE, 40:40 + SIZE] = decoy  # another object, always there
        if index in GONE:
            boxes.append((np.nan,) * 4)
        else:
            x = 100 + 8 * index if index < GONE.start else 8 * (index - GONE.stop)
            visible = slice(max(x, 0), min(x + SIZE, WIDTH))
            image[100:100 + SIZE, visible] = target[:, visible.start - x:visible.stop - x]
            boxes.append((x, 100, SIZE, SIZE))
        images.append(image)
    return images, np.array(boxes, dtype=float)


class TruthDetector:
    """A user's detector through the protocol: every visible object (the decoy, and the target when
    it is wholly in view), read off the clip's truth (frames are found by their pixels)."""

    def __init__(self, images, boxes):
        self.frames = {image.tobytes(): index for index, image in enumerate(images)}
        self.boxes = boxes

    def detect(self, frame):
        found = [(40, 180, SIZE, SIZE)]
        box = self.boxes[self.frames[frame.tobytes()]]
        if np.isfinite(box).all() and box[0] >= 0 and box[0] + SIZE <= WIDTH:
            found.append(tuple(box))
        return Detections(np.array(found, float), np.full(len(found), 0.9), np.array([1, 0][:len(found)]),
                          ("person", "decoy"))


def write_frames(tmp_path, images):
    folder = tmp_path / "frames"
    folder.mkdir(parents=True)
    for index, image in enumerate(images):
        cv2.imwrite(str(folder / f"{index:04d}.png"), image)
    return folder


def track_leaving_clip(tmp_path, reacquire):
    images, truth = clip()
    tracker = MultiTracker(device="cpu", config={"lost_patience": 3})
    with ImageFolderSource(write_frames(tmp_path / str(reacquire), images), SourceOptions()) as source, \
            EventLog() as events:
        run_tracking(source, tracker, [tuple(truth[0])], events=events,
                     detection=DetectorUse(TruthDetector(images, truth), start=False, reacquire=reacquire, every=2))
    found = [event.frame for event in events.events
             if event.event == "reacquired" and iou(np.array(event.box), truth[event.frame][None])[0] > 0.5]
    return events.events, (found[0] if found else None)


def test_a_target_that_leaves_and_comes_back_is_reacquired_from_detections(tmp_path):
    events, back = track_leaving_clip(tmp_path, reacquire=True)
    kinds = [event.event for event in events]
    assert kinds[0] == "started" and kinds[-1] == "ended"
    assert "left" in kinds  # lost after its last tracked box touched the right edge: it walked out of view
    left = next(event for event in events if event.event == "left")
    assert GONE.start - 2 <= left.frame <= GONE.start + 6 and left.box[0] + left.box[2] >= 316
    # Resumed on the target within a few frames of its return, never on the decoy the detector
    # also reports all along.
    assert back is not None and GONE.stop <= back <= GONE.stop + 6
    assert kinds.count("reacquired") == 1
    # Without detections the tracker waits where it lost the target, and finds it only if the
    # target happens to pass by.
    _, alone = track_leaving_clip(tmp_path, reacquire=False)
    assert alone is None or alone > back + 10


def test_the_loop_starts_targets_from_detections_and_writes_events(tmp_path):
    images, truth = clip()
    folder = write_frames(tmp_path, images)
    detector = TruthDetector(images, truth)
    tracker = MultiTracker(device="cpu")
    with ImageFolderSource(folder, SourceOptions()) as source, EventLog(path=tmp_path / "e.jsonl") as events:
        run_tracking(source, tracker, None, detection=DetectorUse(detector, max_targets=1), events=events)
    rows = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert rows[0]["event"] == "started" and rows[0]["class"] == "decoy"  # first detection of the list, score tie
    assert set(rows[0]) == {"event", "target", "frame", "time", "box", "score", "class"}
    assert rows[-1]["event"] == "ended"


def test_add_detections_all_most_confident_or_nearest():
    images, _ = clip()
    found = Detections(np.array([[10, 10, 40, 40], [150, 100, 40, 40], [250, 150, 40, 40]], float),
                       np.array([0.5, 0.9, 0.7]), np.array([0, 2, 1]))
    tracker = MultiTracker(device="cpu")
    assert [r.box[0] for r in tracker.add_detections(images[0], found)] == [150, 250, 10]  # best first
    assert tracker.target_class(1) == 2 and tracker.target_class(3) == 0
    tracker.clear()
    assert [r.box[0] for r in tracker.add_detections(images[0], found, max_targets=2)] == [150, 250]
    tracker.clear()
    assert [r.box[0] for r in tracker.add_detections(images[0], found, pick=(30, 30))] == [10]
    tracker.clear()
    assert [r.box[0] for r in tracker.add_detections(images[0], [(5, 5, 30, 30)])] == [5]


def test_a_detection_held_by_a_tracked_target_is_not_given_to_a_lost_one():
    images, truth = clip()
    tracker = MultiTracker(device="cpu", config={"lost_patience": 2})
    tracker.add(images[0], truth[0])  # leaves the view and gets lost
    tracker.add(images[0], (40, 180, SIZE, SIZE))  # the decoy: always in view, never lost
    for image in images[1:GONE.start + 8]:
        tracker.update(image)
    assert tracker.lost_ids() == [1]
    decoy = Detections(np.array([[40, 180, SIZE, SIZE]], float), np.ones(1), np.zeros(1, np.int64))
    assert tracker.reacquire(images[GONE.start + 8], decoy, threshold=0.0) == {}
    back = GONE.stop + 4
    both = Detections(np.array([[40, 180, SIZE, SIZE], truth[back]], float), np.ones(2), np.zeros(2, np.int64))
    resumed = tracker.reacquire(images[back], both, threshold=0.3)
    assert list(resumed) == [1] and resumed[1].box == pytest.approx(tuple(truth[back]))


def test_track_command_starts_from_an_onnx_detector(tmp_path):
    pytest.importorskip("onnx")
    from tests.test_detect import constant_detector

    images, truth = clip(frames=12)
    folder = write_frames(tmp_path, images)
    output = np.zeros((1, 4 + 1, 2))
    # The target in the letterboxed 640 x 640 input (scale 2, 80 px padding above and below).
    x, y = truth[0][:2]
    output[0, :, 0] = (2 * (x + SIZE / 2), 2 * (y + SIZE / 2) + 80, 2 * SIZE, 2 * SIZE, 0.95)
    output[0, :, 1] = (2 * 60, 2 * 200 + 80, 2 * SIZE, 2 * SIZE, 0.4)
    model = constant_detector(tmp_path / "det.onnx", output, names=["thing"])
    result = siamtrack("track", folder, "--detect", f"onnx:{model}", "--max-targets", "1", "--device", "cpu",
                       "--results", tmp_path / "r.jsonl", "--events", tmp_path / "e.jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert rows[0]["box"] == pytest.approx(list(truth[0]), abs=1.0) and {r["target"] for r in rows} == {1}
    events = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert events[0]["event"] == "started" and events[0]["class"] == "thing"


def test_track_command_options_need_detect(tmp_path):
    result = siamtrack("track", tmp_path, "--max-targets", "2", "--box", "1,1,5,5")
    assert result.returncode == 2 and "give --detect too" in result.stderr


class LateDetector:
    """Finds nothing on the first 6 frames, the decoy from frame 6 on, and a third object from frame 16."""

    def __init__(self, images):
        self.frames = {image.tobytes(): index for index, image in enumerate(images)}

    def detect(self, frame):
        index = self.frames[frame.tobytes()]
        found = [(40, 180, SIZE, SIZE)] if index >= 6 else []
        if index >= 16:
            found.append((220, 20, SIZE, SIZE))
        return Detections(np.array(found, float).reshape(-1, 4), np.full(len(found), 0.8), np.zeros(len(found), int))


def test_detection_goes_on_until_max_targets_run_and_the_video_keeps_every_frame(tmp_path):
    from siamtrack.io.outputs import ResultWriter, video_frames

    images, _ = clip(frames=30)
    folder = write_frames(tmp_path, images)
    tracker = MultiTracker(device="cpu")
    with ImageFolderSource(folder, SourceOptions()) as source, ResultWriter(tmp_path / "r.jsonl") as writer:
        summary = run_tracking(source, tracker, None, writers=[writer], video_path=str(tmp_path / "v.avi"),
                               detection=DetectorUse(LateDetector(images), max_targets=3, every=5))
    assert summary.frames == 30 and video_frames(tmp_path / "v.avi") == 30  # frames before any target too
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    starts = {target: min(r["frame"] for r in rows if r["target"] == target) for target in {r["target"] for r in rows}}
    # Detected on the detector's frames (every 5th): the decoy at frame 10, the third object at 20; the
    # limit is 3 but only two objects exist, so no target is started twice on one object.
    assert starts == {1: 10, 2: 20}


def test_left_is_where_the_target_was_last_at_the_border_though_the_box_drifted_back():
    from siamtrack.app.events import BORDER_WINDOW
    from siamtrack.results import TrackResult

    def run(xs):
        log = EventLog()
        for frame, x in enumerate(xs):
            lost = frame == len(xs) - 1
            log.observe(frame, frame / 30, {1: TrackResult((x, 100, 40, 40), 0.2 if lost else 0.9, lost, frame, 1)},
                        (WIDTH, HEIGHT))
        return [(event.event, event.frame, event.box[0]) for event in log.events]

    # At the right edge (279 + 40 >= 318) two frames before the flag, then drifting back in.
    assert run([200, 279, 270, 262, 262]) == [("started", 0, 200), ("left", 4, 279)]
    assert run([200, 250, 262, 262]) == [("started", 0, 200), ("lost", 3, 262)]
    # At the border longer ago than the window: not why it was lost.
    assert run([279] + [200] * BORDER_WINDOW + [200])[-1] == ("lost", BORDER_WINDOW + 1, 200)
