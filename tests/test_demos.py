"""The scripts in demos/ run as documented (webcam needs a camera and display: import only)."""

import importlib.util
import io
import json
from pathlib import Path

import pytest

from siamtrack.app.synthetic import ClipSpec, make_clip
from siamtrack.io.outputs import VideoSink
from siamtrack.model.weights import save_weights

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def load(name):
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMOS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def videos(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    truths = {}
    for seed in (1, 2):
        frames, boxes = make_clip(ClipSpec(frames=8, width=160, height=120, object_size=(32, 24), seed=seed))
        with VideoSink(folder / f"cam{seed}.avi", 25, (160, 120)) as sink:
            for frame in frames:
                sink.write(frame)
        truths[f"cam{seed}.avi"] = [float(v) for v in boxes[0]]
    (folder / "unlisted.avi").write_bytes((folder / "cam1.avi").read_bytes())
    return folder, truths


def test_batch_folder(tmp_path, videos, tiny_weights):
    folder, truths = videos
    model = save_weights(tiny_weights, tmp_path / "m.pth")
    (tmp_path / "boxes.json").write_text(json.dumps(truths))
    outcomes = load("batch_folder").process_folder(folder, tmp_path / "boxes.json", tmp_path / "out", "csv",
                                                    model=str(model))
    assert outcomes["unlisted.avi"].startswith("skipped")
    for name in truths:
        assert outcomes[name].startswith("8 frames")
        assert len((tmp_path / "out" / f"{Path(name).stem}.csv").read_text().splitlines()) == 9


def test_pipeline_embed(tmp_path, videos, tiny_weights):
    folder, truths = videos
    model = save_weights(tiny_weights, tmp_path / "m.pth")
    out = io.StringIO()
    count = load("pipeline_embed").run_pipeline(str(folder / "cam1.avi"), tuple(truths["cam1.avi"]), str(model), out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == 8 and [r["frame"] for r in rows] == list(range(8))


def test_webcam_demo_imports():
    assert callable(load("webcam").track_webcam)


def test_surveillance_pipeline(tmp_path, videos, tiny_weights):
    folder, truths = videos
    model = save_weights(tiny_weights, tmp_path / "m.pth")
    streams = {str(folder / "cam1.avi"): [truths["cam1.avi"], [5, 5, 30, 30]],
               str(folder / "cam2.avi"): [truths["cam2.avi"]]}
    rows = load("surveillance_pipeline").run(streams, tmp_path / "out", model=str(model), backend="torch")
    assert rows == {str(folder / "cam1.avi"): 16, str(folder / "cam2.avi"): 8}
    lines = [json.loads(line) for line in (tmp_path / "out" / "cam1.jsonl").read_text().splitlines()]
    assert [(r["frame"], r["target"]) for r in lines[:4]] == [(0, 1), (0, 2), (1, 1), (1, 2)]


def test_surveillance_pipeline_generated_streams(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # as the README runs it: no --output-dir
    code = load("surveillance_pipeline").main(["--generate", "2"])
    assert code == 0
    out = tmp_path / "surveillance-results"
    assert sorted(p.name for p in out.iterdir()) == ["camera1.events.jsonl", "camera1.jsonl",
                                                      "camera2.events.jsonl", "camera2.jsonl"]
    # camera2 starts from its detector; its object leaves the view and comes back.
    events = [json.loads(line) for line in (out / "camera2.events.jsonl").read_text().splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "started" and events[0]["class"] == "object" and kinds[-1] == "ended"
    assert "reacquired" in kinds and kinds.index("reacquired") > kinds.index("lost")
