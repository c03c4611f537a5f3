"""``siamtrack track`` against a real RTSP camera (GStreamer's RTSP server on 127.0.0.1, H.264 over
RTP): TCP and UDP transport, a camera that restarts, one that stays down, one that never answers."""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.rtsp_server import RtspCamera, unavailable
from tests.stream_server import StreamServer

REASON = unavailable()
pytestmark = pytest.mark.skipif(bool(REASON), reason=REASON or "RTSP server available")


def start_tracking(url, model, results, *extra):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    return subprocess.Popen([sys.executable, "-m", "siamtrack.cli", "track", url, "--box", "140,100,40,40",
                             "--model", str(model), "--device", "cpu", "--results", str(results), *map(str, extra)],
                            stderr=subprocess.PIPE, text=True, env=env)


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for_rows(tmp_path, process, count=5, timeout=60):
    """Until the run's temporary results file holds ``count`` rows."""
    deadline = time.monotonic() + timeout
    while True:
        partial = [p for p in tmp_path.iterdir() if p.name.startswith(".r.part")]
        if partial and len(partial[0].read_text().splitlines()) >= count:
            return
        assert process.poll() is None and time.monotonic() < deadline, "no results arrived"
        time.sleep(0.1)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_track_an_rtsp_camera_over_each_transport(tmp_path, model, transport):
    # The server offers only this transport, so the run works only if the client uses it.
    with RtspCamera(protocols=transport) as camera:
        process = start_tracking(camera.url, model, tmp_path / "r.jsonl", "--end", 50, "--rtsp-transport", transport)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    got = rows(tmp_path / "r.jsonl")
    assert len(got) > 10 and all(len(row["box"]) == 4 for row in got)
    assert "dropped to stay current" in stderr


def test_the_other_transport_is_refused_by_a_camera_that_offers_one(tmp_path, model):
    with RtspCamera(protocols="tcp") as camera:
        process = start_tracking(camera.url, model, tmp_path / "r.jsonl", "--rtsp-transport", "udp",
                                 "--reconnect-timeout", 2)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2 and "cannot open" in stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_a_camera_that_restarts_is_reconnected_and_the_lost_frames_counted(tmp_path, model):
    with RtspCamera() as camera:
        process = start_tracking(camera.url, model, tmp_path / "r.jsonl", "--end", 200, "--reconnect-timeout", 10,
                                 "--rtsp-transport", "tcp")
        wait_for_rows(tmp_path, process)
        camera.restart(down_for=2.0)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "stream lost; reopening" in stderr and "reconnected after" in stderr
    summary = stderr.strip().splitlines()[-2]  # "tracked ... reconnected 1 time(s), about N frames lost ..."
    assert "reconnected 1 time(s)" in summary
    lost = int(summary.split("about ")[1].split(" frames lost")[0])
    assert 25 <= lost <= 200  # 2 s down at 25 fps, plus the time to notice and to reopen
    got = rows(tmp_path / "r.jsonl")
    assert got[-1]["frame"] > got[0]["frame"] + 50


@pytest.mark.slow
def test_a_camera_that_stays_down_ends_the_run_with_exit_3_in_the_documented_time(tmp_path, model):
    timeout = 2.0
    with RtspCamera() as camera:
        process = start_tracking(camera.url, model, tmp_path / "r.jsonl", "--reconnect-timeout", timeout,
                                 "--rtsp-transport", "tcp")
        wait_for_rows(tmp_path, process)
        camera.stop()
        stopped = time.monotonic()
        _, stderr = process.communicate(timeout=60)
        took = time.monotonic() - stopped
    assert process.returncode == 3, stderr
    # No frame for 2 x reconnect-timeout + 1 s ends the run (the README's bound); a second for the rest.
    assert took <= 2 * timeout + 1 + 1.5, took
    assert "the source failed" in stderr and len(rows(tmp_path / "r.jsonl")) >= 5  # results finalised


def test_a_server_that_accepts_and_never_answers_is_a_one_line_error_in_bounded_time(tmp_path, model):
    silent = StreamServer(frames=0)  # accepts TCP connections, never says a word
    url = silent.url.replace("http://", "rtsp://")
    try:
        began = time.monotonic()
        process = start_tracking(url, model, tmp_path / "r.jsonl", "--reconnect-timeout", 2)
        _, stderr = process.communicate(timeout=60)
        took = time.monotonic() - began
    finally:
        silent.close()
    assert process.returncode == 2 and len(stderr.strip().splitlines()) == 1 and "cannot open" in stderr
    assert took < 15
    assert not (tmp_path / "r.jsonl").exists()
