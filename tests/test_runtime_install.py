"""The runtime install (numpy, OpenCV, ONNX Runtime; no PyTorch): every command that needs no
training or export works there. The CLI runs in a subprocess in which importing torch fails."""

import json
import subprocess
import sys

import cv2
import numpy as np

from tests.test_cli_eval import make_otb

# ``sys.modules[name] = None`` makes every ``import name`` raise ImportError, as on a machine
# where torch was never installed.
NO_TORCH = "import sys; sys.modules['torch'] = None; from siamtrack.cli import main; sys.exit(main(sys.argv[1:]))"


def run_without_torch(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", NO_TORCH, *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def write_clip(path, frames=12, size=(160, 120)):
    """An mp4 of a yellow square moving right over a grey background."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
    for index in range(frames):
        frame = np.full((size[1], size[0], 3), 50, np.uint8)
        frame[40:80, 30 + 3 * index:70 + 3 * index] = (40, 190, 230)
        writer.write(frame)
    writer.release()
    return path


def test_torch_really_is_unavailable():
    result = subprocess.run([sys.executable, "-c", "import sys; sys.modules['torch'] = None; import torch"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_demo_without_torch(tmp_path):
    result = run_without_torch("demo", "--output", tmp_path / "demo.mp4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "backend onnx" in result.stdout and (tmp_path / "demo.mp4").stat().st_size > 0


def test_track_without_torch(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4")
    result = run_without_torch("track", clip, "--box", "30,40,40,40", "--results", tmp_path / "out.jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and rows[-1]["box"][0] > 40  # the box moved with the object


def test_eval_without_torch_writes_its_report(tmp_path):
    data = make_otb(tmp_path / "data")
    result = run_without_torch("eval", data, "--trackers", "siamtrack,kcf", "--report", tmp_path / "rep",
                               "--threads", "1")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert set(report["summary"]) == {"siamtrack", "kcf"}
    assert report["environment"]["opencv"] == cv2.__version__


def test_weights_info_on_an_export_folder_without_torch():
    from siamtrack.model.builtin import PROJECT_WEIGHTS_DIR

    result = run_without_torch("weights", "info", PROJECT_WEIGHTS_DIR / "siamtrack-default-onnx")
    assert result.returncode == 0, result.stderr
    assert "checksums in checksums.json verified" in result.stdout and "architecture:" in result.stdout
