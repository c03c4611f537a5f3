"""``siamtrack serve`` as an operator would attack it (#40): outputs over the source, a full disk,
DNS rebinding, oversized chunked bodies, credentials in URLs, forwarded addresses, signals, ports.
Every case runs the real command (uvicorn) on a generated clip."""

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from siamtrack.files import redact_credentials
from tests.test_output_faults import full_disk  # noqa: F401  (a fixture: a 200 KB tmpfs)
from tests.test_serve import Served, free_port, httpx, write_clip


@pytest.fixture()
def looping(tmp_path):
    """``siamtrack serve`` on a generated clip played in a loop, stopped after the test."""
    clip, _ = write_clip(tmp_path)
    server = Served(tmp_path, clip, "--loop")
    yield server
    server.close()


def serve_once(tmp_path, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "siamtrack.cli", "serve", *map(str, args), "--port",
                           str(free_port()), "--device", "cpu"], capture_output=True, text=True, timeout=timeout,
                          cwd=tmp_path)


def test_an_output_that_is_the_source_or_another_output_is_refused(tmp_path):
    clip, _ = write_clip(tmp_path)
    before = clip.read_bytes()
    for args in (("--results", clip), ("--events", clip), ("--results", tmp_path / "x.jsonl", "--events",
                                                            tmp_path / "x.jsonl")):
        result = serve_once(tmp_path, clip, "--loop", *args)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert clip.read_bytes() == before and not (tmp_path / "x.jsonl").exists()


def test_results_grow_while_the_server_runs_and_a_cut_last_line_is_mended(tmp_path):
    clip, truth = write_clip(tmp_path)
    results = tmp_path / "r.jsonl"
    results.write_text('{"frame": 1}\n{"frame": 2, "tar')  # what a killed server leaves
    server = Served(tmp_path, clip, "--loop", "--results", results)
    try:
        assert server.client.post("/api/streams/0/targets", json={"box": list(truth[0])}).status_code == 201
        time.sleep(1.0)
        lines = results.read_text().splitlines()  # while it runs: the named file, no hidden part
        assert lines[0] == '{"frame": 1}' and len(lines) > 5
        assert all(json.loads(line) for line in lines)
    finally:
        server.close()


