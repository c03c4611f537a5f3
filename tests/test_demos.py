"""The scripts in demos/ run as documented (webcam needs a camera and display: import only)."""

import importlib.util
import io
import json
from pathlib import Path

import pytest

from siamtrack.outputs import VideoSink
from siamtrack.synthetic import ClipSpec, make_clip
from siamtrack.weights import save_weights

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
