import csv
import json

import cv2
import numpy as np
import pytest

from siamtrack.app.annotate import annotate
from siamtrack.io.outputs import OutputError, ResultWriter, VideoSink
from siamtrack.results import TrackResult

RESULTS = [TrackResult((10.0, 20.5, 30.25, 40.0), 0.9, False, 0), TrackResult((11.0, 21.0, 30.0, 40.0), 0.2, True, 1)]


def write_all(path, format=None):
    with ResultWriter(path, format) as writer:
        for index, result in enumerate(RESULTS):
            writer.write(index * 2, index * 0.08, result)
    return path


def test_jsonl(tmp_path):
    rows = [json.loads(line) for line in write_all(tmp_path / "r.jsonl").read_text().splitlines()]
    assert rows[0] == {"frame": 0, "time": 0.0, "target": 1, "box": [10.0, 20.5, 30.25, 40.0], "score": 0.9,
                       "lost": False}
    assert rows[1]["frame"] == 2 and rows[1]["lost"] is True


def test_csv(tmp_path):
    rows = list(csv.DictReader(write_all(tmp_path / "r.csv").open()))
    assert len(rows) == 2 and rows[1]["lost"] == "1" and float(rows[0]["w"]) == 30.25


def test_mot_is_one_based(tmp_path):
    lines = write_all(tmp_path / "r.txt").read_text().splitlines()
    assert lines[0].split(",")[:6] == ["1", "1", "11.00", "21.50", "30.25", "40.00"]
    assert lines[1].split(",")[0] == "3" and lines[1].endswith("-1,-1,-1")


def test_explicit_format_and_unknown_extension(tmp_path):
    assert json.loads(write_all(tmp_path / "r.log", "jsonl").read_text().splitlines()[0])["frame"] == 0
    with pytest.raises(OutputError, match="results format"):
        ResultWriter(tmp_path / "r.log")


def test_rows_are_flushed_as_written_and_published_at_close(tmp_path):
    (tmp_path / "r.jsonl").write_text("earlier\n")
    writer = ResultWriter(tmp_path / "r.jsonl")
    writer.write(0, 0.0, RESULTS[0])
    # Visible before close, in the temporary file; the earlier file stays until the run ends.
    assert len((tmp_path / ".r.part.jsonl").read_text().splitlines()) == 1
    assert (tmp_path / "r.jsonl").read_text() == "earlier\n"
    writer.close()
    writer.close()
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 1 and not (tmp_path / ".r.part.jsonl").exists()


def test_nothing_written_replaces_nothing(tmp_path):
    (tmp_path / "r.csv").write_text("earlier\n")
    (tmp_path / "v.mp4").write_bytes(b"earlier")
    ResultWriter(tmp_path / "r.csv").close()
    VideoSink(tmp_path / "v.mp4", 25, (32, 32)).close()
    assert (tmp_path / "r.csv").read_text() == "earlier\n" and (tmp_path / "v.mp4").read_bytes() == b"earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "v.mp4"]


@pytest.mark.parametrize("name", ["missing/r.jsonl", "missing/v.mp4"])
def test_missing_folder(tmp_path, name):
    with pytest.raises(OutputError, match="does not exist"):
        (VideoSink(tmp_path / name, 25, (32, 32)) if name.endswith("mp4") else ResultWriter(tmp_path / name))


def test_video_sink_round_trip(tmp_path):
    with VideoSink(tmp_path / "v.mp4", 20, (64, 48)) as sink:
        for _ in range(7):
            sink.write(np.zeros((48, 64, 3), np.uint8))
        with pytest.raises(OutputError, match="64x48"):
            sink.write(np.zeros((40, 64, 3), np.uint8))
    capture = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 7
    with pytest.raises(OutputError, match=r"use \.mp4, \.m4v, \.mov, \.avi or \.mkv"):
        VideoSink(tmp_path / "v.gif", 20, (64, 48))


def test_annotate_draws_without_touching_the_input():
    frame = np.zeros((100, 100, 3), np.uint8)
    drawn = annotate(frame, RESULTS[0], label="1", fps=12.5)
    assert frame.max() == 0 and drawn.max() > 0
    assert (drawn[20:60, 10] == (0, 220, 0)).all(axis=1).any()  # green left edge while tracking
    lost = annotate(frame, RESULTS[1])
    assert (lost[21:61, 11] == (0, 0, 255)).all(axis=1).any()  # red when lost
    annotate(frame, RESULTS[0], in_place=True)
    assert frame.max() > 0


WRITE_UNTIL_KILLED = """
import sys, time
import numpy as np
from siamtrack.io.outputs import VideoSink
sink = VideoSink(sys.argv[1], 25.0, (320, 240))
for index in range(300):
    image = np.full((240, 320, 3), index % 250, np.uint8)
    image[::7, :, 2] = 255 - index % 250  # some detail, so frames are not trivially small
    sink.write(image)
print("written", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("suffix", [".mkv", ".avi"])
def test_killed_recording_stays_playable_and_is_kept_by_the_next_run(tmp_path, suffix, caplog):
    import subprocess
    import sys

    path = tmp_path / f"live{suffix}"
    writer = subprocess.Popen([sys.executable, "-c", WRITE_UNTIL_KILLED, str(path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert writer.stdout.readline().strip() == "written"
    finally:
        writer.kill()  # SIGKILL: no handler runs, the file is never finalised
        writer.wait(timeout=10)
    partial = tmp_path / f".live.part{suffix}"
    assert not path.exists() and partial.exists()
    capture = cv2.VideoCapture(str(partial))
    readable = 0
    while capture.read()[0]:
        readable += 1
    assert readable >= 150, readable  # all but what was still in the writer's buffer
    with caplog.at_level("WARNING", logger="siamtrack.io.outputs"):
        VideoSink(path, 25.0, (320, 240)).close()  # the next run with the same output
    (kept,) = tmp_path.glob(f"live.recovered-*{suffix}")
    assert "killed" in caplog.text and not partial.exists()
    assert kept.stat().st_size > 0
