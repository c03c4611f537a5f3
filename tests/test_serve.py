"""``siamtrack serve``: its HTTP API and its safety rules, against a real server process (uvicorn) on a
generated clip."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from siamtrack.app.synthetic import ClipSpec, make_clip
from siamtrack.io.outputs import VideoSink

httpx = pytest.importorskip("httpx", reason="the serve tests need httpx (the test extra)")
pytest.importorskip("fastapi", reason="siamtrack serve needs fastapi and uvicorn (pip install 'siamtrack[serve]')")

SPEC = ClipSpec(frames=200, width=320, height=240, object_size=(48, 36), seed=4, scale_range=(1.0, 1.0))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_clip(folder, spec=SPEC):
    frames, truth = make_clip(spec)
    path = folder / "clip.avi"
    with VideoSink(path, 25.0, (spec.width, spec.height)) as sink:
        for frame in frames:
            sink.write(frame)
    return path, truth


class Served:
    """``siamtrack serve`` as a child process, with an HTTP client for it."""

    def __init__(self, folder, *args, token=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "SIAMTRACK_TOKEN")}
        if token:
            env["SIAMTRACK_TOKEN"] = token
        self.process = subprocess.Popen([sys.executable, "-m", "siamtrack.cli", "serve", *map(str, args),
                                         "--port", str(self.port), "--device", "cpu"],
                                        stderr=subprocess.PIPE, text=True, env=env, cwd=folder)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=self.url, timeout=15, headers=headers)
        deadline = time.monotonic() + 90
        while True:
            assert self.process.poll() is None, self.process.stderr.read()
            try:
                streams = self.client.get("/api/streams").json()
                if streams[0]["frame"] >= 0:
                    break
            except (httpx.TransportError, KeyError, IndexError):
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def close(self):
        self.client.close()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    clip, truth = write_clip(folder)
    server = Served(folder, clip, "--loop", "--max-targets", "2", "--results", folder / "r.jsonl",
                    "--events", folder / "e.jsonl")
    server.folder, server.truth = folder, truth
    yield server
    server.close()


def test_streams_are_listed_with_their_state(served):
    streams = served.client.get("/api/streams").json()
    assert len(streams) == 1 and streams[0]["id"] == 0 and streams[0]["name"] == "0-clip"
    assert (streams[0]["width"], streams[0]["height"]) == (320, 240) and streams[0]["status"] == "live"
    assert served.client.get("/api/streams/0").json()["name"] == "0-clip"


def test_add_follow_and_remove_a_target(served):
    box = [round(v, 1) for v in served.truth[0]]
    added = served.client.post("/api/streams/0/targets", json={"box": box})
    assert added.status_code == 201
    target = added.json()["id"]
    time.sleep(1.0)
    state = served.client.get("/api/streams/0").json()
    assert [t["id"] for t in state["targets"]] == [target]
    assert served.client.delete(f"/api/streams/0/targets/{target}").status_code == 204
    assert served.client.get("/api/streams/0").json()["targets"] == []
    assert served.client.delete(f"/api/streams/0/targets/{target}").status_code == 404


def test_snapshot_is_a_jpeg(served):
    snapshot = served.client.get("/api/streams/0/snapshot.jpg")
    assert snapshot.status_code == 200 and snapshot.headers["content-type"] == "image/jpeg"
    assert snapshot.content[:2] == b"\xff\xd8"


def test_results_arrive_as_server_sent_events(served):
    seen = []
    with served.client.stream("GET", "/api/results") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[len("data: "):]))
            if len(seen) >= 3:
                break
    assert len({state["frame"] for state in seen}) >= 2  # new frames keep coming


def test_the_video_streams_jpeg_frames(served):
    with served.client.stream("GET", "/api/streams/0/video.mjpg") as stream:
        assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
        received = b""
        for chunk in stream.iter_bytes():
            received += chunk
            if received.count(b"\xff\xd8") >= 2:
                break
    assert received.startswith(b"--frame")


def test_the_api_is_described_by_openapi(served):
    paths = served.client.get("/openapi.json").json()["paths"]
    assert {"/api/streams", "/api/streams/{stream}/targets", "/api/results"} <= set(paths)


@pytest.mark.parametrize("method, path, body, status, words", [
    ("post", "/api/streams/0/targets", {"box": [1, 2]}, 422, "at least 4"),
    ("post", "/api/streams/0/targets", {"box": [10, 10, -5, 5]}, 422, "positive"),
    ("post", "/api/streams/0/targets", {"box": [10, 10, "x", 5]}, 422, "invalid request"),
    ("post", "/api/streams/7/targets", {"box": [10, 10, 20, 20]}, 404, "no stream 7"),
    ("get", "/api/streams/3", None, 404, "no stream 3"),
    ("get", "/api/streams/zero", None, 422, "invalid request"),
    ("delete", "/api/streams/0/targets/99", None, 404, "no target 99"),
])
def test_bad_requests_get_4xx_and_one_line_json(served, method, path, body, status, words):
    time.sleep(0.2)  # stay under the change rate limit
    response = getattr(served.client, method)(path, **({"json": body} if body is not None else {}))
    assert response.status_code == status and words in response.json()["error"]
    assert "\n" not in response.json()["error"]


def test_malformed_and_oversized_bodies_are_refused_and_the_server_goes_on(served):
    time.sleep(1.1)
    garbage = served.client.post("/api/streams/0/targets", content=b"{not json", headers={
        "Content-Type": "application/json"})
    assert garbage.status_code == 422
    huge = served.client.post("/api/streams/0/targets", content=b"x" * 100_000, headers={
        "Content-Type": "application/json"})
    assert huge.status_code == 413 and "4096" in huge.json()["error"]
    assert served.client.get("/api/streams").status_code == 200


def test_targets_per_stream_and_changes_per_second_are_limited(served):
    time.sleep(1.1)
    box = {"box": [100, 100, 40, 40]}
    ids = [served.client.post("/api/streams/0/targets", json=box).json()["id"] for _ in range(2)]
    full = served.client.post("/api/streams/0/targets", json=box)
    assert full.status_code == 409 and "the most allowed" in full.json()["error"]
    for target in ids:
        served.client.delete(f"/api/streams/0/targets/{target}")
    answers = [served.client.delete("/api/streams/0/targets/12345").status_code for _ in range(12)]
    assert 429 in answers  # more than 10 changes in a second
    time.sleep(1.1)
    assert served.client.get("/api/streams").status_code == 200


def test_results_and_events_reach_their_files_when_the_server_stops(tmp_path):
    clip, truth = write_clip(tmp_path)
    server = Served(tmp_path, clip, "--results", tmp_path / "r.jsonl", "--events", tmp_path / "e.jsonl")
    assert server.client.post("/api/streams/0/targets", json={"box": list(truth[0])}).status_code == 201
    time.sleep(1.0)
    server.close()
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    events = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert rows and {row["target"] for row in rows} == {1}
    assert [event["event"] for event in events][0] == "started" and events[-1]["event"] == "ended"


def test_a_token_guards_every_request_the_page_included(tmp_path):
    clip, _ = write_clip(tmp_path)
    server = Served(tmp_path, clip, "--loop", token="s3cret")
    try:
        bare = httpx.get(f"{server.url}/api/streams")
        assert bare.status_code == 401 and "token is required" in bare.json()["error"]
        assert httpx.get(f"{server.url}/").status_code == 401
        assert httpx.get(f"{server.url}/api/streams", params={"token": "wrong"}).status_code == 401
        assert httpx.get(f"{server.url}/api/streams", params={"token": "s3cret"}).status_code == 200
        assert server.client.get("/api/streams").status_code == 200  # Authorization: Bearer
        assert httpx.get(f"{server.url}/", params={"token": "s3cret"}).status_code == 200
    finally:
        server.close()


def test_binding_beyond_this_machine_needs_a_token(tmp_path):
    clip, _ = write_clip(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "SIAMTRACK_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "siamtrack.cli", "serve", str(clip), "--host", "0.0.0.0",
                             "--port", str(free_port())], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and "--token" in result.stderr and len(result.stderr.strip().splitlines()) == 1
