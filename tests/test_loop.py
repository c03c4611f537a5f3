"""The capture loop with scripted sources, displays and backends."""

import json
import time

import numpy as np
import pytest

from siamtrack import MultiTracker, Tracker
from siamtrack.app.loop import run_tracking
from siamtrack.errors import InputError
from siamtrack.io.outputs import ResultWriter
from siamtrack.io.sources import Frame, FrameSource, LiveSource, SourceError, SourceOptions
from tests.test_sources import FakeCamera, number_of
from tests.test_tracker import ScriptedBackend, peak_map


def slow_tracker(seconds=0.0):
    def respond(n):
        time.sleep(seconds)
        return np.stack([peak_map()] * n)

    return Tracker(backend=ScriptedBackend(respond))


class ListSource(FrameSource):
    def __init__(self, images, fail_at=None):
        super().__init__("list")
        self.images = images
        self.fail_at = fail_at
        self.fps = 10.0

    def __iter__(self):
        for index, image in enumerate(self.images):
            if index == self.fail_at:
                raise KeyboardInterrupt
            yield Frame(index, index / 10.0, image)


class ScriptedDisplay:
    def __init__(self, keys, selections=()):
        self.keys = list(keys)
        self.selections = list(selections)
        self.shown = 0

    def show(self, image):
        self.shown += 1
        return self.keys.pop(0) if self.keys else -1

    def select_roi(self, image):
        return self.selections.pop(0) if self.selections else None

    def close(self):
        pass


def images(count=10):
    return [np.full((60, 80, 3), 100, np.uint8) for _ in range(count)]


def test_live_source_faster_than_tracker_stays_current_and_reports_drops(tmp_path):
    camera = FakeCamera(period=0.002)  # 500 fps camera
    live = LiveSource("fake camera", lambda: camera, SourceOptions(end=300))
    taken = []  # (frame number, newest frame the camera had made) when the loop takes a frame

    class Watched(FrameSource):
        live = True

        def __init__(self):
            super().__init__("watched")

        def __iter__(self):
            for frame in live:
                taken.append((number_of(frame), camera.delivered - 1))
                self.dropped = live.dropped
                yield frame

    source = Watched()
    with live, ResultWriter(tmp_path / "r.jsonl") as writer:
        summary = run_tracking(source, slow_tracker(0.02), (2, 2, 4, 4), [writer])  # ~50 fps tracker
    assert summary.dropped > 150 and summary.dropped == live.dropped
    assert summary.tracked + summary.dropped >= 295
    numbers = [number for number, _ in taken]
    assert numbers == sorted(set(numbers))
    # Each frame the tracker starts on is (nearly) the newest the camera has made, although the
    # camera makes ten frames for every one the tracker handles.
    lags = [newest - number for number, newest in taken]
    assert np.median(lags) <= 2, lags[:20]
    rows = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(rows) == summary.tracked == len(taken)


def test_interrupt_leaves_valid_outputs(tmp_path):
    source = ListSource(images(10), fail_at=6)
    with pytest.raises(KeyboardInterrupt):
        with ResultWriter(tmp_path / "r.jsonl") as writer:
            run_tracking(source, slow_tracker(), (20, 20, 20, 20), [writer], str(tmp_path / "v.avi"))
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in rows] == list(range(6))
    import cv2

    capture = cv2.VideoCapture(str(tmp_path / "v.avi"))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 6


def test_empty_source_is_an_error():
    with pytest.raises(SourceError, match="no frames"):
        run_tracking(ListSource([]), slow_tracker(), (1, 1, 2, 2))


def test_keys_quit_reset_and_reselect(tmp_path):
    display = ScriptedDisplay(keys=[-1, ord("r"), -1, ord(" "), -1, ord("q")], selections=[(30, 30, 10, 10)])
    with ResultWriter(tmp_path / "r.jsonl") as writer:
        summary = run_tracking(ListSource(images(10)), slow_tracker(), (20, 20, 20, 20), [writer], display=display)
    assert summary.ended_by == "user" and summary.frames == 6
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    # Tracked frames 0-1; reset at 1 -> frames 2-3 untracked; re-selected at 3 -> tracked 4-5.
    assert [r["frame"] for r in rows] == [0, 1, 4, 5]
    assert rows[2]["box"] == pytest.approx([30, 30, 10, 10], abs=0.5)


def test_selection_without_box_and_cancel():
    summary = run_tracking(ListSource(images(3)), slow_tracker(), None, display=ScriptedDisplay([]))
    assert summary.ended_by == "cancelled" and summary.tracked == 0
    chosen = run_tracking(ListSource(images(3)), slow_tracker(), None,
                          display=ScriptedDisplay([], selections=[(5, 5, 10, 10)]))
    assert chosen.tracked == 3 and chosen.ended_by == "end"


@pytest.mark.parametrize("boxes, targets", [
    (np.array([20, 20, 20, 20], np.int64), 1),  # one box as a NumPy row (e.g. from a detector)
    ((np.float32(20), np.int32(20), 20.0, 20), 1),  # NumPy scalars mixed with Python numbers
    (np.array([[20, 20, 20, 20], [40, 30, 10, 10]], np.float32), 2),
])
def test_boxes_may_be_numpy(boxes, targets, tmp_path):
    with ResultWriter(tmp_path / "r.jsonl") as writer:
        summary = run_tracking(ListSource(images(3)), MultiTracker(backend=ScriptedBackend(
            lambda n: np.stack([peak_map()] * n))), boxes, [writer])
    assert summary.tracked == 3
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 3 * targets


@pytest.mark.parametrize("boxes", [(1, 2, 3), [[1, 2, 3, 4], [1, 2]], "1,2,3,4"])
def test_malformed_boxes_are_an_input_error(boxes):
    with pytest.raises(InputError, match="boxes must be"):
        run_tracking(ListSource(images(3)), slow_tracker(), boxes)


@pytest.mark.parametrize("name, warned", [("live.mp4", True), ("live.mkv", False)])
def test_recording_a_live_source_to_mp4_warns(tmp_path, caplog, name, warned):
    class LiveList(ListSource):
        live = True

    with caplog.at_level("WARNING", logger="siamtrack.app.loop"):
        run_tracking(LiveList(images(3)), slow_tracker(), (20, 20, 20, 20), video_path=tmp_path / name)
    assert ("a .mkv file stays playable" in caplog.text) == warned
    assert (tmp_path / name).exists()
