"""``siamtrack track`` and ``siamtrack demo`` run as a user would, on generated video files."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from siamtrack.io.outputs import VideoSink
from tests.cli_helpers import CLIP, SIAMTRACK_WITH_CTRL_C, box_text, siamtrack


def count_frames(path):
    capture = cv2.VideoCapture(str(path))
    count, size = 0, None
    while True:
        ok, frame = capture.read()
        if not ok:
            return count, size
        count, size = count + 1, frame.shape


def test_all_outputs(tmp_path, video, model, clip):
    result = siamtrack("track", video, "--box", box_text(clip), "--model", model, "--device", "cpu",
                       "--results", tmp_path / "r.jsonl", "--results", tmp_path / "r.csv",
                       "--results", tmp_path / "r.txt", "--output", tmp_path / "out.mp4")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in rows] == list(range(CLIP.frames))
    assert all(len(r["box"]) == 4 and 0 <= r["score"] <= 1 and isinstance(r["lost"], bool) for r in rows)
    assert rows[0]["box"] == pytest.approx(list(clip[1][0]), abs=0.01)
    assert len(list(csv.DictReader((tmp_path / "r.csv").open()))) == CLIP.frames
    mot = (tmp_path / "r.txt").read_text().splitlines()
    assert len(mot) == CLIP.frames and mot[0].startswith("1,1,")
    assert count_frames(tmp_path / "out.mp4") == (CLIP.frames, (CLIP.height, CLIP.width, 3))
    assert "tracked 16 of 16 frames" in result.stderr and "wrote" in result.stderr
    assert f"tracker: backend torch on cpu, model {model}, pyramid scale search" in result.stderr


def test_start_stride_and_quiet(tmp_path, video, model, clip):
    result = siamtrack("track", video, "--box", box_text(clip), "--model", model, "--device", "cpu",
                       "--results", tmp_path / "r.jsonl", "--start", 2, "--stride", 3, "--end", 12, "--quiet")
    assert result.returncode == 0 and result.stderr == ""
    assert [json.loads(line)["frame"] for line in (tmp_path / "r.jsonl").read_text().splitlines()] == [2, 5, 8, 11]


def test_image_folder_source(tmp_path, model, clip):
    folder = tmp_path / "frames"
    folder.mkdir()
    for index, frame in enumerate(clip[0][:5]):
        cv2.imwrite(str(folder / f"{index:04d}.png"), frame)
    result = siamtrack("track", folder, "--box", box_text(clip), "--model", model, "--device", "cpu",
                       "--results", tmp_path / "r.csv")
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 6  # header + 5


def test_file_that_ends_early_leaves_valid_outputs(tmp_path, video, model, clip):
    data = video.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    readable, _ = count_frames(cut)
    assert 0 < readable < CLIP.frames
    result = siamtrack("track", cut, "--box", box_text(clip), "--model", model, "--device", "cpu",
                       "--results", tmp_path / "r.jsonl", "--output", tmp_path / "out.avi")
    assert result.returncode == 0, result.stderr
    assert f"ended after {readable} frames, before the {CLIP.frames} its header announces" in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(rows) == readable
    assert count_frames(tmp_path / "out.avi")[0] == readable


BAD_INPUTS = [
    ("missing file", lambda p, v: [p / "nope.mp4", "--box", "1,1,5,5"], "not found"),
    ("corrupt video", lambda p, v: [p / "junk.mp4", "--box", "1,1,5,5"], "cannot open"),
    ("box outside frame", lambda p, v: [v, "--box", "500,500,10,10"], "outside"),
    ("empty box", lambda p, v: [v, "--box", "10,10,0,10"], "positive"),
    ("bad box text", lambda p, v: [v, "--box", "10,10,ten,10"], "x,y,w,h"),
    ("three numbers", lambda p, v: [v, "--box", "10,10,10"], "x,y,w,h"),
    ("unwritable results", lambda p, v: [v, "--box", "1,1,5,5", "--results", p / "no" / "r.jsonl"], "does not exist"),
    ("unwritable video", lambda p, v: [v, "--box", "1,1,5,5", "--output", p / "no" / "o.mp4"], "does not exist"),
    ("unknown results type", lambda p, v: [v, "--box", "1,1,5,5", "--results", p / "r.xyz"], "results format"),
    ("no box and no display", lambda p, v: [v], "no --box"),
    ("show without display", lambda p, v: [v, "--box", "1,1,5,5", "--show"], "display"),
    ("bad stride", lambda p, v: [v, "--box", "1,1,5,5", "--stride", "0"], "stride"),
    ("unknown config key", lambda p, v: [v, "--box", "1,1,5,5", "--config", p / "cfg.json"], "unknown tracker config"),
    ("missing model", lambda p, v: [v, "--box", "1,1,5,5", "--model", p / "none.pth"], "not found"),
    ("dead camera", lambda p, v: ["7", "--box", "1,1,5,5"], "cannot open camera 7"),
    ("absurd box", lambda p, v: [v, "--box", "0,0,1e200,1e200"], "more than 2 times"),
    ("sub-pixel box", lambda p, v: [v, "--box", "10,10,0.001,10"], "at least 1 pixel"),
    ("zero threads", lambda p, v: [v, "--box", "1,1,5,5", "--threads", "0"], "whole number >= 1"),
    ("negative threads", lambda p, v: [v, "--box", "1,1,5,5", "--threads", "-2"], "whole number >= 1"),
    ("output is the source", lambda p, v: [v, "--box", "1,1,5,5", "--output", v], "overwrite the source"),
    ("results twice", lambda p, v: [v, "--box", "1,1,5,5", "--results", p / "kept.jsonl"], "named twice"),
]


@pytest.mark.parametrize("name, make_args, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_inputs_exit_2_with_one_line(tmp_path, video, model, name, make_args, message):
    (tmp_path / "junk.mp4").write_bytes(os.urandom(2048))
    (tmp_path / "cfg.json").write_text('{"scale_rate": 1}')
    args = make_args(tmp_path, video)
    if "--model" not in args:
        args += ["--model", model]
    (tmp_path / "kept.jsonl").write_text("earlier results\n")
    before = video.read_bytes()
    result = siamtrack("track", *args, "--device", "cpu", "--results", tmp_path / "kept.jsonl")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("siamtrack: error:"), result.stderr
    assert message in lines[0]
    # A failed run destroys nothing: earlier outputs and the source are as they were, no leftovers.
    assert (tmp_path / "kept.jsonl").read_text() == "earlier results\n" and video.read_bytes() == before
    assert not list(tmp_path.glob(".*.part.*"))


def test_box_starting_left_of_the_frame(tmp_path, video, model):
    result = siamtrack("track", video, "--box", "-5,10,30,30", "--model", model, "--device", "cpu",
                       "--results", tmp_path / "r.jsonl")
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == CLIP.frames


@pytest.mark.parametrize("signal_name, code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_terminating_signals_finalise_outputs(tmp_path, model, clip, signal_name, code):
    import signal
    import time

    frames, boxes = clip
    path = tmp_path / "long.avi"
    with VideoSink(path, 25.0, (CLIP.width, CLIP.height)) as sink:
        for _ in range(60):
            for frame in frames:
                sink.write(frame)
    (tmp_path / "out.mp4").write_bytes(b"an earlier video")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen([sys.executable, "-m", "siamtrack.cli", "track", str(path), "--box", box_text(clip),
                                "--model", str(model), "--device", "cpu", "--results", str(tmp_path / "r.jsonl"),
                                "--output", str(tmp_path / "out.mp4")], stderr=subprocess.PIPE, text=True, env=env)
    try:
        partial = tmp_path / ".r.part.jsonl"
        deadline = time.monotonic() + 120
        while not (partial.is_file() and len(partial.read_text().splitlines()) >= 5):
            assert time.monotonic() < deadline and process.poll() is None, "tracking never started"
            time.sleep(0.05)
        process.send_signal(getattr(signal, signal_name))
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code and f"stopped by {signal_name}" in stderr
    rows = len((tmp_path / "r.jsonl").read_text().splitlines())
    assert 5 <= rows < 60 * CLIP.frames
    # The video was finalised (playable, with its index) and holds every frame processed.
    assert count_frames(tmp_path / "out.mp4")[0] >= rows - 1


def test_demo_command(tmp_path):
    result = siamtrack("demo", "--output", tmp_path / "demo.mp4", "--device", "cpu", "--threads", "2",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    frame_lines = [line for line in lines if line.startswith("frame ")]
    assert len(frame_lines) == 119
    mean = float(next(line for line in lines if line.startswith("mean IoU")).split(":")[1].split()[0])
    assert mean > 0.5
    assert count_frames(tmp_path / "demo.mp4")[0] == 120
    # The README quotes what the quick start's demo prints: it must stay true.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for line in lines:
        if line.startswith(("mean IoU", "(IoU:")):
            assert line in readme, line


def test_demo_uses_the_given_tracker_config(tmp_path):
    result = siamtrack("demo", "--output", "-", "--device", "cpu", "--config", "single-pass", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "config single-pass" in next(line for line in result.stdout.splitlines() if line.startswith("mean IoU"))
    result = siamtrack("demo", "--output", "-", "--config", "no-such-preset", cwd=tmp_path)
    assert result.returncode == 2 and "no-such-preset" in result.stderr  # 2: bad input or settings
    assert len(result.stderr.strip().splitlines()) == 1


def test_several_boxes_give_one_row_per_target_and_frame(tmp_path, video, model, clip):
    second = "10,10,30,24"
    result = siamtrack("track", video, "--box", box_text(clip), "--box", second, "--model", model,
                       "--device", "cpu", "--results", tmp_path / "r.txt", "--results", tmp_path / "r.jsonl",
                       "--output", tmp_path / "out.avi", "--quiet")
    assert result.returncode == 0, result.stderr
    mot = [line.split(",") for line in (tmp_path / "r.txt").read_text().splitlines()]
    assert len(mot) == 2 * CLIP.frames
    assert [(int(row[0]), int(row[1])) for row in mot[:4]] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert [float(v) for v in mot[1][2:6]] == pytest.approx([11, 11, 30, 24])  # MOT is 1-based
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert {r["target"] for r in rows} == {1, 2}
    assert count_frames(tmp_path / "out.avi")[0] == CLIP.frames


def test_one_bad_box_among_several_is_a_clean_error(tmp_path, video, model, clip):
    result = siamtrack("track", video, "--box", box_text(clip), "--box", "500,500,10,10", "--model", model,
                       "--device", "cpu", "--results", tmp_path / "r.jsonl")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_a_stream_that_stalls_ends_with_exit_3_and_its_results(tmp_path):
    import time

    from tests.stream_server import StreamServer

    with StreamServer(frames=20) as server:
        began = time.monotonic()
        result = siamtrack("track", server.url, "--box", "30,40,40,40", "--results", tmp_path / "r.jsonl",
                           "--reconnect-timeout", "1")
        elapsed = time.monotonic() - began
    assert result.returncode == 3, result.stderr
    assert "the source failed" in result.stderr and elapsed < 30
    assert 0 < len((tmp_path / "r.jsonl").read_text().splitlines()) <= 20


def test_ctrl_c_on_a_stalled_stream_acts_at_once(tmp_path):
    import signal
    import time

    from tests.stream_server import StreamServer

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    with StreamServer(frames=5) as server:
        process = subprocess.Popen([*SIAMTRACK_WITH_CTRL_C, "track", server.url, "--box", "30,40,40,40",
                                    "--results", str(tmp_path / "r.jsonl"), "--reconnect-timeout", "60"],
                                   stderr=subprocess.PIPE, text=True, env=env)
        try:
            partial = tmp_path / ".r.part.jsonl"
            deadline = time.monotonic() + 120
            while not (partial.is_file() and partial.read_text().count("\n") >= 3):
                assert time.monotonic() < deadline and process.poll() is None, "tracking never started"
                time.sleep(0.05)
            time.sleep(1.0)  # the stream is silent now; the reader waits on it
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            stderr = ""
            while "interrupted" not in stderr and process.poll() is None:  # until it says it stopped
                stderr += process.stderr.readline()
            took = time.monotonic() - sent
            stderr += process.communicate(timeout=30)[1]
        finally:
            process.kill()
    assert process.returncode == 130 and "interrupted" in stderr, stderr
    assert took < 1.0, f"Ctrl-C took {took:.2f} s"  # outputs finalised; interpreter exit comes after
    assert (tmp_path / "r.jsonl").is_file()


def test_names_with_control_characters_are_escaped_in_the_one_line_error(tmp_path, model, clip):
    name = tmp_path / "bad\nname\x1b[2J.mp4"  # a newline and a terminal "clear screen"
    result = siamtrack("track", name, "--box", box_text(clip), "--model", model, "--device", "cpu")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "\x1b" not in result.stderr
    assert "bad\\nname\\x1b[2J.mp4" in result.stderr


def test_start_past_the_end_says_so(tmp_path, video, model, clip):
    result = siamtrack("track", video, "--box", box_text(clip), "--model", model, "--device", "cpu", "--start", 40)
    assert result.returncode == 2
    assert "start frame 40 is past the end" in result.stderr and "holds 16 frames" in result.stderr
    assert "damaged" not in result.stderr


def test_a_folder_whose_images_change_size_stops_with_the_command_lines_words(tmp_path, model, clip):
    folder = tmp_path / "frames"
    folder.mkdir()
    frames, boxes = clip
    for index, image in enumerate(frames[:6]):
        cv2.imwrite(str(folder / f"{index:04d}.png"), image if index < 4 else cv2.resize(image, (200, 150)))
    result = siamtrack("track", folder, "--box", box_text(clip), "--model", model, "--device", "cpu",
                       "--results", tmp_path / "r.jsonl")
    assert result.returncode == 2
    assert "0004.png is 200x150, but the images before it" in result.stderr
    assert "init()" not in result.stderr and "remove the targets" not in result.stderr
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 4  # what was tracked is kept


def test_json_results_are_refused_with_the_formats(tmp_path, video, model, clip):
    result = siamtrack("track", video, "--box", box_text(clip), "--model", model, "--device", "cpu",
                       "--results", tmp_path / "r.json")
    assert result.returncode == 2 and ".jsonl" in result.stderr and not (tmp_path / "r.json").exists()