def test_a_full_disk_is_reported_by_the_api_and_ends_the_server_with_exit_4(tmp_path, full_disk):  # noqa: F811
    clip, truth = write_clip(tmp_path)
    (full_disk / "filler").write_bytes(b"x" * 150_000)
    server = Served(tmp_path, clip, "--loop", "--results", full_disk / "r.jsonl")
    try:
        for _ in range(4):
            server.client.post("/api/streams/0/targets", json={"box": list(truth[0])})
        code = server.process.wait(timeout=60)
        stderr = server.process.stderr.read()
    finally:
        server.client.close()
        if server.process.poll() is None:
            server.process.kill()
    assert code == 4, stderr
    assert "No space left" in stderr and "Traceback" not in stderr
    kept = (full_disk / "r.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in kept)  # whole rows only


def test_foreign_host_names_and_cross_origin_changes_are_refused(tmp_path):
    clip, truth = write_clip(tmp_path)
    server = Served(tmp_path, clip, "--loop", "--allow-host", "tracker.lan")
    try:
        foreign = httpx.get(f"{server.url}/api/streams", headers={"Host": "evil.example.com"})
        assert foreign.status_code == 421 and "host name" in foreign.json()["error"]
        assert httpx.get(f"{server.url}/api/streams", headers={"Host": "tracker.lan:8000"}).status_code == 200
        assert httpx.get(f"{server.url}/api/streams", headers={"Host": "localhost"}).status_code == 200
        post = server.client.post("/api/streams/0/targets", json={"box": list(truth[0])},
                                  headers={"Origin": "http://evil.example.com"})
        assert post.status_code == 403
        own = server.client.post("/api/streams/0/targets", json={"box": list(truth[0])},
                                 headers={"Origin": server.url})
        assert own.status_code == 201
    finally:
        server.close()


def test_a_chunked_body_is_limited_by_what_is_read(looping):
    def chunks():
        for _ in range(100):
            yield b"x" * 10_000

    response = looping.client.post("/api/streams/0/targets", content=chunks(),
                                   headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    for box in (["1", "2", "3", "4"], [True, 1, 2, 3]):
        assert looping.client.post("/api/streams/0/targets", json={"box": box}).status_code == 422
    extra = looping.client.post("/api/streams/0/targets", json={"box": [10, 10, 20, 20], "color": "red"})
    assert extra.status_code == 422
    assert looping.client.get("/api/streams").status_code == 200  # and it goes on


def test_forwarded_addresses_do_not_get_round_the_change_limit(looping):
    # Changes that fail fast (no such stream), each claiming another client address.
    codes = [looping.client.delete("/api/streams/9/targets/1", headers={"X-Forwarded-For": f"10.0.0.{i}"}
                                   ).status_code for i in range(20)]
    assert codes.count(429) >= 5, codes


def test_credentials_in_a_camera_url_are_never_shown(tmp_path):
    assert redact_credentials("rtsp://admin:pw@cam.local/live and http://u@h/x") == \
        "rtsp://***@cam.local/live and http://***@h/x"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never answers: the stream fails
    port = free_port()
    url = f"rtsp://admin:hunter2@127.0.0.1:{listener.getsockname()[1]}"
    process = subprocess.Popen([sys.executable, "-m", "siamtrack.cli", "serve", url, "--reconnect-timeout", "1",
                                "--rtsp-transport", "tcp", "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        deadline, shown = time.monotonic() + 90, ""
        while time.monotonic() < deadline:
            try:
                shown = httpx.get(f"http://127.0.0.1:{port}/api/streams", timeout=5).text
                if '"reconnecting"' in shown and "cannot open" in shown:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert '"reconnecting"' in shown and "hunter2" not in shown and "***" in shown
        assert "hunter2" not in httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text
    finally:
        listener.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert "hunter2" not in stderr


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_stop_signals_end_the_server_with_their_exit_codes(tmp_path, signum, code):
    clip, truth = write_clip(tmp_path)
    server = Served(tmp_path, clip, "--loop", "--results", tmp_path / "r.jsonl")
    assert server.client.post("/api/streams/0/targets", json={"box": list(truth[0])}).status_code == 201
    watching = httpx.Client(base_url=server.url, timeout=10)
    with watching.stream("GET", "/api/streams/0/video.mjpg") as feed:  # a viewer connected at the stop
        next(feed.iter_bytes())
        server.process.send_signal(signum)
        returned = server.process.wait(timeout=30)
    stderr = server.process.stderr.read()
    server.client.close()
    assert returned == code, stderr
    assert "Traceback" not in stderr
    assert (tmp_path / "r.jsonl").read_text().strip()


@pytest.mark.parametrize("args, words", [(("--port", "70000"), "65535"), (("--reconnect-timeout", "nan"), "finite"),
                                         (("--reconnect-timeout", "inf"), "finite")])
def test_bad_numbers_are_one_line_usage_errors(tmp_path, args, words):
    clip, _ = write_clip(tmp_path)
    result = subprocess.run([sys.executable, "-m", "siamtrack.cli", "serve", str(clip), *args], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_a_one_line_error(tmp_path):
    clip, _ = write_clip(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = subprocess.run([sys.executable, "-m", "siamtrack.cli", "serve", str(clip), "--port",
                                 str(taken.getsockname()[1])], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "cannot listen" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "serving" not in result.stderr


def test_the_reported_fps_is_the_sources_pace():
    """A 25 fps file is played in real time: the page's figure is frames over elapsed time, within 10 %."""
    from siamtrack.app.progress import FrameRate

    rate, now, shown = FrameRate(window=2.0), 0.0, 0.0
    for index in range(100):  # uneven intervals around 40 ms: 10, 70, 10, 70, ...
        now += 0.010 if index % 2 else 0.070
        shown = rate.tick(now)
    assert shown == pytest.approx(25.0, rel=0.05)


def test_a_paced_file_reads_at_its_own_frame_rate(looping):  # the clip is 25 fps
    time.sleep(3.0)
    fps = looping.client.get("/api/streams").json()[0]["fps"]
    assert fps == pytest.approx(25.0, rel=0.10)


def test_the_api_page_works_offline(looping):
    page = looping.client.get("/docs")
    assert page.status_code == 200 and "openapi.json" in page.text
    assert "src=\"http" not in page.text and "href=\"http" not in page.text  # nothing from a CDN
    assert "/api/streams/{stream}/targets" in looping.client.get("/openapi.json").text


def test_a_camera_that_is_down_at_start_is_tried_again_until_it_is_up(tmp_path):
    from tests.stream_server import StreamServer

    camera_port, port = free_port(), free_port()
    url = f"http://127.0.0.1:{camera_port}/stream.mjpg"
    process = subprocess.Popen([sys.executable, "-m", "siamtrack.cli", "serve", url, "--port", str(port),
                                "--reconnect-timeout", "1"], stderr=subprocess.PIPE, text=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)

    def status():
        try:
            return client.get("/api/streams").json()[0]["status"]
        except httpx.TransportError:
            return "starting"

    try:
        deadline = time.monotonic() + 60
        while status() != "reconnecting" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert status() == "reconnecting"
        with StreamServer(frames=400, port=camera_port):  # the camera comes up
            deadline = time.monotonic() + 60
            while status() not in ("live", "waiting") and time.monotonic() < deadline:
                time.sleep(0.3)
            assert status() in ("live", "waiting")
    finally:
        client.close()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_results_and_events_rotate_by_size(tmp_path):
    clip, truth = write_clip(tmp_path)
    server = Served(tmp_path, clip, "--loop", "--results", tmp_path / "r.jsonl", "--events", tmp_path / "e.jsonl",
                    "--rotate-mb", "0.002")
    try:
        assert server.client.post("/api/streams/0/targets", json={"box": list(truth[0])}).status_code == 201
        time.sleep(3.0)
    finally:
        server.close()
    parts = sorted(tmp_path.glob("r.*.jsonl"))  # NAME.<date-time, to the millisecond>.EXT sorts by time
    assert len(parts) >= 2
    rows = [json.loads(line) for path in [*parts, tmp_path / "r.jsonl"] for line in path.read_text().splitlines()]
    frames = [row["frame"] for row in rows]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)  # nothing lost, nothing twice
    assert all(path.stat().st_size < 2000 + 200 for path in parts)
    assert (tmp_path / "e.jsonl").is_file()


def test_a_target_on_an_ended_stream_is_refused(tmp_path):
    from siamtrack.app.synthetic import ClipSpec

    clip, truth = write_clip(tmp_path, ClipSpec(frames=20, width=320, height=240, object_size=(48, 36), seed=4,
                                               scale_range=(1.0, 1.0)))
    server = Served(tmp_path, clip)  # no --loop: the file ends after 20 frames
    try:
        deadline = time.monotonic() + 30
        while server.client.get("/api/streams").json()[0]["status"] != "ended" and time.monotonic() < deadline:
            time.sleep(0.2)
        refused = server.client.post("/api/streams/0/targets", json={"box": list(truth[0])})
        assert refused.status_code == 409 and "ended" in refused.json()["error"]
    finally:
        server.close()
