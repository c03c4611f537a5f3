import threading
import time

import cv2
import numpy as np
import pytest

from siamtrack.errors import InputError
from siamtrack.io.outputs import VideoSink
from siamtrack.io.sources import LiveSource, SourceError, SourceOptions, describe_spec, frames, open_source


def write_video(path, count=12, size=(64, 48)):
    with VideoSink(path, 25.0, size) as sink:
        for index in range(count):
            sink.write(np.full((size[1], size[0], 3), index * 20, np.uint8))
    return path


def write_folder(path, count=5):
    path.mkdir()
    for index in range(count):
        cv2.imwrite(str(path / f"{index:03d}.png"), np.full((10, 12, 3), index, np.uint8))
    (path / "notes.txt").write_text("not an image")
    return path


@pytest.mark.parametrize("spec, kind", [(0, "camera"), ("2", "camera"), ("rtsp://cam/stream", "stream"),
                                        ("http://host/video.mjpg", "stream"), ("clip.mp4", "file")])
def test_describe_spec(spec, kind):
    assert describe_spec(spec) == kind


def test_video_file_reads_every_frame(tmp_path):
    path = write_video(tmp_path / "v.avi")
    with open_source(path) as source:
        assert source.kind == "file" and not source.live and source.fps == pytest.approx(25.0)
        got = list(source)
    assert [f.index for f in got] == list(range(12))
    assert got[5].timestamp == pytest.approx(5 / 25.0)
    assert source.frame_count == 12 and source.dropped == 0


@pytest.mark.parametrize("options, expected", [
    (SourceOptions(start=3), list(range(3, 12))),
    (SourceOptions(stride=4), [0, 4, 8]),
    (SourceOptions(start=2, stride=3, end=9), [2, 5, 8]),
])
def test_start_stride_end(tmp_path, options, expected):
    video = write_video(tmp_path / "v.avi")
    folder = write_folder(tmp_path / "f", count=12)
    for spec in (video, folder):
        with open_source(spec, options) as source:
            assert [f.index for f in source] == expected
            assert source.frame_count == len(expected)


def test_folder_reads_images_in_order(tmp_path):
    got = list(frames(write_folder(tmp_path / "f")))
    assert [int(f.image[0, 0, 0]) for f in got] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.mp4", "not found"),
    (lambda p: (p / "junk.mp4").write_bytes(b"\x00" * 1000) or p / "junk.mp4", "cannot open"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "no images"),
])
def test_unreadable_sources(tmp_path, make, message):
    with pytest.raises(SourceError, match=message):
        open_source(make(tmp_path))


@pytest.mark.parametrize("kwargs", [{"stride": 0}, {"start": -1}, {"start": 5, "end": 5}])
def test_bad_options(kwargs):
    with pytest.raises(InputError):
        SourceOptions(**kwargs)


class FakeCamera:
    """A camera delivering a numbered frame every ``period`` seconds; frame number in pixels."""

    def __init__(self, period=0.002, fail_after=None):
        self.period = period
        self.fail_after = fail_after
        self.delivered = 0
        self.open = True

    def isOpened(self):
        return self.open

    def read(self):
        if self.fail_after is not None and self.delivered >= self.fail_after:
            time.sleep(self.period)
            return False, None
        time.sleep(self.period)
        image = np.zeros((8, 8, 3), np.uint8)
        image[0, 0, 0], image[0, 0, 1] = self.delivered % 256, self.delivered // 256
        self.delivered += 1
        return True, image

    def get(self, prop):
        return 0.0

    def set(self, prop, value):
        return False

    def release(self):
        self.open = False


def number_of(frame):
    return int(frame.image[0, 0, 0]) + 256 * int(frame.image[0, 0, 1])


def test_live_source_stays_on_the_newest_frame_and_counts_drops():
    camera = FakeCamera(period=0.002)
    source = LiveSource("fake camera", lambda: camera, SourceOptions(end=400))
    received, lag = [], []
    with source:
        for frame in source:
            lag.append(camera.delivered - 1 - number_of(frame))  # how far behind the camera
            received.append(frame.index)
            time.sleep(0.02)  # a consumer ten times slower than the camera
    assert received == sorted(set(received)), "frames come in order, each once"
    assert len(received) < 100 and source.dropped > 250
    assert len(received) + source.dropped >= 395  # every frame is either used or counted as dropped
    assert np.median(lag) <= 2, f"consumer works on old frames: lags {lag[:20]}"


def test_live_source_reconnects_after_a_failure():
    cameras = [FakeCamera(fail_after=5), FakeCamera()]
    opened = []

    def open_next():
        opened.append(1)
        return cameras[min(len(opened) - 1, 1)]

    source = LiveSource("flaky stream", open_next, SourceOptions(end=30, reconnect_timeout=5.0))
    with source:
        got = [number_of(f) for f in source]
    assert len(opened) == 2 and source.failure is None
    assert got and got[-1] > 5  # frames from the second connection arrived


def test_live_source_gives_up_after_timeout():
    dead = FakeCamera(fail_after=3)
    source = LiveSource("dying stream", lambda: dead if dead.delivered < 3 else FakeCamera(fail_after=0),
                        SourceOptions(reconnect_timeout=0.5))
    began = time.monotonic()
    with source:
        list(source)
    assert time.monotonic() - began < 5
    assert "giving up" in source.failure


def test_camera_that_does_not_open():
    closed = FakeCamera()
    closed.open = False
    with pytest.raises(SourceError, match="cannot open dead camera"):
        LiveSource("dead camera", lambda: closed)


def test_reader_thread_stops_on_close():
    source = LiveSource("fake", lambda: FakeCamera(period=0.001))
    next(iter(source))
    source.close()
    assert not any(t.name == "siamtrack-reader" and t.is_alive() for t in threading.enumerate())


class HangingCamera(FakeCamera):
    """Delivers ``frames`` frames, then blocks inside read() (a stream that stops sending)."""

    def __init__(self, frames):
        super().__init__(period=0.002)
        self.frames = frames
        self.unblock = threading.Event()

    def read(self):
        if self.delivered >= self.frames:
            self.unblock.wait(30)
            return False, None
        return super().read()


def test_a_read_that_never_returns_ends_the_source_in_bounded_time():
    camera = HangingCamera(frames=3)
    source = LiveSource("hanging camera", lambda: camera, SourceOptions(reconnect_timeout=0.5))
    began = time.monotonic()
    with source:
        got = list(source)
    elapsed = time.monotonic() - began
    camera.unblock.set()
    assert got and "no frame for 3 s (stalled stream)" in source.failure
    assert elapsed < source.stall_limit + 2.5  # the stall limit plus close()'s one-second join


def test_a_host_that_accepts_and_never_answers_fails_to_open_in_bounded_time():
    from tests.stream_server import StreamServer

    with StreamServer(frames=0) as server:
        began = time.monotonic()
        with pytest.raises(SourceError, match="cannot open"):
            open_source(server.url, SourceOptions(reconnect_timeout=1.0))
        assert time.monotonic() - began < 10
